"""A supplier with a USD consignment buyer (four weeks of SOAP, a stockout in the third)
and an EUR intercompany buyer (1,000 TEA received at EUR/USD 1.10), with rates: the finance
figures' and the assistant's test world."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from smi_core.models import AgreementTerm, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

D = Decimal


RATES = """currency,quote,date,rate,source
EUR,USD,2026-09-25,1.05,test
EUR,USD,2026-10-02,1.10,test
EUR,USD,2026-11-20,1.20,test
"""


def week(sender: str, start: str, end: str, store: str, lines, control: int) -> None:
    body = report_852(start, end, ship_to=store, lines=lines)
    body[1] = f"N1*BY*Buyer*92*{sender}"
    ingest(interchange([body], sender=sender, control=control))


def build_finance_world(settings, tmp_path) -> dict:
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    settings.SMI_REPORTING_CURRENCY = "USD"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    retail, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    eu, _ = partner_add(code="eu-stores", name="EU Stores", isa="ZZ:EUSTORES")
    LocationFactory(party=retail.party, code="S001")
    LocationFactory(party=eu.party, code="BER1")
    soap = ItemFactory(supplier=supplier.party, vendor_item="SOAP", gtin="")
    tea = ItemFactory(supplier=supplier.party, vendor_item="TEA", gtin="")
    consignment = SupplyAgreement.objects.create(
        code="retail",
        buyer=retail.party,
        supplier=supplier.party,
        currency="USD",
        ownership=SupplyAgreement.Ownership.CONSIGNMENT,
        payment_terms_days=14,
        lead_time_days=D(7),
        effective_from=date(2026, 1, 1),
    )
    AgreementTerm.objects.create(
        agreement=consignment, item=soap, unit_cost=D(2), net_selling_price=D(3)
    )
    group = SupplyAgreement.objects.create(
        code="eu-group",
        buyer=eu.party,
        supplier=supplier.party,
        currency="EUR",
        ownership=SupplyAgreement.Ownership.BUYER_ON_RECEIPT,
        intercompany=True,
        seller_gross_margin=D("0.25"),
        payment_terms_days=90,
        lead_time_days=D(3),
        effective_from=date(2026, 1, 1),
    )
    AgreementTerm.objects.create(
        agreement=group, item=tea, unit_cost=D(10), net_selling_price=D("9.5")
    )
    fx_load(text=RATES, actor=Actor.system("test"))
    # Demo Retail (USD, consignment): four weeks of SOAP, a stockout in the third.
    for n, (start, end, on_hand, sold) in enumerate(
        [
            ("20261026", "20261101", 100, 20),
            ("20261102", "20261108", 80, 20),
            ("20261109", "20261115", 0, 10),
            ("20261116", "20261122", 100, 20),
        ]
    ):
        week(
            "DEMORETAIL",
            start,
            end,
            "S001",
            [("VN*SOAP", [f"ZA*QA*{on_hand}*EA", f"ZA*QS*{sold}*EA"])],
            control=100 + n,
        )
    # EU Stores (EUR, intercompany): 1,000 TEA received in the week to 2026-10-04.
    week(
        "EUSTORES",
        "20260928",
        "20261004",
        "BER1",
        [("VN*TEA", ["ZA*QR*1000*EA", "ZA*QA*1000*EA"])],
        control=200,
    )
    return {"supplier": supplier, "retail": retail, "eu": eu, "soap": soap, "tea": tea}


RETAIL_TEXT = """# Agreement: Acme Supply and Demo Retail

## 1. Scope
Supplier manages the household products at Demo Retail's store S001.

## 4. Payment terms
Buyer pays for consumed goods within 14 days of the end of the week in which they were
sold, in US dollars.

## 7. Obsolete and slow-moving stock
Consigned stock that has not sold for 26 weeks is returned to Supplier at Supplier's cost;
Buyer is not liable for obsolete consigned stock.
"""

EU_TEXT = """# Intercompany supply agreement: Acme Supply and EU Stores

## 2. Ownership
Title passes to the Buyer when the goods are received at the Berlin store.

## 3. Payment terms
Buyer pays each invoice 90 days after delivery, in euros.

## 6. Obsolescence
Buyer bears the full cost of stock that becomes obsolete or unsaleable after delivery.
"""


def index_agreement_texts() -> None:
    """Give the two agreements their text and index their clauses for the assistant."""
    from reporting_assistant.store import agreement_index

    for code, text in (("retail", RETAIL_TEXT), ("eu-group", EU_TEXT)):
        agreement = SupplyAgreement.objects.get(code=code)
        agreement.text = text
        agreement.save()
        agreement_index(agreement_id=agreement.pk)
