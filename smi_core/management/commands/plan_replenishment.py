"""Plan replenishment by hand."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from smi_core.cli_output import progress_bar
from smi_core.models import Party, PlanRun
from smi_core.selectors.planning_output import proposal_as_dict
from smi_core.services.planning import plan_replenishment
from smi_core.templatetags.smi_format import money, quantity


class Command(BaseCommand):
    help = "Forecast, compute policies and propose replenishment for every item-location under an agreement in force."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", type=date.fromisoformat, help="planning date (default today), YYYY-MM-DD"
        )
        parser.add_argument("--partner", help="only agreements with this buyer or supplier code")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        if o["partner"] and not Party.objects.filter(code=o["partner"]).exists():
            raise CommandError(f"no partner {o['partner']!r}")
        as_of = o["as_of"] or timezone.now().date()
        # item-locations planned of how many (the service reports them), then saving
        with progress_bar(self.stderr, f"planning as of {as_of}", None) as advance:
            seen = {"done": 0}

            def progress(done: int, total: int, stage: str) -> None:
                advance(
                    done - seen["done"],
                    total=total,
                    of=f"{total:,}",
                    description=f"{stage} as of {as_of}",
                )
                seen["done"] = done

            result = plan_replenishment(
                as_of=as_of,
                actor="cli:plan_replenishment",
                trigger=PlanRun.Trigger.MANUAL,
                partner_code=o["partner"],
                progress=progress,
            )
        run = result.run
        proposals = [proposal_as_dict(p, lines=True) for p in result.proposals]
        flagged = [
            {"kind": e.kind, "subject": e.subject, "message": e.message} for e in result.exceptions
        ]
        if o["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "run": run.pk,
                        "as_of": str(as_of),
                        "item_locations": run.item_locations,
                        "proposals": proposals,
                        "exceptions": flagged,
                    },
                    indent=2,
                )
            )
            return
        self.stdout.write(
            f"plan #{run.pk} as of {as_of}: {run.item_locations} item-locations, {len(proposals)} proposal(s), {len(flagged)} exception(s)"
        )
        for p in proposals:
            self.stdout.write(
                f"  proposal #{p['id']} {p['supplier']} -> {p['partner']}/{p['ship_to']}: {len(p['lines'])} line(s), {money(p['value'], p['currency'])}"
            )
            for line in p["lines"]:
                e = line["explanation"]
                self.stdout.write(
                    f"    {line['vendor_item']:<12} {quantity(line['quantity']):>8}  (position {quantity(e['inventory_position'])}, "
                    f"reorder point {quantity(e['reorder_point'])}, "
                    f"order up to {quantity(e['order_up_to'])}, "
                    f"demand {quantity(e['demand_per_week'])}/week, {e['forecast_method']})"
                )
        for e in flagged:
            self.stdout.write(f"  ! {e['kind']}: {e['subject']}: {e['message']}")
