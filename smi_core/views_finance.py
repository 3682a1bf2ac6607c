"""The finance dashboard: exposure, value trend, turnover and DIO, cash-out by week, FX and
intercompany adjustments, each chart (server-drawn SVG) with its table below it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import render
from django.utils.safestring import mark_safe

from smi_core.exceptions import ApplicationError
from smi_core.finance.svg import bar_chart
from smi_core.selectors.finance import FinanceForbidden, FinanceScope
from smi_core.selectors.finance.figures import figure_compute
from smi_core.selectors.finance.tables import columns, table_for

SECTIONS = ("valuation", "turnover", "cashflow", "fx", "intercompany")


def _table(name: str, data: dict) -> dict:
    rows = table_for(name, data)
    keys = columns(rows)
    return {"columns": keys, "rows": [[row.get(k, "") for k in keys] for row in rows]}


def _charts(figures: dict, currency: str) -> dict:
    valuation = figures["valuation"]
    turnover = figures["turnover"]
    cash = figures["cashflow"]
    fx = figures["fx"]
    ic = figures["intercompany"]
    return {
        "valuation": bar_chart(
            f"Exposure by supplier and owner ({currency}, closing rate)",
            [
                (f"{r['supplier']} / {r['owner']}", Decimal(r["value_closing"]))
                for r in valuation["rows"]
            ],
            unit=currency,
            chart_id="chart-valuation",
        ),
        "trend": bar_chart(
            f"Inventory value by week ({currency})",
            [
                (p["period_end"], Decimal(p["value"]))
                for p in turnover["overall"]["inventory_by_period"]
            ],
            unit=currency,
            chart_id="chart-trend",
        ),
        "turnover": bar_chart(
            "Days inventory outstanding by supplier",
            [(code, Decimal(f["dio_days"] or 0)) for code, f in turnover["suppliers"].items()],
            unit="days",
            chart_id="chart-dio",
        ),
        "cashflow": bar_chart(
            f"Cash out by week ({currency})",
            [(b["week_start"], Decimal(b["reporting"])) for b in cash["buckets"]],
            unit=currency,
            chart_id="chart-cash",
        ),
        "fx": bar_chart(
            f"FX and intercompany adjustments ({currency} / agreement currency)",
            [(f"write-down {r['currency']}", -Decimal(r["write_down"])) for r in fx["inventory"]]
            + [("FX gain/loss on invoices", Decimal(fx["fx_gain_loss_total"]))]
            + [
                (f"IC elimination {r['agreement']}", -Decimal(r["unrealised_profit"]))
                for r in ic["rows"]
            ],
            chart_id="chart-fx",
        ),
    }


@login_required(login_url="/admin/login/")
def finance_dashboard(request):
    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        return HttpResponseForbidden(exc.message)
    error = None
    figures: dict = {}
    try:
        figures = {name: figure_compute(name, scope=scope, params=request.GET) for name in SECTIONS}
    except ApplicationError as exc:
        error = exc.message
    context = {"error": error, "params": request.GET, "scope": scope}
    if figures:
        currency = figures["valuation"]["reporting_currency"]
        context.update(
            figures=figures,
            currency=currency,
            charts={k: mark_safe(v) for k, v in _charts(figures, currency).items()},
            tables={name: _table(name, figures[name]) for name in SECTIONS},
            trend=figures["turnover"]["overall"]["inventory_by_period"],
        )
    return render(request, "finance/dashboard.html", context)


@login_required(login_url="/admin/login/")
def finance_simulate(request):
    """Run a scenario (GET form) and show it beside the current policy."""
    from datetime import date

    from django.utils import timezone

    from smi_core.selectors.finance import Filters
    from smi_core.selectors.simulation import simulation_run

    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        return HttpResponseForbidden(exc.message)
    context: dict = {"params": request.GET, "result": None, "error": None}
    if "weeks" in request.GET:
        try:
            weeks = int(request.GET["weeks"])
            if not 1 <= weeks <= 104:
                raise ValueError("weeks must be 1 to 104")
            level = request.GET.get("service_level") or None
            lead = request.GET.get("lead_time_days") or None
            result = simulation_run(
                scope=scope,
                filters=Filters(),
                as_of=date.fromisoformat(request.GET["as_of"])
                if request.GET.get("as_of")
                else timezone.localdate(),
                weeks=weeks,
                demand_factor=Decimal(request.GET.get("demand_factor") or "1"),
                lead_time_days=Decimal(lead) if lead else None,
                service_level=Decimal(level) if level else None,
                seed=int(request.GET.get("seed") or 0),
            )
            context["result"] = result
            context["rows"] = [
                (key, value, result["scenario"][key], result["difference"][key])
                for key, value in result["current"].items()
            ]
        except (ValueError, ArithmeticError, ApplicationError) as exc:
            context["error"] = getattr(exc, "message", None) or f"check the inputs: {exc}"
    return render(request, "finance/simulate.html", context)
