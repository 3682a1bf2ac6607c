"""Command line for operators: partner_add, items_import, x12_ingest, positions."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import Item, ItemCrossReference
from smi_edi.models import TradingPartner
from tests.factories import LocationFactory
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db


@pytest.fixture
def onboarded(settings, tmp_path, capsys):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    call_command(
        "partner_add",
        "acme-supply",
        "--name",
        "Acme Supply",
        "--isa",
        "ZZ:ACMESUPPLY",
        "--role",
        "supplier",
    )
    call_command(
        "partner_add",
        "demo-retail",
        "--name",
        "Demo Retail",
        "--isa",
        "ZZ:DEMORETAIL",
        "--gs",
        "DEMORETAIL",
    )
    csv = tmp_path / "items.csv"
    csv.write_text(
        "supplier,vendor_item,gtin,description,unit,pack_size,buyer,buyer_item\n"
        "acme-supply,ACME-1001,00614140010012,Hand soap,EA,12,demo-retail,DR-50001\n"
        "acme-supply,ACME-1002,00614140010029,Dish liquid,EA,24,,\n"
    )
    call_command("items_import", str(csv))
    LocationFactory(party=TradingPartner.objects.get(isa_id="DEMORETAIL").party, code="S001")
    capsys.readouterr()
    return tmp_path


def test_partner_add_registers_the_profile_and_prints_a_token(onboarded):
    partner = TradingPartner.objects.get(isa_id="DEMORETAIL")

    assert (partner.party.code, partner.party.role, partner.isa_qualifier, partner.gs_id) == (
        "demo-retail",
        "buyer",
        "ZZ",
        "DEMORETAIL",
    )
    assert partner.api_user.auth_token.key


@pytest.mark.parametrize(
    ("isa", "message"),
    [
        ("DEMORETAIL", "QUALIFIER:ID"),
        ("QQ:X", "is not one of"),
        ("ZZ:ACMESUPPLY", "already belongs to partner acme-supply"),
    ],
    ids=["no-qualifier", "unknown-qualifier", "taken"],
)
def test_partner_add_refuses_bad_isa_ids(onboarded, isa, message):
    with pytest.raises(CommandError, match=message):
        call_command("partner_add", "newbie", "--name", "New", "--isa", isa)


def test_items_import_loads_items_and_cross_references_and_is_repeatable(onboarded, capsys):
    assert Item.objects.get(vendor_item="ACME-1001").pack_size == 12
    assert ItemCrossReference.objects.get().buyer_item == "DR-50001"

    call_command("items_import", str(onboarded / "items.csv"))

    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out


def test_items_import_applies_nothing_when_a_row_is_bad(onboarded):
    bad = onboarded / "bad.csv"
    bad.write_text(
        "supplier,vendor_item,gtin,unit\nacme-supply,ACME-2001,00614140010012,EA\n"
        "acme-supply,ACME-2002,12345,EA\nnobody,ACME-2003,,EA\n"
    )

    with pytest.raises(CommandError) as excinfo:
        call_command("items_import", str(bad))

    assert "bad.csv:3: gtin: '12345' is not a GTIN" in str(excinfo.value)
    assert "bad.csv:4: supplier: 'nobody' is not a registered supplier" in str(excinfo.value)
    assert not Item.objects.filter(vendor_item="ACME-2001").exists()


def test_x12_ingest_then_positions_json(onboarded, capsys):
    path = onboarded / "week.edi"
    path.write_bytes(
        interchange(
            [
                report_852(
                    lines=[
                        (
                            "IN*DR-50001",
                            ["ZA*QA**EA", "SDQ*EA*92*S001*15", "ZA*QS**EA", "SDQ*EA*92*S001*7"],
                        )
                    ]
                )
            ]
        )
    )

    call_command("x12_ingest", str(path), "--wait", "--json")
    ingested = json.loads(capsys.readouterr().out)
    call_command("positions", "--partner", "demo-retail", "--json")
    positions = json.loads(capsys.readouterr().out)

    assert ingested[0]["status"] == "applied"
    assert (
        ingested[0]["sets_accepted"],
        ingested[0]["activity_rows"],
        ingested[0]["positions_changed"],
    ) == (1, 2, 1)
    assert positions == [
        {
            "partner": "demo-retail",
            "supplier": "acme-supply",
            "gtin": "00614140010012",
            "vendor_item": "ACME-1001",
            "description": "Hand soap",
            "location": "S001",
            "location_name": positions[0]["location_name"],
            "on_hand": "15",
            "on_order": "0",
            "in_transit": "0",
            "in_transit_shipped": "0",
            "committed": "0",
            "sold_last_period": "7",
            "unit": "EA",
            "as_of": "2026-11-15",
        }
    ]


def test_x12_ingest_refuses_a_file_that_is_not_x12(onboarded, capsys):
    path = onboarded / "notes.txt"
    path.write_text("hello")

    with pytest.raises(CommandError) as excinfo:
        call_command("x12_ingest", str(path))

    assert excinfo.value.returncode == 2
    assert "refused: not an X12 interchange" in capsys.readouterr().out
