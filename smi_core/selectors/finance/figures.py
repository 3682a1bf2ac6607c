"""The finance figures by name, with the parameters each takes: one registry for the API,
the CSV export, ``finance_report`` and the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.selectors.finance.base import Filters, FinanceScope
from smi_core.selectors.finance.cashflow import amounts_owed, cash_forecast
from smi_core.selectors.finance.performance import (
    continuity,
    service_report,
    supplier_scorecard,
    turnover_report,
    working_capital,
)
from smi_core.selectors.finance.settlement import settlement_figures
from smi_core.selectors.finance.valuation import GROUPS, fx_adjustments, intercompany, valuation
from smi_core.selectors.reporting_date import ReportingDay, reporting_day


class BadParameter(ApplicationError):
    code = "bad_parameter"


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    compute: Callable[..., dict]
    params: tuple[str, ...]  # beyond scope and filters


FIGURES: dict[str, Figure] = {
    f.name: f
    for f in [
        Figure("valuation", "Inventory value and exposure", valuation, ("as_of", "group_by")),
        Figure("fx", "FX: NRV test and remeasured invoices", fx_adjustments, ("as_of",)),
        Figure("intercompany", "Intercompany profit elimination", intercompany, ("as_of",)),
        Figure(
            "turnover", "Turnover, DIO, weeks of supply, GMROI", turnover_report, ("start", "end")
        ),
        Figure(
            "working-capital",
            "Working capital released",
            working_capital,
            ("start", "end", "baseline_start", "baseline_end", "carrying_rate"),
        ),
        Figure("service", "Fill rate, in-stock %, stockouts", service_report, ("start", "end")),
        Figure("scorecard", "Supplier scorecard", supplier_scorecard, ("as_of",)),
        Figure("continuity", "Continuity: days of cover per supplier", continuity, ("as_of",)),
        Figure("cashflow", "Cash-out forecast by week", cash_forecast, ("as_of", "weeks")),
        Figure("owed", "Owed now for replenishment", amounts_owed, ("as_of",)),
        Figure(
            "settlement",
            "Settlement: invoiced, paid, owed by age; cash in; DSO; realised FX",
            settlement_figures,
            ("as_of",),
        ),
    ]
}


def _date(params: Mapping, name: str, default: date) -> date:
    value = params.get(name)
    if not value:
        return default
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
    # Periods and baselines are counted back from these dates: keep them where that works.
    if not date(1900, 1, 1) <= parsed <= date(2999, 12, 31):
        raise BadParameter(f"{name} {value} is outside the years 1900 to 2999")
    return parsed


def arguments(figure: Figure, params: Mapping[str, str], default_as_of: date | None = None) -> dict:
    """Keyword arguments for ``figure`` from request-like parameters, with defaults: as_of
    ``default_as_of`` (the reporting date, else today), the period the last 13 weeks up to
    as_of, the baseline the 13 weeks before."""
    as_of = _date(params, "as_of", default_as_of or timezone.localdate())
    end = _date(params, "end", as_of)
    start = _date(params, "start", end - timedelta(weeks=13) + timedelta(days=1))
    if start > end:
        raise BadParameter(f"start {start} is after end {end}")
    baseline_end = _date(params, "baseline_end", start - timedelta(days=1))
    baseline_start = _date(params, "baseline_start", baseline_end - (end - start))
    values: dict = {
        "as_of": as_of,
        "start": start,
        "end": end,
        "baseline_start": baseline_start,
        "baseline_end": baseline_end,
    }
    if "weeks" in figure.params:
        try:
            values["weeks"] = int(params.get("weeks") or 12)
        except ValueError:
            raise BadParameter(f"weeks {params.get('weeks')!r} is not a whole number") from None
        if not 1 <= values["weeks"] <= 104:
            raise BadParameter("weeks must be 1 to 104")
    if "group_by" in figure.params:
        groups = tuple(
            g for g in (params.get("group_by") or "supplier,owner,currency").split(",") if g
        )
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise BadParameter(
                f"group_by takes {', '.join(GROUPS)}, not {', '.join(sorted(unknown))}"
            )
        values["group_by"] = groups
    if "carrying_rate" in figure.params:
        raw = params.get("carrying_rate")
        try:
            values["carrying_rate"] = Decimal(raw) if raw else None
        except InvalidOperation:
            raise BadParameter(f"carrying_rate {raw!r} is not a number") from None
    return {k: v for k, v in values.items() if k in figure.params}


def filters_from(params: Mapping[str, str]) -> Filters:
    owner = params.get("owner") or None
    if owner not in (None, "supplier", "buyer"):
        raise BadParameter("owner is supplier or buyer")
    return Filters(
        supplier=params.get("supplier") or None,
        buyer=params.get("buyer") or None,
        currency=(params.get("currency") or "").upper() or None,
        owner=owner,
    )


def figure_day(figure: Figure | None, params: Mapping[str, str]) -> ReportingDay:
    """The day ``figure`` is as of and why: the as_of asked for (for a figure over a period,
    its end), else the site's reporting date, else today."""
    asked = _date(params, "as_of", None)
    if asked is None and (figure is None or "as_of" not in figure.params):
        asked = _date(params, "end", None)
    return reporting_day(asked)


def figure_compute(name: str, *, scope: FinanceScope, params: Mapping[str, str]) -> dict:
    """The figure ``name`` for ``params``, with ``reporting_date``: the day it is as of and
    why (asked, the site's reporting date, or today), and that in a sentence."""
    figure = FIGURES.get(name)
    if figure is None:
        raise BadParameter(f"no finance figure {name!r}; there are {', '.join(FIGURES)}")
    day = figure_day(figure, params)
    # as_of not asked (a period's end may be): the reporting date, else today
    default = day.reporting_date or day.today
    data = figure.compute(
        scope=scope, filters=filters_from(params), **arguments(figure, params, default)
    )
    return {**data, "reporting_date": day.as_dict()}
