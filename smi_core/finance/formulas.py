"""Finance formulas on Decimal: turnover, days inventory outstanding, inventory-to-sales,
weeks of supply, GMROI, working capital released and its carrying-cost saving, the
lower-of-cost-or-NRV test and payable remeasurement in foreign currency (IAS 21 /
ASC 830), and the intercompany profit elimination. Framework-free.

Known answers (DESIGN.md) are tests: EUR 10,000 bought at 1.10 is USD 11,000; at a closing
rate of 1.20 with NRV EUR 9,500 (USD 11,400) there is no write-down, and the payable is
remeasured to USD 12,000 with an FX loss of 1,000. Intercompany sales of 100,000 at a 25 %
margin with 40,000 unsold: eliminate 10,000 (Dr COGS / Cr Inventory), group inventory
30,000.

A ratio whose denominator is zero is None (not computable), never infinity or zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (the rounding finance expects)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


def _divide(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else numerator / denominator


def turnover(*, cogs: Decimal, average_inventory: Decimal) -> Decimal | None:
    """Inventory turnover = COGS / average inventory (per period)."""
    result = _divide(cogs, average_inventory)
    return None if result is None else ratio(result)


def days_inventory_outstanding(
    *, average_inventory: Decimal, cogs: Decimal, days: int = 365
) -> Decimal | None:
    """DIO = average inventory / COGS * days in the period."""
    result = _divide(average_inventory * days, cogs)
    return None if result is None else ratio(result)


def inventory_to_sales(*, ending_inventory: Decimal, sales: Decimal) -> Decimal | None:
    result = _divide(ending_inventory, sales)
    return None if result is None else ratio(result)


def weeks_of_supply(
    *, on_hand: Decimal, in_transit: Decimal, average_weekly_units: Decimal
) -> Decimal | None:
    """(on hand + in transit) / average weekly units sold."""
    result = _divide(on_hand + in_transit, average_weekly_units)
    return None if result is None else ratio(result)


def gmroi(*, gross_margin: Decimal, average_inventory: Decimal) -> Decimal | None:
    """Gross margin return on inventory investment = gross margin / average inventory."""
    result = _divide(gross_margin, average_inventory)
    return None if result is None else ratio(result)


@dataclass(frozen=True)
class WorkingCapitalRelease:
    baseline_dio: Decimal
    current_dio: Decimal
    released: Decimal  # (baseline DIO - current DIO) * COGS / days; negative: tied up
    annual_saving: Decimal  # released * carrying rate


def working_capital_released(
    *,
    baseline_dio: Decimal,
    current_dio: Decimal,
    cogs: Decimal,
    carrying_rate: Decimal,
    days: int = 365,
) -> WorkingCapitalRelease:
    released = money((baseline_dio - current_dio) * cogs / days)
    return WorkingCapitalRelease(
        baseline_dio=baseline_dio,
        current_dio=current_dio,
        released=released,
        annual_saving=money(released * carrying_rate),
    )


@dataclass(frozen=True)
class NrvTest:
    """Lower of cost (historical rate) and net realisable value (closing rate)."""

    cost: Decimal  # in the reporting currency, at the historical rate
    nrv: Decimal  # in the reporting currency, at the closing rate
    write_down: Decimal  # cost - nrv when positive, else 0; inventory is never written up
    carrying_amount: Decimal  # cost - write_down


def lower_of_cost_or_nrv(
    *,
    cost_foreign: Decimal,
    historical_rate: Decimal,
    nrv_foreign: Decimal,
    closing_rate: Decimal,
) -> NrvTest:
    """IAS 21 / ASC 830: inventory is non-monetary and stays at the historical rate; it is
    written down only where NRV at the closing rate falls below that cost."""
    cost, nrv, write_down = nrv_write_down(
        cost_foreign=cost_foreign,
        historical_rate=historical_rate,
        nrv_foreign=nrv_foreign,
        closing_rate=closing_rate,
    )
    return NrvTest(cost=cost, nrv=nrv, write_down=write_down, carrying_amount=cost - write_down)


def nrv_write_down(
    *,
    cost_foreign: Decimal,
    historical_rate: Decimal,
    nrv_foreign: Decimal,
    closing_rate: Decimal,
) -> tuple[Decimal, Decimal, Decimal]:
    """:func:`lower_of_cost_or_nrv`'s (cost, NRV, write-down) as a plain tuple: what a
    valuation of thousands of positions calls once per position."""
    cost = money(cost_foreign * historical_rate)
    nrv = money(nrv_foreign * closing_rate)
    return cost, nrv, money(max(cost - nrv, ZERO))


@dataclass(frozen=True)
class PayableRemeasurement:
    booked: Decimal  # at the historical rate
    remeasured: Decimal  # at the closing rate
    fx_gain_loss: Decimal  # positive: gain; negative: loss (a payable that grew)


def payable_remeasure(
    *, amount_foreign: Decimal, historical_rate: Decimal, closing_rate: Decimal
) -> PayableRemeasurement:
    """A foreign-currency payable is monetary: remeasured at the closing rate through P&L."""
    booked = money(amount_foreign * historical_rate)
    remeasured = money(amount_foreign * closing_rate)
    return PayableRemeasurement(
        booked=booked, remeasured=remeasured, fx_gain_loss=booked - remeasured
    )


@dataclass(frozen=True)
class ReceivableRemeasurement:
    booked: Decimal  # at the historical rate
    remeasured: Decimal  # at the closing rate
    fx_gain_loss: Decimal  # positive: gain (a receivable that grew); negative: loss


def receivable_remeasure(
    *, amount_foreign: Decimal, historical_rate: Decimal, closing_rate: Decimal
) -> ReceivableRemeasurement:
    """The seller's side of the same invoice: a foreign-currency receivable is monetary too,
    remeasured at the closing rate, but a rise of the foreign currency is the seller's gain
    (the buyer's loss): EUR 10,000 booked at 1.10 (USD 11,000) and remeasured at 1.20
    (USD 12,000) is a gain of 1,000 for the seller, a loss of 1,000 for the buyer."""
    booked = money(amount_foreign * historical_rate)
    remeasured = money(amount_foreign * closing_rate)
    return ReceivableRemeasurement(
        booked=booked, remeasured=remeasured, fx_gain_loss=remeasured - booked
    )


@dataclass(frozen=True)
class IntercompanyElimination:
    inventory: Decimal  # intercompany goods still on hand, at the buyer's cost
    unrealised_profit: Decimal  # eliminated: Dr COGS / Cr Inventory
    group_inventory: Decimal  # inventory - unrealised profit


def intercompany_elimination(
    *, inventory_on_hand: Decimal, seller_gross_margin: Decimal
) -> IntercompanyElimination:
    """Unrealised profit in ending inventory = intercompany goods on hand * the seller's
    gross margin %, eliminated in full."""
    profit = money(inventory_on_hand * seller_gross_margin)
    return IntercompanyElimination(
        inventory=money(inventory_on_hand),
        unrealised_profit=profit,
        group_inventory=money(inventory_on_hand) - profit,
    )


def fill_rate(*, demand: Decimal, shortfall: Decimal) -> Decimal | None:
    """Units served from stock / units demanded."""
    result = _divide(demand - shortfall, demand)
    return None if result is None else ratio(result)
