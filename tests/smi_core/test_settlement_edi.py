"""The buyer's 820 through the real ingestion: validated by our maps, acknowledged, and
applied to our settlement (a partial payment with a damaged-goods deduction); the same
820 again pays nothing twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import ExceptionItem, PaymentApplication, Remittance
from smi_core.services.settlement import settlement_approve, settlement_issue, settlement_prepare
from smi_edi.x12.ts820 import (
    Adjustment820,
    Party820,
    Remittance820,
    RemittanceItem820,
    segments_820,
)
from tests.pipeline import ingest
from tests.smi_core.test_settlement import TODAY, world  # noqa: F401 (fixture)
from tests.x12_builders import interchange

pytestmark = pytest.mark.django_db
D = Decimal


def _text(segment: list) -> str:
    return "*".join("" if v is None else str(v) for v in segment).rstrip("*")


def remittance_file(advice: Remittance820, control: int) -> bytes:
    body = ["820", *(_text(s) for s in segments_820(advice))]
    return interchange([body], sender="NORTH", control=control, functional_id="RA")


def test_an_820_pays_our_invoice_and_lists_its_deduction(world):  # noqa: F811
    invoice, _ = settlement_prepare(
        agreement_id=world["agreement"].pk,
        day=date(2027, 2, 15),
        user=world["preparer"],
        today=TODAY,
    )
    settlement_approve(invoice_id=invoice.pk, user=world["approver"])
    settlement_issue(invoice_id=invoice.pk, user=world["approver"], today=TODAY)
    advice = Remittance820(
        amount=D("400.00"),
        method="ACH",
        payment_date=date(2027, 4, 8),
        trace_number="ACH20270408",
        payer=Party820(id="NORTH", name="North Stores"),
        payee=Party820(id="acme", name="Acme"),
        items=(
            RemittanceItem820(
                invoice_number=invoice.number,
                paid=D("400.00"),
                invoice_amount=D("428.25"),
                adjustments=(Adjustment820(D("-28.25"), "20"),),
            ),
        ),
    )

    received = ingest(remittance_file(advice, control=7001))

    assert received.status == "applied", received.status_reason
    remittance = Remittance.objects.get()
    assert (remittance.trace_number, remittance.amount, remittance.payment_date) == (
        "ACH20270408",
        D("400.00"),
        date(2027, 4, 8),
    )
    assert remittance.source_set.interchange_id == received.pk
    application = PaymentApplication.objects.get()
    assert (application.invoice_id, application.matched_by) == (invoice.pk, "number")
    invoice.refresh_from_db()
    # 428.25 - 400.00 = 28.25 open, all of it the deduction (reason 20, damaged).
    assert (invoice.balance, invoice.status) == (D("28.25"), "partially_paid")
    deduction = ExceptionItem.objects.get(kind="payment_deduction")
    assert deduction.details["adjustments"] == [{"amount": "-28.25", "reason": "20 (Damaged)"}]
    # the reason code and what it means, in the queue's message too
    assert "(reason codes: 20 (Damaged) -28.25)" in deduction.message
    short = ExceptionItem.objects.get(kind="payment_short")
    assert short.details["unexplained"] == "0.00"
    # Both name the 820 set they came from.
    assert deduction.source_set_id == short.source_set_id == remittance.source_set_id

    # The same advice again, in a new interchange: the trace number was applied already.
    ingest(remittance_file(advice, control=7002))
    assert Remittance.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.paid == D("400.00")


def test_a_reason_code_is_kept_with_its_meaning_or_said_to_be_unknown():
    from smi_edi.services.settlement_documents import _adjustment

    assert _adjustment(Adjustment820(D("-5.00"), "AX")).reason == "AX (Freight deduction)"
    # a code our list does not name is kept as sent, and said so (not "Q7 (reason Q7)")
    assert _adjustment(Adjustment820(D("-5.00"), "Q7")).reason == (
        "Q7 (a code our list does not name)"
    )
