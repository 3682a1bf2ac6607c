"""Known answers for the planning maths (DESIGN.md), and properties of order rounding."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smi_core.planning.forecasting import classify, croston, forecast, holt, mase, ses, tsb
from smi_core.planning.policy import (
    eoq,
    fill_rate,
    order_up_to,
    reorder_point,
    round_order,
    safety_stock,
)

INTERMITTENT = [0, 0, 3, 0, 0, 0, 2, 0, 4, 0, 0, 1]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("0.90", "76.9"), ("0.95", "98.7"), ("0.98", "123.2"), ("0.99", "139.6")],
)
def test_safety_stock_known_answers(level, expected):
    ss = safety_stock(demand=D(100), sigma_demand=D(20), lead_time=D(9), service_level=D(level))

    assert ss.quantize(D("0.1")) == D(expected)


def test_safety_stock_with_lead_time_variability():
    ss = safety_stock(
        demand=D(100),
        sigma_demand=D(20),
        lead_time=D(9),
        service_level=D("0.95"),
        sigma_lead_time=D(2),
    )

    assert ss.quantize(D("0.1")) == D("343.5")


def test_reorder_point_and_order_up_to():
    ss = safety_stock(demand=D(100), sigma_demand=D(20), lead_time=D(9), service_level=D("0.95"))

    assert reorder_point(demand=D(100), lead_time=D(9), safety=ss) == D("998.6912")
    # S = d (R + L) + z sigma sqrt(R + L) with R = 1: 1000 + 1.6449 * 20 * sqrt(10)
    s = order_up_to(
        demand=D(100),
        sigma_demand=D(20),
        lead_time=D(9),
        review_period=D(1),
        service_level=D("0.95"),
    )
    assert s.quantize(D("0.1")) == D("1104.0")


def test_fill_rate_chopra_meindl_11_4():
    figures = fill_rate(
        demand_per_period=D(250),
        sigma_per_period=D(150),
        lead_time=D(2),
        order_quantity=D(1000),
        reorder=D(600),
    )

    assert figures["safety_stock"] == D(100)
    assert figures["cycle_service_level"].quantize(D("0.001")) == D("0.681")
    assert figures["expected_shortage"].quantize(D("0.01")) == D("43.86")
    assert figures["fill_rate"].quantize(D("0.001")) == D("0.956")


def test_eoq_stockpyl_example_3_1():
    quantity, cost = eoq(annual_demand=D(1300), order_cost=D(8), holding_cost=D("0.225"))

    assert (quantity, cost) == (D("304.0468"), D("68.4105"))


def test_croston_sba_tsb_known_answers():
    assert round(croston(INTERMITTENT, 0.1), 6) == 0.939151
    assert round(croston(INTERMITTENT, 0.1, variant="sba"), 6) == 0.892193
    assert round(tsb(INTERMITTENT, 0.1, 0.1), 6) == 0.760371


def test_ses_and_holt_by_hand():
    assert ses([10, 20], 0.5) == [10.0, 10.0, 15.0]
    # level 10, trend 10; after 20: level 20, trend 10 -> next 30; after 30: 30 -> next 40
    assert holt([10, 20, 30], 0.5, 0.5) == [10.0, 20.0, 30.0, 40.0]


def test_classification_picks_the_method():
    assert classify(INTERMITTENT)[0] == "intermittent"
    assert classify([10, 0, 0, 90, 0, 1, 0, 0, 50])[0] == "lumpy"
    assert classify([100, 102, 98, 101, 99, 100])[0] == "smooth"
    assert classify([0, 0, 0])[0] == "no-demand"
    assert forecast(INTERMITTENT).method == "sba"
    assert round(forecast(INTERMITTENT).level, 6) == 0.892193
    assert forecast([10, 0, 0, 90, 0, 1, 0, 0, 50]).method == "tsb"
    assert forecast([100, 102, 98, 101, 99, 100, 103, 97]).method == "ses"
    assert forecast([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]).method == "holt"
    assert forecast([10, 14, 9, 13, 11, 12, 15, 10]).method == "ses"  # noise is no trend
    assert forecast([5, 5]).method == "none"


def test_mase_against_the_naive_forecast():
    y = [10.0, 12.0, 11.0, 13.0]
    # naive errors |12-10|, |11-12|, |13-11| average 5/3; a perfect fit scores 0
    assert mase(y, y) == 0
    assert mase(y, [10, 10, 10, 10]) == pytest.approx((2 + 1 + 3) / 3 / (5 / 3))
    assert mase([5, 5, 5], [5, 5, 5]) is None


def test_round_order_applies_min_max_moq_and_packs_in_order():
    assert round_order(D(7), position=D(0), pack=D(6)).quantity == D(12)
    assert round_order(D(3), position=D(0), moq=D(10), pack=D(6)).quantity == D(12)
    rounded = round_order(D(50), position=D(40), maximum=D(60), pack=D(6))
    assert rounded.quantity == D(18)  # cut to 20, whole packs: 24 passes the maximum, 18 fits
    assert rounded.steps == (
        "cut to stay within the agreed maximum 60",
        "rounded down to whole packs of 6 to stay within the maximum",
    )
    assert round_order(D(5), position=D(10), minimum=D(30)).quantity == D(20)
    assert round_order(D(-4), position=D(10), pack=D(6)).quantity == D(0)


@given(
    raw=st.decimals(min_value=-50, max_value=500, places=0),
    position=st.decimals(min_value=0, max_value=300, places=0),
    pack=st.sampled_from([D(1), D(6), D(12), D(24)]),
    moq=st.sampled_from([None, D(12), D(48)]),
    maximum=st.sampled_from([None, D(200), D(400)]),
)
def test_rounded_orders_are_whole_packs_and_never_negative(raw, position, pack, moq, maximum):
    rounded = round_order(raw, position=position, pack=pack, moq=moq, maximum=maximum)

    assert rounded.quantity >= 0
    assert rounded.quantity % pack == 0
    if rounded.quantity and moq:
        assert rounded.quantity >= moq
