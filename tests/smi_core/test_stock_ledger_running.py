"""The stock ledger's running totals (issue 14): per item-location and period the sums of
its rows up to that period, kept by the 852 apply (in order, late, and a second report for
a period), equal to those filled from the rows and to a rebuild's; a window's sums from two
rows equal to those summed from every period's row."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from smi_core.models import StockLevel
from smi_core.selectors.finance import service_report
from smi_core.selectors.finance.base import AgedRateBook, costed_positions
from smi_core.services.stock_ledger import RUNNING, stock_ledger_fill_running
from tests.smi_core import test_finance_asof
from tests.smi_core.test_finance_asof import ALL, EVERYTHING, _report, _world

pytestmark = pytest.mark.django_db
D = Decimal
replay = test_finance_asof.replay  # the issue-14 replay: three buyers, eight weeks
W1, W2, W3 = date(2027, 3, 7), date(2027, 3, 14), date(2027, 3, 21)


def _totals(item, period_end: date) -> tuple:
    row = StockLevel.objects.get(item=item, period_end=period_end)
    return tuple(getattr(row, name) for name in RUNNING)


@pytest.fixture
def world(settings, tmp_path):
    """X and Y at north's S1: the week to 03-07 (X 200 on hand, 50 sold; Y 40 on hand,
    none sold), then the week to 03-21 stating only X's sales (30)."""
    world = _world(settings, tmp_path)
    _report("north", W1, {"X": ["ZA*QA*200*EA", "ZA*QS*50*EA"], "Y": ["ZA*QA*40*EA", "ZA*QS*0*EA"]})
    _report("north", W3, {"X": ["ZA*QS*30*EA"]})
    return world


# RUNNING's order: periods, days, periods stating sales, periods selling, periods with an
# on-hand level, periods with on hand > 0, then in ten-thousandths: units sold, positive
# on-hand summed, units sold in periods with on hand > 0.


def test_each_row_holds_the_totals_of_its_item_locations_rows_up_to_it(world):
    # X: week 1 alone; week 3 adds 30 sold and the 200 carried forward (14 days).
    assert _totals(world["x"], W1) == (1, 7, 1, 1, 1, 1, 500_000, 2_000_000, 500_000)
    assert _totals(world["x"], W3) == (2, 14, 2, 2, 2, 2, 800_000, 4_000_000, 800_000)
    # Y states 0 sold: a period stating sales, not one selling.
    assert _totals(world["y"], W1) == (1, 7, 1, 0, 1, 1, 0, 400_000, 0)


def test_a_late_report_changes_the_totals_of_the_periods_after_it(world):
    # The week to 03-14 arrives after week 3: X -5 on hand (a stockout), 12.5 sold. Week 3
    # now carries -5 forward: no stock in weeks 2 and 3, and 42.5 more sold.
    _report("north", W2, {"X": ["ZA*QA*-5*EA", "ZA*QS*12.5*EA"]})

    assert _totals(world["x"], W2) == (2, 14, 2, 2, 2, 1, 625_000, 2_000_000, 500_000)
    assert _totals(world["x"], W3) == (3, 21, 3, 3, 3, 1, 925_000, 2_000_000, 500_000)
    service = service_report(scope=EVERYTHING, filters=ALL, start=date(2027, 3, 8), end=W3)
    assert service["overall"]["stockouts"] == 2
    assert service["overall"]["units_sold"] == "42.5000"


def test_a_second_report_for_a_period_replaces_its_share_of_the_totals(world):
    _report("north", W2, {"X": ["ZA*QA*-5*EA", "ZA*QS*12.5*EA"]})
    # A correction for week 2 states only X's on hand, 40: its sales (12.5) stay; week 3
    # carries 40 forward.
    _report("north", W2, {"X": ["ZA*QA*40*EA"]})

    assert _totals(world["x"], W2) == (2, 14, 2, 2, 2, 2, 625_000, 2_400_000, 625_000)
    assert _totals(world["x"], W3) == (3, 21, 3, 3, 3, 3, 925_000, 2_800_000, 925_000)


def test_a_window_is_the_difference_of_two_rows_totals(world):
    from smi_core.selectors.finance.performance import _Window, _window_running

    _report("north", W2, {"X": ["ZA*QA*40*EA", "ZA*QS*12.5*EA"]})
    rows = costed_positions(scope=EVERYTHING, filters=ALL, as_of=W3)

    per_key, spans = _window_running(
        rows, start=date(2027, 3, 8), end=W3, rates=AgedRateBook(), target="USD"
    )

    # Weeks 2 and 3 of X: 12.5 + 30 sold, 40 on hand at both ends; Y has no row in them.
    x = next(r.position for r in rows if r.position.item_id == world["x"].pk)
    assert per_key == {
        (x.item_id, x.location_id): _Window(
            periods=2, units=D("42.5"), sold_stated=D("42.5"), cost_days=14,
            sold_converted=D("42.5"), stock_converted=D(80), points=2,
        )
    }  # fmt: skip
    assert str(per_key[(x.item_id, x.location_id)].units) == "42.5000"  # as the column's
    assert spans == {}  # nothing converted from another currency


@pytest.mark.parametrize("replay", ["late-reports"], indirect=True)
def test_after_late_reports_the_totals_equal_those_filled_from_the_rows(replay):
    columns = ("item_id", "location_id", "period_end", *RUNNING)
    kept = list(StockLevel.objects.order_by(*columns[:3]).values_list(*columns))
    assert any(row[3] > 1 for row in kept)  # histories of several periods

    StockLevel.objects.update(**dict.fromkeys(RUNNING, 0))
    stock_ledger_fill_running()  # what the migration's backfill runs

    assert list(StockLevel.objects.order_by(*columns[:3]).values_list(*columns)) == kept
    call_command("stock_ledger_rebuild", stdout=io.StringIO())
    assert list(StockLevel.objects.order_by(*columns[:3]).values_list(*columns)) == kept


@pytest.mark.parametrize("replay", ["in-order", "late-reports"], indirect=True)
@pytest.mark.parametrize(
    "start,end",
    [(date(2027, 1, 1), date(2027, 1, 20)), (date(2027, 1, 10), date(2027, 2, 17)),
     (date(2027, 2, 5), date(2027, 3, 1)), (date(2026, 12, 1), date(2026, 12, 31))],
    ids=["first-weeks", "middle", "last-weeks", "no-data"],
)  # fmt: skip
def test_service_sums_from_running_totals_equal_those_from_every_row(replay, start, end):
    from smi_core.selectors.finance.performance import _service_sums, _service_sums_scan

    rows = costed_positions(scope=EVERYTHING, filters=ALL, as_of=end)
    keys = [(r.position.item_id, r.position.location_id) for r in rows]

    assert _service_sums(keys, start=start, end=end) == _service_sums_scan(
        keys, start=start, end=end
    )
