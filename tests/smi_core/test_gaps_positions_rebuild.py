"""`positions_rebuild` on the command line: positions recomputed from the stored activity are
those ingestion left, and those the service computes."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import InventoryPosition
from smi_core.services.positions import positions_rebuild
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import weekly_history

pytestmark = pytest.mark.django_db
FIELDS = (
    "item__vendor_item",
    "location__party__code",
    "location__code",
    "on_hand",
    "on_order",
    "in_transit",
    "committed",
    "sold_last_period",
    "as_of",
    "source_set_id",
)


def snapshot() -> list[tuple]:
    return sorted(InventoryPosition.objects.values_list(*FIELDS))


@pytest.fixture
def history(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    for code in ("S001", "S002"):
        LocationFactory(party=buyer.party, code=code)
    for vendor_item in ("ACME-1001", "ACME-1004"):
        ItemFactory(supplier=supplier.party, vendor_item=vendor_item)
    weekly_history(
        {
            ("ACME-1001", "S001"): [5, 6, 7],
            ("ACME-1001", "S002"): [1, 0, 2],
            ("ACME-1004", "S001"): [9, 8, 7],
        },
        on_hand={("ACME-1001", "S001"): 15, ("ACME-1001", "S002"): 4, ("ACME-1004", "S001"): 30},
        last_week_end=date(2026, 11, 22),
    )
    return buyer.party


def test_the_command_rebuilds_what_ingestion_left(history, capsys):
    ingested = snapshot()
    InventoryPosition.objects.all().delete()
    capsys.readouterr()

    call_command("positions_rebuild")

    assert capsys.readouterr().out.strip() == "3 position(s) rebuilt from activity"
    assert snapshot() == ingested
    assert [(row[0], row[2], row[3], row[7], row[8]) for row in ingested] == [
        ("ACME-1001", "S001", 15, 7, date(2026, 11, 22)),
        ("ACME-1001", "S002", 4, 2, date(2026, 11, 22)),
        ("ACME-1004", "S001", 30, 7, date(2026, 11, 22)),
    ]


def test_the_command_equals_the_service(history):
    InventoryPosition.objects.update(on_hand=999, sold_last_period=0)  # drifted
    call_command("positions_rebuild", "--partner", "demo-retail")
    from_command = snapshot()
    InventoryPosition.objects.update(on_hand=999, sold_last_period=0)

    count = positions_rebuild(buyer=history)

    assert count == 3
    assert snapshot() == from_command
    assert all(row[3] != 999 for row in from_command)


def test_the_command_refuses_an_unknown_partner(history):
    before = snapshot()

    with pytest.raises(CommandError, match="no partner 'nobody'"):
        call_command("positions_rebuild", "--partner", "nobody")

    assert snapshot() == before
