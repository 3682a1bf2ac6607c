"""Print the finance figures the dashboard and the API show."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smi_core.cli_output import console, human_table_print, rows_print
from smi_core.exceptions import ApplicationError
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute
from smi_core.selectors.finance.tables import table_for
from smi_core.templatetags.smi_format import days, human_table, money, quantity, rate


class Command(BaseCommand):
    help = "Print inventory value, FX, intercompany, turnover, service, continuity and cash-out figures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="YYYY-MM-DD (default the reporting date set in the admin, else today)",
        )
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
        days_of = {d["reporting_date"]["statement"]: None for d in report.values()}
        for statement in days_of:  # one line; two if a period's --end differs from --as-of
            out.print(f"Figures {statement}.", soft_wrap=True, markup=False)
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
            if name == "settlement":
                _settlement_print(out, data)


def _settlement_print(out, data: dict) -> None:
    """What the settlement figure says besides its table: cash in the window against what
    fell due and the forecast, how DSO was worked out, and the realised FX per payment."""
    cash = data["cash"]
    start, end = cash["window"]
    if cash["by_currency"]:
        rows_print(
            out,
            [
                "Currency",
                "Fell due",
                "Received",
                "Received - due",
                "Forecast cash-in",
                "Received - forecast",
            ],
            [
                (
                    c,
                    money(v["due"], c),
                    money(v["received"], c),
                    money(v["difference"], c),
                    money(v["forecast"], c) if v.get("forecast") is not None else "—",
                    money(v["received_vs_forecast"], c)
                    if v.get("received_vs_forecast") is not None
                    else "—",
                )
                for c, v in cash["by_currency"].items()
            ],
            title=f"Cash {start} to {end} (forecast made {cash['forecast_made'] or '—'})",
            title_justify="left",
        )
    if cash.get("forecast_reason"):
        out.print(f"  ! {cash['forecast_reason']}", soft_wrap=True, markup=False)
    dso = data["dso"]
    for c, v in dso["by_currency"].items():
        if v["dso_days"] is None:
            out.print(f"  DSO {c}: — ({v['reason']})", markup=False)
            continue
        out.print(
            f"  DSO {c}: owed {money(v['owed'], c)} / invoiced in the {dso['days']} days "
            f"{money(v['invoiced'], c)} x {dso['days']} = {days(v['dso_days'])}",
            markup=False,
        )
    fx = data["realised_fx"]
    if not fx["payments"]:
        out.print(
            f"  Realised FX: none (no payment of a settlement in another currency than "
            f"{fx['currency']})",
            markup=False,
        )
        return
    rows_print(
        out,
        [
            "Invoice",
            "Paid",
            "Invoice date",
            "Rate",
            "Payment date",
            "Rate",
            f"Gain (+) / loss (-), {fx['currency']}",
        ],
        [
            (
                p["invoice"],
                money(p["paid"], p["currency"]),
                p.get("invoice_date", "—"),
                rate(p["invoice_rate"]["rate"]) if p.get("invoice_rate") else "—",
                p["payment_date"],
                rate(p["payment_rate"]["rate"]) if p.get("payment_rate") else "—",
                money(p["gain_loss"], fx["currency"])
                if p["gain_loss"] is not None
                else f"— ({p['reason']})",
            )
            for p in fx["payments"]
        ],
        title=f"Realised FX at the payment date's rate against the invoice date's: "
        f"{money(fx['total'], fx['currency'])} in total",
        title_justify="left",
    )


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
