"""Finance formulas against the worked examples in DESIGN.md and hand-computed values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smi_core.finance.formulas import (
    days_inventory_outstanding,
    fill_rate,
    gmroi,
    intercompany_elimination,
    inventory_to_sales,
    lower_of_cost_or_nrv,
    payable_remeasure,
    turnover,
    weeks_of_supply,
    working_capital_released,
)

D = Decimal


def test_eur_inventory_is_not_written_down_and_the_payable_shows_an_fx_loss():
    test = lower_of_cost_or_nrv(
        cost_foreign=D(10000),
        historical_rate=D("1.10"),
        nrv_foreign=D(9500),
        closing_rate=D("1.20"),
    )
    payable = payable_remeasure(
        amount_foreign=D(10000), historical_rate=D("1.10"), closing_rate=D("1.20")
    )

    assert (test.cost, test.nrv, test.write_down, test.carrying_amount) == (
        D("11000.00"),
        D("11400.00"),
        D("0.00"),
        D("11000.00"),
    )
    assert (payable.booked, payable.remeasured, payable.fx_gain_loss) == (
        D("11000.00"),
        D("12000.00"),
        D("-1000.00"),
    )


def test_nrv_below_cost_at_the_closing_rate_writes_the_difference_down():
    test = lower_of_cost_or_nrv(
        cost_foreign=D(10000),
        historical_rate=D("1.10"),
        nrv_foreign=D(9500),
        closing_rate=D("1.05"),
    )

    assert (test.nrv, test.write_down, test.carrying_amount) == (
        D("9975.00"),
        D("1025.00"),
        D("9975.00"),
    )


def test_intercompany_profit_in_ending_inventory_is_eliminated():
    elimination = intercompany_elimination(
        inventory_on_hand=D(40000), seller_gross_margin=D("0.25")
    )

    assert elimination.unrealised_profit == D("10000.00")
    assert elimination.group_inventory == D("30000.00")


def test_turnover_and_dio_of_a_year():
    # COGS 1,200,000 on an average inventory of 200,000: 6 turns, 60.8333 days.
    assert turnover(cogs=D(1200000), average_inventory=D(200000)) == D("6.0000")
    assert days_inventory_outstanding(average_inventory=D(200000), cogs=D(1200000)) == D("60.8333")


def test_working_capital_released_and_its_carrying_cost_saving():
    # DIO from 60 to 45 days on COGS of 1,200,000: 15 * 1,200,000 / 365 = 49,315.07,
    # at a 20 % carrying rate 9,863.01 a year.
    release = working_capital_released(
        baseline_dio=D(60), current_dio=D(45), cogs=D(1200000), carrying_rate=D("0.20")
    )

    assert (release.released, release.annual_saving) == (D("49315.07"), D("9863.01"))


@pytest.mark.parametrize(
    ("formula", "kwargs", "expected"),
    [
        (inventory_to_sales, {"ending_inventory": D(300), "sales": D(1200)}, D("0.2500")),
        (
            weeks_of_supply,
            {"on_hand": D(90), "in_transit": D(30), "average_weekly_units": D(40)},
            D("3.0000"),
        ),
        (gmroi, {"gross_margin": D(50000), "average_inventory": D(20000)}, D("2.5000")),
        (fill_rate, {"demand": D(400), "shortfall": D(18)}, D("0.9550")),
    ],
    ids=["inventory-to-sales", "weeks-of-supply", "gmroi", "fill-rate"],
)
def test_ratios(formula, kwargs, expected):
    assert formula(**kwargs) == expected


@pytest.mark.parametrize(
    ("formula", "kwargs"),
    [
        (turnover, {"cogs": D(10), "average_inventory": D(0)}),
        (days_inventory_outstanding, {"average_inventory": D(10), "cogs": D(0)}),
        (weeks_of_supply, {"on_hand": D(5), "in_transit": D(0), "average_weekly_units": D(0)}),
        (fill_rate, {"demand": D(0), "shortfall": D(0)}),
    ],
    ids=["turnover", "dio", "weeks-of-supply", "fill-rate"],
)
def test_a_ratio_over_zero_is_not_computable(formula, kwargs):
    assert formula(**kwargs) is None
