"""Print the finance figures the dashboard and the API show."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smi_core.cli_output import console, human_table_print, rows_print
from smi_core.exceptions import ApplicationError
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute
from smi_core.selectors.finance.tables import table_for
from smi_core.templatetags.smi_format import human_table, quantity


class Command(BaseCommand):
    help = "Print inventory value, FX, intercompany, turnover, service, continuity and cash-out figures."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default today)")
        parser.add_argument("--start", help="period start (default 13 weeks before --as-of)")
        parser.add_argument("--end", help="period end (default --as-of)")
        parser.add_argument("--supplier")
        parser.add_argument("--buyer")
        parser.add_argument("--currency")
        parser.add_argument("--weeks", help="cash-flow weeks (default 12)")
        parser.add_argument(
            "--figure", action="append", choices=list(FIGURES), help="only these (repeatable)"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        params = {
            k: o[k]
            for k in ("as_of", "start", "end", "supplier", "buyer", "currency", "weeks")
            if o.get(k)
        }
        names = o["figure"] or list(FIGURES)
        try:
            report = {
                name: figure_compute(name, scope=FinanceScope.everything(), params=params)
                for name in names
            }
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if o["json"]:
            self.stdout.write(json.dumps(report, indent=2, default=str))
            return
        out = console(self.stdout)
        ages = next((d["data_age"] for d in report.values() if d.get("data_age")), [])
        if ages:
            rows_print(
                out,
                ["Partner", "Last stock report", "Age (days)", "Stale after (days)", "Stale"],
                [
                    (
                        a["partner"],
                        str(a["last_report"] or "—"),
                        str(a["age_days"] if a["age_days"] is not None else "—"),
                        str(a["stale_after_days"]),
                        "STALE" if a["stale"] else "no",
                    )
                    for a in ages
                ],
                title="Data per partner (stock carried forward from its last 852)",
                title_justify="left",
            )
        for name, data in report.items():
            out.print(f"\n[bold]{FIGURES[name].title}[/bold] ({name})")
            for line in _notes(data):
                out.print(f"  ! {line}", soft_wrap=True, markup=False)
            currency = data.get("reporting_currency") or settings.SMI_REPORTING_CURRENCY
            human_table_print(out, human_table(table_for(name, data), reporting_currency=currency))


def _notes(data: dict) -> list[str]:
    """What a reader of a figure must know: stale partners, old rates, negative stock,
    items left out for want of a cost, and how DIO counted its days."""
    notes = []
    if data.get("stale_partners"):
        notes.append(
            "stale: " + ", ".join(data["stale_partners"]) + " (last report older than cadence "
            "+ grace; their stock is carried forward, not counted as zero)"
        )
    notes += [w["message"] for w in data.get("rate_warnings", [])]
    for n in data.get("negative_on_hand", []):
        notes.append(
            f"negative on hand {quantity(n['on_hand'])} of {n['item']} at {n['location']} valued at 0"
        )
    for key in ("positions_without_cost", "left_out_no_cost"):
        for m in data.get(key, []):
            units = quantity(m.get("quantity") or m.get("on_hand"))
            notes.append(f"no unit cost: {m['item']} at {m['location']} ({units}) left out")
    overall = data.get("overall") or {}
    if "days_covered" in overall:
        notes.append(
            f"DIO over {quantity(overall['days_covered'])} days covered by data "
            f"(window {overall['calendar_days']} days): {overall['dio_rule']}"
        )
    return notes
