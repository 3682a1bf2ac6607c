"""Planning's weekly demand (852 QS per week) read the same on PostgreSQL (from the
segment table, one row per SDQ) and SQLite (one row per quantity): known answers."""

from __future__ import annotations

from datetime import date

import pytest

from smi_core.models import Item, Location
from smi_core.selectors.planning import weekly_demand
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest, weekly_history
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
LAST = date(2026, 11, 15)  # a Sunday


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    for code in ("DC01", "S001", "S002", "S003"):
        LocationFactory(party=buyer.party, code=code)
    for code in ("A", "B"):
        ItemFactory(supplier=supplier.party, vendor_item=code)


def key(item: str, store: str) -> tuple[int, int]:
    return (Item.objects.get(vendor_item=item).pk, Location.objects.get(code=store).pk)


def test_weekly_demand_sums_a_week_reported_twice_and_counts_zero_where_the_store_reported(
    world,
):
    # Three weeks of A and B at S001 and S002 (B at S002 sells nothing in week 2).
    weekly_history(
        {("A", "S001"): [3, 6, 1], ("A", "S002"): [4, 0, 2], ("B", "S001"): [5, 7, 9]},
        on_hand={},
        last_week_end=LAST,
    )
    # A second report for the last week: 2 more of A sold at S001 (added, not replacing).
    extra = [("VN*A", ["ZA*QS**EA", "SDQ*EA*92*S001*2"])]
    ingest(interchange([report_852("20261109", "20261115", lines=extra)], control=99))

    keys = {key("A", "S001"), key("A", "S002"), key("B", "S001"), key("B", "S002")}
    keys.add(key("A", "S003"))  # S003 never reported: no series (unknown, not zero)
    demand = weekly_demand(keys, as_of=date(2026, 11, 16), weeks=4)

    assert demand == {
        key("A", "S001"): [3.0, 6.0, 3.0],
        key("A", "S002"): [4.0, 0.0, 2.0],
        key("B", "S001"): [5.0, 7.0, 9.0],
        key("B", "S002"): [0.0, 0.0, 0.0],  # S002 reported those weeks, never B
    }
