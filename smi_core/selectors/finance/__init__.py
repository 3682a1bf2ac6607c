"""Finance figures (reads): valuation and FX, performance and service, cash-out forecast.
Decimal throughout; every converted figure states its rate and the rate's date."""

from .base import Filters, FinanceForbidden, FinanceScope
from .cashflow import cash_forecast
from .performance import (
    continuity,
    service_report,
    supplier_scorecard,
    turnover_report,
    working_capital,
)
from .valuation import fx_adjustments, intercompany, valuation

__all__ = [
    "Filters",
    "FinanceForbidden",
    "FinanceScope",
    "cash_forecast",
    "continuity",
    "fx_adjustments",
    "intercompany",
    "service_report",
    "supplier_scorecard",
    "turnover_report",
    "valuation",
    "working_capital",
]
