"""Replay the replenishment policy over the history with changed assumptions."""

import json
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from smi_core.cli_output import console, rows_print
from smi_core.selectors.finance import Filters, FinanceScope
from smi_core.selectors.reporting_date import reporting_day
from smi_core.selectors.simulation import simulation_run
from smi_core.templatetags.smi_format import simulation_rows


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--{name} {value!r} is not a number") from None


class Command(BaseCommand):
    help = (
        "Replay the policy over the last N weeks with changed assumptions and compare fill "
        "rate, stockouts, inventory value, working capital and carrying cost with the current "
        "policy. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=8)
        parser.add_argument("--demand-factor", dest="demand_factor", default="1")
        parser.add_argument("--lead-time-days", dest="lead_time_days")
        parser.add_argument("--service-level", dest="service_level")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--as-of", dest="as_of", help="YYYY-MM-DD (default the reporting date, else today)"
        )
        parser.add_argument("--supplier")
        parser.add_argument("--buyer")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        if not 1 <= o["weeks"] <= 104:
            raise CommandError("--weeks must be 1 to 104")
        factor = _decimal(o["demand_factor"], "demand-factor")
        if factor <= 0:
            raise CommandError("--demand-factor must be positive")
        level = _decimal(o["service_level"], "service-level")
        if level is not None and not 0 < level < 1:
            raise CommandError("--service-level is a fraction such as 0.97")
        lead = _decimal(o["lead_time_days"], "lead-time-days")
        if lead is not None and lead < 0:
            raise CommandError("--lead-time-days cannot be negative")
        try:
            day = reporting_day(date.fromisoformat(o["as_of"]) if o["as_of"] else None)
        except ValueError:
            raise CommandError(f"--as-of {o['as_of']!r} is not a date (YYYY-MM-DD)") from None
        as_of = day.as_of
        result = simulation_run(
            scope=FinanceScope.everything(),
            filters=Filters(supplier=o["supplier"], buyer=o["buyer"]),
            as_of=as_of,
            weeks=o["weeks"],
            demand_factor=factor,
            lead_time_days=lead,
            service_level=level,
            seed=o["seed"],
        )
        if o["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        out = console(self.stdout)
        out.print(f"Simulated {day.statement()}.", soft_wrap=True, markup=False)
        assumptions = result["assumptions"]
        out.print(
            f"{result['series']} item-locations over {result['weeks']} weeks to "
            f"{result['as_of']}, seed {result['seed']}, values in {result['reporting_currency']}. "
            f"Scenario: demand x {assumptions['demand_factor']}, lead time "
            f"{_assumed(assumptions['lead_time_days'], ' days')}, service level "
            f"{_assumed(assumptions['service_level'], '')}.",
            markup=False,
        )
        rows_print(
            out,
            ["Measure", "Current policy", "Scenario", "Difference"],
            [
                (r["heading"], r["current"], r["scenario"], r["difference"])
                for r in simulation_rows(result)
            ],
        )


def _assumed(value: str, unit: str) -> str:
    return "as agreed" if value == "agreement" else f"{value}{unit}"
