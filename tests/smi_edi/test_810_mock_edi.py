"""Our 810s and 820s checked by a party no one here wrote: mock-edi (PyPI) plays the buyer.

It places a purchase order with our supplier, then receives our 810 invoice for it (and a
credit memo) by HTTP POST on 127.0.0.1 from our outbound delivery, exactly as a partner's
endpoint gets an 855; and, the whole way, a consignment month prepared, approved by
another user and issued in the hub, whose 810 our outbound delivery posts to it. Its own
validation checks every segment against its dictionary; the test names each finding it
reports and why it is its dictionary's (narrower than X12) and not our error. mock-edi does not write 820s (it only receives them, as the payee), so the
820 check runs the other way: an advice our writer produces, paying the mock's invoice,
goes to mock-edi, which reads it and files the payment against that invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import AgreementTerm, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.roles import roles_ensure
from smi_core.services.settlement import settlement_approve, settlement_issue, settlement_prepare
from smi_edi.models import OutboundDocument
from smi_edi.services.outbound import outbound_create
from smi_edi.services.partners import partner_add
from smi_edi.x12.ts810 import AllowanceCharge810, Invoice810, InvoiceLine810, Party810, segments_810
from smi_edi.x12.ts820 import (
    Adjustment820,
    Party820,
    Remittance820,
    RemittanceItem820,
    read_820,
    segments_820,
)
from tests.factories import ItemFactory, LocationFactory
from tests.finance_world import week
from tests.smi_core.test_settlement import person
from tests.smi_edi.x12_sets import body_of, one_set

mockedi = pytest.importorskip("mockedi.testing", reason="mock-edi is in the dev extra")

pytestmark = pytest.mark.django_db
D = Decimal
PO = "4500002001"
STANDING = "4500009000"  # the buyer's standing order for consigned stock


@pytest.fixture
def buyer_mock():
    # held: it posts nothing (its 850, its 997s) until stepped, so it never calls back
    mock = mockedi.Mock.start(as2_id="DEMORETAIL", hold_delivery=True)
    yield mock
    mock.close()


@pytest.fixture
def partners(settings, tmp_path, buyer_mock):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", role="buyer"
    )
    buyer.endpoint_url = f"{buyer_mock.base}/edi"
    buyer.save()
    # mock-edi's side: our supplier is a supplier it buys from, and it has ordered from it
    buyer_mock.post(
        "/_mock/partners",
        {"id": "ACMESUPPLY", "role": "supplier", "as2_url": "http://127.0.0.1:9/as2"},
    )
    placed = buyer_mock.post(
        "/_mock/purchase",
        {
            "partner": "ACMESUPPLY",
            "po_number": PO,
            "requested_on": "2026-12-20",
            "lines": [
                {"sku": "ACME-1001", "quantity": "37", "uom": "EA", "price": "2.40"},
                {"sku": "ACME-1002", "quantity": "5", "uom": "CA", "price": "28.125"},
            ],
        },
    )
    assert placed.status == 201, placed.body
    return supplier, buyer


def invoice(**change) -> Invoice810:
    fields = {
        "invoice_number": "INV-2026-0042",
        "invoice_date": date(2026, 12, 1),
        "seller": Party810("ACMESUPPLY", "Acme Supply"),
        "buyer": Party810("DEMORETAIL", "Demo Retail"),
        "po_number": PO,
        "po_date": date(2026, 11, 16),
        "lines": (
            InvoiceLine810(
                "1", D(37), "EA", D("2.40"), (("UP", "614140010012"), ("VN", "ACME-1001")), "Widget"
            ),
            InvoiceLine810("2", D(5), "CA", D("28.125"), (("VN", "ACME-1002"),)),
        ),
        "terms_net_days": 30,
        "period_start": date(2026, 11, 1),  # the billing cycle, as settlement writes it
        "period_end": date(2026, 11, 30),
        "allowances_charges": (AllowanceCharge810("C", "D240", D("12.50"), "Freight"),),
    }
    return Invoice810(**{**fields, **change})


def send(supplier, buyer, document: Invoice810) -> OutboundDocument:
    sent = outbound_create(
        sender=supplier,
        partner=buyer,
        set_id="810",
        segments=segments_810(document),
        actor=Actor.system("test"),
    )
    sent.refresh_from_db()
    return sent


def received(mock, code: str) -> list[dict]:
    return [d for d in mock.get("/_mock/documents").body if d["code"] == code]


def narrower(findings: list[str]) -> list[str]:
    """The findings, without mock-edi's summary line and its list of the codes it knows."""
    return [f.split(" (")[0] for f in findings if f != "one or more segments in error"]


def test_mock_edi_receives_our_810_over_http_and_finds_only_its_dictionarys_gaps(
    partners, buyer_mock
):
    supplier, buyer = partners

    document = send(supplier, buyer, invoice())

    # our delivery posted it to mock-edi's endpoint, which took it (HTTP 200)
    assert document.status == OutboundDocument.Status.SENT, document.status_reason
    assert [(a.channel, a.ok, a.http_status) for a in document.delivery_attempts.all()] == [
        ("http", True, 200)
    ]
    (filed,) = received(buyer_mock, "810")
    assert (filed["direction"], filed["reference"], filed["invoice_number"]) == (
        "in",
        PO,
        "INV-2026-0042",
    )
    # its dictionary is narrower than X12: it does not know VN (vendor's item number) as an
    # IT1 product qualifier, as it does not for PO1 and LIN (test_mock_edi), nor the date
    # qualifiers 186 and 187 (invoice period start and end: the billing cycle a
    # consignment invoice covers). It reports exactly those and accepts the set; all else
    # it checked: BIG, CUR, N1, ITD, IT1, PID, TDS (our 241.93 in cents), SAC, CTT.
    assert filed["accepted"] == 1, filed["findings"]
    assert narrower(filed["findings"]) == [
        "DTM@7: 186 is not a code DTM01 accepts",
        "DTM@8: 187 is not a code DTM01 accepts",
        "IT1@9: VN is not a code IT108 accepts",
        "IT1@11: VN is not a code IT106 accepts",
    ]
    # and it read the invoice as we meant it: each line billed against its order line
    order = buyer_mock.order(PO, partner="ACMESUPPLY")
    assert [(line["sku"], line["invoiced"]) for line in order["lines"]] == [
        ("ACME-1001", "37"),
        ("ACME-1002", "5"),
    ]
    # its own arithmetic agrees with our TDS (no total-not-lines: the lines plus the SAC
    # charge) and our prices with its order (no price-not-agreed); its one business remark
    # is the nature of consignment: the stock was at the buyer already, so the invoice
    # bills consumption and no 856 ever precedes it
    assert [d["rule"] for d in order["disagreements"]] == ["billed-before-shipped"]


def test_a_credit_memo_reaches_mock_edi_as_a_credit(partners, buyer_mock):
    supplier, buyer = partners
    send(supplier, buyer, invoice())

    memo = send(
        supplier,
        buyer,
        invoice(
            invoice_number="CM-0042-1",
            invoice_date=date(2026, 12, 5),
            transaction_type="CR",
            original_invoice="INV-2026-0042",
            lines=(InvoiceLine810("1", D(2), "EA", D("2.40"), (("UP", "614140010012"),)),),
            allowances_charges=(),
            terms_net_days=None,
        ),
    )

    assert memo.status == OutboundDocument.Status.SENT, memo.status_reason
    credit = [d for d in received(buyer_mock, "810") if d["invoice_number"] == "CM-0042-1"]
    assert credit and credit[0]["accepted"] == 1, credit
    # REF*OI (original invoice number: the invoice the memo corrects) is the one code its
    # reference qualifier list lacks, besides the period's DTMs; BIG07 CR it knows
    assert narrower(credit[0]["findings"]) == [
        "REF@4: OI is not a code REF01 accepts",
        "DTM@7: 186 is not a code DTM01 accepts",
        "DTM@8: 187 is not a code DTM01 accepts",
    ]


def test_our_820_pays_mock_edis_invoice_and_mock_edi_files_the_payment(buyer_mock):
    # mock-edi as the payee this time: a customer of it, paying its invoice by our 820
    mock = buyer_mock
    mock.post("/_mock/partners", {"id": "PAYINGBUYER", "role": "customer"})
    advice = Remittance820(
        amount=D("380.43"),
        method="ACH",
        payment_date=date(2026, 12, 1),
        trace_number="TRACE-0042",
        payer=Party820("PAYINGBUYER", "Paying Buyer"),
        payee=Party820("DEMORETAIL", "Mock"),
        items=(
            RemittanceItem820(
                "INV-2026-0042",
                paid=D("380.43"),
                invoice_amount=D("405.43"),
                invoice_date=date(2026, 12, 1),
                adjustments=(Adjustment820(D("-25.00"), "20"),),
            ),
        ),
    )
    data = one_set(
        "820", segments_820(advice), "004010", sender="PAYINGBUYER", receiver="DEMORETAIL"
    )

    summary = mock.send(data.decode("ascii"))

    assert summary["accepted"], summary
    (filed,) = received(mock, "820")
    assert filed["accepted"] == 1 and narrower(filed["findings"]) == [], filed["findings"]
    (remittance,) = mock.get("/_mock/remittances?partner=PAYINGBUYER").body
    # it read BPR, TRN, CUR and the RMR as we wrote them, found the total equal to its
    # parts (no remittance-total-not-parts) and the payment settled by BPR16
    assert (
        remittance["trace"],
        remittance["total"],
        remittance["currency"],
        remittance["creditDebit"],
        remittance["settles"],
        remittance["status"],
    ) == ("TRACE-0042", "380.43", "USD", "C", "2026-12-01", "advised")
    assert remittance["invoices"] == [
        {"invoice": "INV-2026-0042", "paid": "380.43", "currency": "USD"}
    ]
    assert mock.get("/_mock/disagreements").body == []
    # and what mock-edi read is what our reader reads
    assert read_820(body_of(data)) == advice


def test_mock_edi_would_catch_a_total_that_is_not_its_lines(partners, buyer_mock):
    # the control for the silence above: a stated total 10.00 off is found by mock-edi
    supplier, buyer = partners

    send(supplier, buyer, invoice(total=D("251.93")))

    rules = [d["rule"] for d in buyer_mock.order(PO, partner="ACMESUPPLY")["disagreements"]]
    assert "total-not-lines" in rules


def _a_settled_month(partners, buyer_mock, standing_order: str):
    """November 2026 of a consignment agreement reported in the buyer's 852s, prepared by
    one finance user, approved by another and issued in the hub: the 810 goes out by the
    hub's own outbound delivery (HTTP POST to the buyer's endpoint, as an 855/856 does)."""
    supplier, buyer = partners
    roles_ensure()
    store = LocationFactory(party=buyer.party, code="S001")
    widget = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", gtin="")
    agreement = SupplyAgreement.objects.create(
        code="acme-retail",
        buyer=buyer.party,
        supplier=supplier.party,
        currency="USD",
        ownership=SupplyAgreement.Ownership.CONSIGNMENT,
        billing_cycle=SupplyAgreement.BillingCycle.MONTHLY,
        payment_terms_days=30,
        effective_from=date(2026, 1, 1),
        settlement_po_number=standing_order,
    )
    AgreementTerm.objects.create(agreement=agreement, item=widget, unit_cost=D("2.40"))
    # mock-edi files an invoice against an order it placed and refuses one naming none
    # (its business rule, not its dictionary): like many buyers it holds a standing order
    # for the consigned items, which the agreement names for our 810s (BIG04)
    placed = buyer_mock.post(
        "/_mock/purchase",
        {
            "partner": "ACMESUPPLY",
            "po_number": STANDING,
            "requested_on": "2026-12-31",
            "lines": [{"sku": "ACME-1001", "quantity": "1000", "uom": "EA", "price": "2.40"}],
        },
    )
    assert placed.status == 201, placed.body
    # 9 + 12 + 7 + 9 sold in the weeks ending in November, and a report to the 30th
    weeks = [
        ("20261102", "20261108", 9),
        ("20261109", "20261115", 12),
        ("20261116", "20261122", 7),
        ("20261123", "20261129", 9),
        ("20261130", "20261130", 0),
    ]
    for control, (start, end, sold) in enumerate(weeks, start=8101):
        lines = [("VN*ACME-1001", [f"ZA*QS*{sold}*EA"])]
        week("DEMORETAIL", start, end, store.code, lines, control)
    preparer, approver = person("pat", "finance"), person("ann", "finance")
    invoice, created = settlement_prepare(
        agreement_id=agreement.pk, day=date(2026, 11, 15), user=preparer, today=date(2026, 12, 1)
    )
    assert created and invoice.total == D("88.80")  # 37 x 2.40
    settlement_approve(invoice_id=invoice.pk, user=approver)
    return settlement_issue(invoice_id=invoice.pk, user=approver, today=date(2026, 12, 1))


def test_a_settlement_issued_in_the_hub_reaches_mock_edi_by_our_http_delivery(partners, buyer_mock):
    issued = _a_settled_month(partners, buyer_mock, STANDING)

    document = issued.document
    assert (document.set_id, document.status) == ("810", OutboundDocument.Status.SENT)
    assert [(a.channel, a.ok, a.http_status) for a in document.delivery_attempts.all()] == [
        ("http", True, 200)
    ]
    (filed,) = received(buyer_mock, "810")
    assert (filed["direction"], filed["reference"], filed["invoice_number"]) == (
        "in",
        STANDING,
        issued.number,
    )
    # Only its dictionary's gaps, as for the writer's invoice above: the billing period's
    # DTM 186/187 and VN as an IT1 product qualifier. Everything else the hub wrote (BIG
    # with the standing order, CUR, N1 SE/BY, ITD, IT1, PID with the location, TDS, CTT)
    # it accepts.
    assert filed["accepted"] == 1, filed["findings"]
    assert narrower(filed["findings"]) == [
        "DTM@7: 186 is not a code DTM01 accepts",
        "DTM@8: 187 is not a code DTM01 accepts",
        "IT1@9: VN is not a code IT106 accepts",
    ]
    # it billed the 37 consumed against its order line, found our TDS (88.80) equal to the
    # line and our price its own; its one remark is consignment's nature (no 856 before)
    order = buyer_mock.order(STANDING, partner="ACMESUPPLY")
    assert [(line["sku"], line["invoiced"]) for line in order["lines"]] == [("ACME-1001", "37")]
    assert [d["rule"] for d in order["disagreements"]] == ["billed-before-shipped"]


def test_a_settlement_citing_no_order_is_refused_by_mock_edi(partners, buyer_mock):
    # the control: without the standing order in BIG04, mock-edi (as many buyers do)
    # refuses the invoice, which is why the agreement carries it
    issued = _a_settled_month(partners, buyer_mock, "")

    assert issued.document.status == OutboundDocument.Status.SENT
    (filed,) = received(buyer_mock, "810")
    assert filed["accepted"] == 0
    assert "BIG@2: names no purchase order placed with ACMESUPPLY" in filed["findings"]
