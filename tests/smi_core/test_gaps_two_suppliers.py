"""With two suppliers carrying the same vendor item numbers and GTINs, an 852 maps only to
the items of the supplier it is addressed to (the ISA receiver)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smi_core.models import ExceptionItem, InventoryPosition, ItemCrossReference, ProductActivity
from smi_edi.models import Interchange
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
SHARED_GTIN = "00614140010012"
BETA_GTIN = "00614140020011"


def on_hand(quantity: int) -> list[str]:
    return ["ZA*QA**EA", f"SDQ*EA*92*S001*{quantity}"]


WEEK = report_852(
    lines=[
        ("VN*V-100", on_hand(10)),  # both suppliers have a V-100
        (f"EN*{SHARED_GTIN}", on_hand(11)),  # both suppliers have this GTIN (on V-100)
        (f"EN*{BETA_GTIN}", on_hand(5)),  # only beta has this GTIN
        ("IN*DR-1", on_hand(3)),  # the buyer's number for an Acme item
        ("VN*ACME-ONLY", on_hand(7)),  # only Acme has it
    ]
)


@pytest.fixture
def suppliers(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    acme, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    beta, _ = partner_add(
        code="beta-supply", name="Beta", isa="ZZ:BETASUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    LocationFactory(party=buyer.party, code="S001")
    acme_only = ItemFactory(supplier=acme.party, vendor_item="ACME-ONLY")
    ItemCrossReference.objects.create(item=acme_only, buyer=buyer.party, buyer_item="DR-1")
    ItemFactory(supplier=acme.party, vendor_item="V-100", gtin=SHARED_GTIN)
    ItemFactory(supplier=beta.party, vendor_item="V-100", gtin=SHARED_GTIN)
    ItemFactory(supplier=beta.party, vendor_item="BETA-2", gtin=BETA_GTIN)
    return {"acme": acme.party, "beta": beta.party, "buyer": buyer.party}


def positions() -> dict[tuple[str, str], Decimal]:
    return {
        (p.item.supplier.code, p.item.vendor_item): p.on_hand
        for p in InventoryPosition.objects.select_related("item__supplier")
    }


def test_an_852_to_the_second_supplier_maps_only_to_its_items(suppliers):
    done = ingest(interchange([WEEK], receiver="BETASUPPLY"))

    assert done.status == Interchange.Status.APPLIED
    assert set(
        ProductActivity.objects.values_list("item__supplier__code", flat=True).distinct()
    ) == {"beta-supply"}
    # the two V-100 lines both land on beta's V-100: the later one states 11
    assert positions() == {
        ("beta-supply", "V-100"): Decimal(11),
        ("beta-supply", "BETA-2"): Decimal(5),
    }
    unknown = set(
        ExceptionItem.objects.filter(kind="unknown_item", partner=suppliers["buyer"]).values_list(
            "subject", flat=True
        )
    )
    assert unknown == {"IN:DR-1", "VN:ACME-ONLY"}


def test_the_same_file_to_the_first_supplier_maps_to_its_own_items(suppliers):
    ingest(interchange([WEEK], receiver="BETASUPPLY", control=1))

    ingest(interchange([WEEK], receiver="ACMESUPPLY", control=2))

    assert positions() == {
        ("beta-supply", "V-100"): Decimal(11),
        ("beta-supply", "BETA-2"): Decimal(5),
        ("acme-supply", "V-100"): Decimal(11),
        ("acme-supply", "ACME-ONLY"): Decimal(7),  # the later line (VN) after DR-1 (3)
    }
    acme_rows = ProductActivity.objects.filter(item__supplier=suppliers["acme"])
    assert sorted(acme_rows.values_list("item__vendor_item", "quantity")) == [
        ("ACME-ONLY", Decimal(3)),
        ("ACME-ONLY", Decimal(7)),
        ("V-100", Decimal(10)),
        ("V-100", Decimal(11)),
    ]
    assert ExceptionItem.objects.filter(kind="unknown_item", subject=f"EN:{BETA_GTIN}").exists()
