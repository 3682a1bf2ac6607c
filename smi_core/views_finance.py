"""The finance dashboard: exposure, value trend, turnover and DIO, cash-out by week, FX and
intercompany adjustments, each chart (server-drawn SVG) with its table below it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.safestring import mark_safe

from smi_core.exceptions import ApplicationError
from smi_core.finance.svg import bar_chart, time_chart
from smi_core.selectors.finance import FinanceForbidden, FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute, figure_day
from smi_core.selectors.finance.tables import table_for
from smi_core.selectors.finance.valuation import NOT_TESTED
from smi_core.selectors.reporting_date import reporting_day
from smi_core.templatetags.smi_format import days, human_table, money, simulation_rows

SECTIONS = ("valuation", "turnover", "cashflow", "fx", "intercompany", "settlement")


def _table(name: str, data: dict, currency: str) -> dict:
    """The figure's table as people read it (headings in words, formatted cells, the rates
    used as a footnote)."""
    return human_table(table_for(name, data), reporting_currency=currency)


def _day(iso: str) -> str:
    """``2026-11-16`` -> ``16 Nov`` (a chart's axis)."""
    day = date.fromisoformat(iso[:10])
    return f"{day.day} {day:%b}"


def _charts(figures: dict, currency: str) -> dict:
    def fmt(value):
        return money(value)

    valuation = figures["valuation"]
    turnover = figures["turnover"]
    cash = figures["cashflow"]
    fx = figures["fx"]
    ic = figures["intercompany"]
    owed = figures["settlement"]
    return {
        # no invoice at all: no chart of zeros, the table's note says why
        "settlement": ""
        if not owed["rows"]
        else bar_chart(
            f"Owed by buyers, by days past due ({currency}, closing rate)",
            [
                (
                    "not yet due" if label == "current" else f"{label} days late",
                    sum((_reporting(r, key) for r in owed["rows"]), Decimal(0)),
                )
                for label, key in owed["buckets"].items()
            ],
            unit=currency,
            chart_id="chart-settlement",
            fmt=fmt,
        ),
        "valuation": bar_chart(
            f"Exposure by supplier and owner ({currency}, closing rate)",
            [
                (f"{r['supplier']} / {r['owner']}", Decimal(r["value_closing"]))
                for r in valuation["rows"]
            ],
            unit=currency,
            chart_id="chart-valuation",
            fmt=fmt,
        ),
        "trend": time_chart(
            f"Inventory value at week end ({currency})",
            [_day(p["period_end"]) for p in turnover["overall"]["inventory_by_period"]],
            {
                "Inventory value": [
                    Decimal(p["value"]) for p in turnover["overall"]["inventory_by_period"]
                ]
            },
            unit=currency,
            kind="line",
            fmt=fmt,
            chart_id="chart-trend",
        ),
        "turnover": bar_chart(
            "Days inventory outstanding by supplier",
            [(code, Decimal(f["dio_days"] or 0)) for code, f in turnover["suppliers"].items()],
            chart_id="chart-dio",
            fmt=days,
        ),
        "cashflow": time_chart(
            f"Cash out by week, weeks starting ({currency})",
            [_day(b["week_start"]) for b in cash["buckets"]],
            {"Cash out": [Decimal(b["reporting"]) for b in cash["buckets"]]},
            unit=currency,
            kind="column",
            fmt=fmt,
            chart_id="chart-cash",
        ),
        "fx": bar_chart(
            f"FX and intercompany adjustments ({currency} / agreement currency)",
            # each bar says its currency: the write-down and the FX are in the reporting
            # currency, an intercompany elimination in its agreement's
            [
                (f"write-down {r['currency']}", -Decimal(r["write_down"]), currency)
                for r in fx["inventory"]
            ]
            + [("FX gain/loss on invoices", Decimal(fx["fx_gain_loss_total"]), currency)]
            + [
                (
                    f"IC elimination {r['agreement']}",
                    -Decimal(r["unrealised_profit"]),
                    r["currency"],
                )
                for r in ic["rows"]
            ],
            chart_id="chart-fx",
            fmt=fmt,
        ),
    }


def _reporting(row: dict, key: str) -> Decimal:
    """A settlement row's amount in the reporting currency (0 where no rate was found)."""
    rate = row.get("rate")
    return Decimal(row[key]) * Decimal(rate["rate"]) if rate else Decimal(0)


def _day_banner(request) -> dict:
    """What the page says about its date, and the one-click links: as of today when the
    reporting date is in force; back to the reporting date when another day was asked."""
    try:
        day = figure_day(FIGURES["valuation"], request.GET)
    except ApplicationError:
        day = reporting_day()  # a bad as_of: the error says so; the banner the default
    today_query = request.GET.copy()
    today_query["as_of"] = day.today.isoformat()
    default_query = request.GET.copy()
    default_query.pop("as_of", None)
    return {
        "statement": day.statement(),
        "basis": day.basis,
        "today_url": "?" + today_query.urlencode(),
        "default_url": "?" + default_query.urlencode(),
        # dates as dates (ISO), not in the template's locale format
        "reporting_date": day.reporting_date.isoformat() if day.reporting_date else None,
        "as_of": day.as_of.isoformat(),
        "today": day.today.isoformat(),
    }


@login_required(login_url="/admin/login/")
def finance_dashboard(request):
    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    error = None
    figures: dict = {}
    try:
        figures = {name: figure_compute(name, scope=scope, params=request.GET) for name in SECTIONS}
    except ApplicationError as exc:
        error = exc.message
    context = {"error": error, "params": request.GET, "scope": scope, "nrv_not_tested": NOT_TESTED}
    context["day"] = _day_banner(request)
    if figures:
        currency = figures["valuation"]["reporting_currency"]
        context.update(
            figures=figures,
            currency=currency,
            charts={k: mark_safe(v) for k, v in _charts(figures, currency).items()},
            tables={name: _table(name, figures[name], currency) for name in SECTIONS},
            trend=figures["turnover"]["overall"]["inventory_by_period"],
            rate_warnings=_rate_warnings(figures),
        )
    return render(request, "finance/dashboard.html", context)


def _rate_warnings(figures: dict) -> list[str]:
    """Each old exchange rate a section used (older than SMI_FX_MAX_AGE_DAYS), said once."""
    messages = []
    for figure in figures.values():
        for warning in figure.get("rate_warnings") or []:
            if warning["message"] not in messages:
                messages.append(warning["message"])
    return messages


@login_required(login_url="/admin/login/")
def finance_simulate(request):
    """Run a scenario (GET form) and show it beside the current policy."""

    from smi_core.selectors.finance import Filters
    from smi_core.selectors.simulation import simulation_run

    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    context: dict = {"params": request.GET, "result": None, "error": None}
    context["day"] = _day_banner(request)
    if "weeks" in request.GET:
        try:
            day = reporting_day(
                date.fromisoformat(request.GET["as_of"]) if request.GET.get("as_of") else None
            )
            weeks = int(request.GET["weeks"])
            if not 1 <= weeks <= 104:
                raise ValueError("weeks must be 1 to 104")
            level = request.GET.get("service_level") or None
            lead = request.GET.get("lead_time_days") or None
            result = simulation_run(
                scope=scope,
                filters=Filters(),
                as_of=day.as_of,
                weeks=weeks,
                demand_factor=Decimal(request.GET.get("demand_factor") or "1"),
                lead_time_days=Decimal(lead) if lead else None,
                service_level=Decimal(level) if level else None,
                seed=int(request.GET.get("seed") or 0),
            )
            context["result"] = result
            context["rows"] = simulation_rows(result)
            weekly = result["inventory_value_by_week"]
            context["chart"] = mark_safe(
                time_chart(
                    f"Inventory value at week end ({result['reporting_currency']})",
                    [f"week {n + 1}" for n in range(len(weekly["current"]))],
                    {
                        "Current policy": [Decimal(v) for v in weekly["current"]],
                        "Scenario": [Decimal(v) for v in weekly["scenario"]],
                    },
                    unit=result["reporting_currency"],
                    kind="line",
                    fmt=money,
                    chart_id="chart-simulation",
                )
            )
        except (ValueError, ArithmeticError, ApplicationError) as exc:
            context["error"] = getattr(exc, "message", None) or f"check the inputs: {exc}"
    return render(request, "finance/simulate.html", context)
