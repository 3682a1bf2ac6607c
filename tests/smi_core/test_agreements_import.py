"""agreements_import: JSON with terms and capacities, CSV terms, all-or-nothing, history."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import AgreementTerm, SupplierCapacity, SupplyAgreement
from smi_core.services.items import items_import
from smi_edi.services.partners import partner_add
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def parties(tmp_path):
    partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyers = {}
    for code, isa in (
        ("demo-retail", "DEMORETAIL"),
        ("city-mart", "CITYMART"),
        ("acme-stores-eu", "ACMESTORESEU"),
    ):
        buyers[code] = partner_add(code=code, name=code, isa=f"ZZ:{isa}", with_token=False)[0].party
    LocationFactory(party=buyers["demo-retail"], code="S001")
    items_import(text=(SAMPLES / "items.csv").read_text())
    work = tmp_path / "import"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("852", "*.py"))
    return work


def test_the_sample_file_creates_three_agreements_with_terms_text_and_capacity(parties, capsys):
    call_command("agreements_import", str(parties / "agreements.json"))

    assert "created" in capsys.readouterr().out
    consignment = SupplyAgreement.objects.get(code="acme-demo-retail")
    assert (consignment.ownership, consignment.currency, consignment.service_level) == (
        "consignment",
        "USD",
        Decimal("0.95"),
    )
    assert "## 3. Ownership and consignment" in consignment.text
    eu = SupplyAgreement.objects.get(code="acme-stores-eu")
    assert (eu.intercompany, eu.seller_gross_margin, eu.currency) == (True, Decimal("0.25"), "EUR")
    assert AgreementTerm.objects.filter(agreement=consignment).count() == 21
    per_store = AgreementTerm.objects.get(
        agreement=consignment, item__vendor_item="ACME-1001", location__code="S001"
    )
    assert (per_store.min_quantity, per_store.max_quantity, per_store.lead_time_days) == (
        20,
        150,
        3,
    )
    assert SupplierCapacity.objects.get(item_group="paper").units_per_week == 400


def test_importing_the_same_file_again_changes_nothing(parties, capsys):
    call_command("agreements_import", str(parties / "agreements.json"))
    history_before = SupplyAgreement.history.count() + AgreementTerm.history.count()
    capsys.readouterr()

    call_command("agreements_import", str(parties / "agreements.json"))

    assert ": 0 created, 0 updated," in capsys.readouterr().out
    assert SupplyAgreement.history.count() + AgreementTerm.history.count() == history_before


def test_a_changed_file_updates_with_history(parties, capsys):
    call_command("agreements_import", str(parties / "agreements.json"))
    data = json.loads((parties / "agreements.json").read_text())
    data["agreements"][1]["payment_terms_days"] = 60
    (parties / "agreements.json").write_text(json.dumps(data))
    csv = parties / "terms-city-mart.csv"
    csv.write_text(
        csv.read_text().replace(
            "acme-city-mart,ACME-1001,,,,7,42,24,12,2.40,",
            "acme-city-mart,ACME-1001,,,,7,42,24,12,2.55,",
        )
    )
    capsys.readouterr()

    call_command("agreements_import", str(parties / "agreements.json"), "--verbose-changes")

    out = capsys.readouterr().out
    assert "updated agreement acme-city-mart: payment_terms_days" in out
    assert "updated term acme-city-mart/ACME-1001: unit_cost" in out
    term = AgreementTerm.objects.get(
        agreement__code="acme-city-mart", item__vendor_item="ACME-1001"
    )
    assert [h.unit_cost for h in term.history.order_by("history_id")] == [
        Decimal("2.40"),
        Decimal("2.55"),
    ]


def test_a_bad_row_is_reported_by_line_and_nothing_is_applied(parties):
    csv = parties / "terms-city-mart.csv"
    lines = csv.read_text().splitlines()
    lines[3] = lines[3].replace("ACME-1003", "NO-SUCH-ITEM")
    fields = lines[5].split(",")
    fields[9] = "cheap"  # unit_cost
    lines[5] = ",".join(fields)
    csv.write_text("\n".join(lines) + "\n")

    with pytest.raises(CommandError) as excinfo:
        call_command("agreements_import", str(parties / "agreements.json"))

    message = str(excinfo.value)
    assert "terms-city-mart.csv:4: item: 'NO-SUCH-ITEM' is not an item of the supplier" in message
    assert "terms-city-mart.csv:6: unit_cost: 'cheap' is not a number" in message
    assert not SupplyAgreement.objects.exists()


def test_a_terms_csv_on_its_own_updates_terms(parties, capsys):
    call_command("agreements_import", str(parties / "agreements.json"))
    update = parties / "update.csv"
    update.write_text(
        "agreement,item,location,max_quantity,unit_cost\nacme-demo-retail,ACME-1002,,90,3.10\n"
    )
    capsys.readouterr()

    call_command("agreements_import", str(update))

    assert "0 created, 1 updated" in capsys.readouterr().out
    assert (
        AgreementTerm.objects.get(
            agreement__code="acme-demo-retail", item__vendor_item="ACME-1002", location=None
        ).max_quantity
        == 90
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_level": "0.999999"}, "service_level: 0.999999 has more than 4 decimal places"),
        ({"service_level": "1"}, "service_level: 1 must be between 0 and 1"),
        ({"currency": "DOLLARS"}, "currency: 'DOLLARS' is not an ISO 4217 currency code"),
        ({"buyer": "nobody"}, "buyer: 'nobody' is not a registered buyer"),
        ({"ownership": "shared"}, "ownership: must be one of"),
    ],
    ids=["service-level-places", "service-level-range", "currency", "buyer", "ownership"],
)
def test_bad_agreement_fields_are_named(parties, change, message):
    data = json.loads((parties / "agreements.json").read_text())
    data["agreements"][0].update(change)
    (parties / "agreements.json").write_text(json.dumps(data))

    with pytest.raises(CommandError, match=message):
        call_command("agreements_import", str(parties / "agreements.json"))


def test_a_consignment_agreement_names_the_buyers_standing_order(parties):
    data = json.loads((parties / "agreements.json").read_text())
    data["agreements"][0]["settlement_po_number"] = "4500009000"
    (parties / "agreements.json").write_text(json.dumps(data))

    call_command("agreements_import", str(parties / "agreements.json"))

    code = data["agreements"][0]["code"]
    assert SupplyAgreement.objects.get(code=code).settlement_po_number == "4500009000"
    # BIG04 carries 22 characters at most
    data["agreements"][0]["settlement_po_number"] = "P" * 23
    (parties / "agreements.json").write_text(json.dumps(data))
    with pytest.raises(CommandError, match=r"settlement_po_number: .*22"):
        call_command("agreements_import", str(parties / "agreements.json"))
