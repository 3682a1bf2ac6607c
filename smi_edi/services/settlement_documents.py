"""Settlement documents: the 810 of an issued settlement, built from the domain's records
and sent like the 855/856 (validated by our maps first; folder, HTTP, AS2 as the partner's
profile says), and the buyer's 820 remittance advice read into plain values for the
domain's matching service.

The 810 is sent from the ``settlement.issued`` hook inside the issuing transaction: one
that fails our validation raises ``SettlementDocumentInvalid`` and nothing is issued.
Settlements under evaluated receipt settlement send nothing (the buyer self-bills).
"""

from __future__ import annotations

from decimal import Decimal

from smi_core.models import ItemCrossReference, Party, SettlementInvoice
from smi_core.services.activity import ApplyOutcome
from smi_core.services.audit import Actor
from smi_core.services.exceptions import exception_raise
from smi_core.services.settlement import SettlementDocumentInvalid
from smi_core.services.settlement_payments import (
    Adjustment,
    RemittanceIn,
    RemittanceLineIn,
    remittance_apply,
)
from smi_edi.models import InboundSet, Interchange, OutboundDocument
from smi_edi.services.order_documents import product_ids
from smi_edi.services.outbound import outbound_create, partner_for
from smi_edi.x12.ts810 import Invoice810, InvoiceLine810, Party810, segments_810
from smi_edi.x12.ts820 import REASON_CODES, Adjustment820, Remittance820, read_820

D = OutboundDocument
K = SettlementInvoice.Kind
TRANSACTION_TYPE = {K.INVOICE: "", K.CREDIT_MEMO: "CR", K.DEBIT_MEMO: "DR"}


def _party(party: Party) -> Party810:
    if party.gln:
        return Party810(id=party.gln, name=party.name, qualifier="UL")
    return Party810(id=party.code, name=party.name, qualifier="92")


def invoice_810(invoice: SettlementInvoice) -> Invoice810:
    """The settlement as an 810: one IT1 per item-location consumed (the location in the
    line's description), the cycle as the invoice period, the agreement's payment days as
    net terms, the buyer's standing purchase order (when the agreement names one) in BIG04; a memo's amounts positive with BIG07 CR/DR and the invoice it corrects."""
    lines = list(invoice.lines.select_related("item", "location").order_by("line_number"))
    buyer_items = dict(
        ItemCrossReference.objects.filter(
            buyer_id=invoice.buyer_id, item_id__in={line.item_id for line in lines}
        ).values_list("item_id", "buyer_item")
    )
    for line in lines:  # the ids the buyer can match, as on our 855/856
        line.buyer_item = buyer_items.get(line.item_id)
    return Invoice810(
        invoice_number=invoice.number,
        invoice_date=invoice.invoice_date,
        seller=_party(invoice.supplier),
        buyer=_party(invoice.buyer),
        currency=invoice.currency,
        transaction_type=TRANSACTION_TYPE[invoice.kind],
        original_invoice=invoice.original.number if invoice.original_id else "",
        po_number=invoice.agreement.settlement_po_number,  # the buyer's standing order
        period_start=invoice.cycle_start,
        period_end=invoice.cycle_end,
        terms_net_days=invoice.agreement.payment_terms_days,
        lines=tuple(
            InvoiceLine810(
                line_number=str(line.line_number),
                quantity=line.quantity,
                unit=line.unit or "EA",
                unit_price=line.unit_price,
                product_ids=product_ids(line),
                description=f"consumed at {line.location.code}",
            )
            for line in lines
        ),
        total=abs(invoice.total),
    )


def settlement_send(*, invoice_id: int, actor: Actor) -> OutboundDocument | None:
    """Write, validate, store and queue the 810 of an issued settlement (inside the
    issuing transaction); raise SettlementDocumentInvalid when our validation fails it.
    None under ERS."""
    invoice = SettlementInvoice.objects.select_related(
        "agreement", "buyer", "supplier", "original"
    ).get(pk=invoice_id)
    if invoice.method == SettlementInvoice.Method.ERS:
        return None
    buyer = partner_for(invoice.buyer)
    try:
        segments = segments_810(invoice_810(invoice), version=buyer.x12_version or "004010")
    except ValueError as exc:  # what an 810 cannot carry, said plainly by ts810
        raise SettlementDocumentInvalid(
            f"the 810 for {invoice.number} cannot be written; nothing was issued: {exc}",
            extra={"errors": [str(exc)]},
        ) from exc
    document = outbound_create(
        sender=partner_for(invoice.supplier),
        partner=buyer,
        set_id="810",
        segments=segments,
        actor=actor,
        settlement=invoice,
    )
    if document.status == D.Status.INVALID:
        raise SettlementDocumentInvalid(
            f"the 810 for {invoice.number} failed our validation; nothing was issued: "
            + "; ".join(document.validation_errors[:3]),
            extra={"errors": list(document.validation_errors)},
        )
    SettlementInvoice.objects.filter(pk=invoice.pk).update(document=document)
    return document


def settlement_issued(*, event: str, invoice_id: int) -> None:
    """The ``settlement.issued`` hook (registered in SmiEdiConfig.ready)."""
    if event != "settlement.issued":
        return
    issuer = SettlementInvoice.objects.select_related("issued_by").get(pk=invoice_id).issued_by
    actor = Actor.user(issuer) if issuer else Actor.system("settlement_810")
    settlement_send(invoice_id=invoice_id, actor=actor)


# -- 820 in --------------------------------------------------------------------------------


def _adjustment(adjustment: Adjustment820) -> Adjustment:
    meaning = REASON_CODES.get(adjustment.reason, "a code our list does not name")
    return Adjustment(adjustment.amount, f"{adjustment.reason} ({meaning})")


def remittance_in(advice: Remittance820, *, payer: Party, payee: Party, received) -> RemittanceIn:
    """The 820 as the domain's plain values. A payment date the buyer left out (BPR16) is
    the day the advice came."""
    return RemittanceIn(
        payer=payer,
        payee=payee,
        trace_number=advice.trace_number,
        payment_date=advice.payment_date or received,
        amount=advice.amount,
        currency=advice.currency,
        method=advice.method,
        lines=tuple(
            RemittanceLineIn(
                reference=item.invoice_number,
                paid=item.paid,
                invoice_amount=item.invoice_amount,
                discount=item.discount or Decimal(0),
                adjustments=tuple(_adjustment(a) for a in item.adjustments),
                invoice_date=item.invoice_date,
            )
            for item in advice.items
        ),
        adjustments=tuple(_adjustment(a) for a in advice.adjustments),
    )


def remittance_apply_820(inbound_set: InboundSet, stream, interchange: Interchange) -> ApplyOutcome:
    """Apply an accepted 820 set (the interchange dispatcher's handler): the buyer is the
    sender, the supplier the receiver. What cannot be read, or a reversal (BPR03 D), is an
    exception instead."""
    buyer = interchange.sender.party
    where = f"interchange #{interchange.pk}, ST02 {inbound_set.control_number}"
    try:
        advice = read_820([elements for elements, _ in stream])
    except ValueError as exc:
        exception_raise(
            kind="mapping_problem",
            partner=buyer,
            subject=f"820 {where}",
            message=f"The 820 in {where} could not be read: {exc}",
            action="Ask the buyer to correct and resend the remittance advice.",
            source_set=inbound_set,
        )
        return ApplyOutcome(rows=0)
    if advice.credit_debit != "C":
        exception_raise(
            kind="mapping_problem",
            partner=buyer,
            subject=f"820 {where}",
            message=f"The 820 in {where} (trace {advice.trace_number}) is a debit "
            f"(BPR03 {advice.credit_debit}), a reversal the hub does not apply.",
            action="Record the reversal by hand with the buyer's bank details.",
            source_set=inbound_set,
        )
        return ApplyOutcome(rows=0)
    remittance_apply(
        advice=remittance_in(
            advice,
            payer=buyer,
            payee=interchange.receiver.party,
            received=interchange.received_at.date(),
        ),
        actor=Actor.partner(interchange.sender.code),
        source_set_id=inbound_set.pk,
    )
    return ApplyOutcome(rows=len(advice.items))
