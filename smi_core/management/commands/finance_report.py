"""Print the finance figures the dashboard and the API show."""

import json

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute
from smi_core.selectors.finance.tables import columns, table_for


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
        ages = next((d["data_age"] for d in report.values() if d.get("data_age")), [])
        if ages:
            self.stdout.write("Data per partner (stock carried forward from its last 852):")
            for a in ages:
                flag = "  STALE" if a["stale"] else ""
                self.stdout.write(
                    f"  {a['partner']}: last report {a['last_report']}, {a['age_days']} day(s) "
                    f"old (stale after {a['stale_after_days']}){flag}"
                )
        for name, data in report.items():
            self.stdout.write(f"\n== {FIGURES[name].title} ({name})")
            for line in _notes(data):
                self.stdout.write(f"  ! {line}")
            rows = table_for(name, data)
            if not rows:
                self.stdout.write("  (nothing)")
                continue
            keys = columns(rows)
            widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
            widths = {k: min(w, 40) for k, w in widths.items()}
            self.stdout.write("  " + "  ".join(k.ljust(widths[k]) for k in keys))
            for row in rows[:50]:
                self.stdout.write(
                    "  " + "  ".join(str(row.get(k, ""))[:40].ljust(widths[k]) for k in keys)
                )
            if len(rows) > 50:
                self.stdout.write(f"  ... {len(rows) - 50} more rows (use --json)")


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
            f"negative on hand {n['on_hand']} of {n['item']} at {n['location']} valued at 0"
        )
    for key in ("positions_without_cost", "left_out_no_cost"):
        for m in data.get(key, []):
            quantity = m.get("quantity") or m.get("on_hand")
            notes.append(f"no unit cost: {m['item']} at {m['location']} ({quantity}) left out")
    overall = data.get("overall") or {}
    if "days_covered" in overall:
        notes.append(
            f"DIO over {overall['days_covered']} days covered by data "
            f"(window {overall['calendar_days']} days): {overall['dio_rule']}"
        )
    return notes
