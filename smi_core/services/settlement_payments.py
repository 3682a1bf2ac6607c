"""The buyer's remittance advice (820, handed over by the EDI app as plain values) applied
to our settlements.

Each remittance line is matched to an issued settlement of the same buyer, supplier and
currency by its invoice number; failing that, by amount (the buyer's figure for the
invoice, else what it paid, against the open balance) and then the due date nearest the
payment date; under evaluated receipt settlement (the buyer's own number and amount),
to the latest open self-billed cycle ended by the invoice date the buyer gives, else the
oldest open one; failing that it stays unmatched and says so. What does not square becomes an
exception with the figures and the reason codes the 820 gave:

- ``payment_deduction``: adjustments (ADX) and discounts the buyer took;
- ``payment_short`` / ``payment_over``: paid below / above the open balance (a short
  payment says how much of it the deductions explain);
- ``ers_difference``: under evaluated receipt settlement, the buyer's own figure for the
  cycle against ours;
- ``payment_unmatched``: a line matching no settlement, or a total (BPR02) that is not the
  sum of the lines.

Applying the same remittance again (the same payer and trace number, TRN02) changes
nothing: the database holds one per payer and trace number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from smi_core.exceptions import ApplicationError
from smi_core.models import Party, PaymentApplication, Remittance, SettlementInvoice
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_core.services.settlement import OPEN, settlement_transition

S = SettlementInvoice.Status
M = PaymentApplication.MatchedBy
ZERO = Decimal(0)


class RemittanceRefused(ApplicationError):
    code = "remittance_refused"


@dataclass(frozen=True)
class Adjustment:
    amount: Decimal  # signed as the 820 gives it: a deduction is negative
    reason: str


@dataclass(frozen=True)
class RemittanceLineIn:
    reference: str  # RMR02, our invoice number as the buyer gives it
    paid: Decimal  # RMR04
    invoice_amount: Decimal | None = None  # RMR05, the buyer's figure for the invoice
    discount: Decimal = ZERO  # RMR06
    adjustments: tuple[Adjustment, ...] = ()  # explain ``paid``, which already nets them
    invoice_date: date | None = None  # DTM*003: the invoice's date as the buyer has it


@dataclass(frozen=True)
class RemittanceIn:
    payer: Party
    payee: Party
    trace_number: str
    payment_date: date
    amount: Decimal
    currency: str
    method: str = ""
    lines: tuple[RemittanceLineIn, ...] = field(default_factory=tuple)
    adjustments: tuple[Adjustment, ...] = ()  # not tied to one invoice; part of ``amount``


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _match(advice: RemittanceIn, line: RemittanceLineIn, taken: set[int]):
    open_invoices = SettlementInvoice.objects.select_for_update().filter(
        buyer=advice.payer, supplier=advice.payee, currency=advice.currency
    )
    if line.reference:
        by_number = open_invoices.filter(number=line.reference, status__in=(*OPEN, S.PAID)).first()
        if by_number is not None:
            return by_number, M.NUMBER
    wanted = line.invoice_amount if line.invoice_amount is not None else line.paid
    candidates = [
        inv
        for inv in open_invoices.filter(status__in=OPEN).exclude(pk__in=taken)
        if inv.balance == wanted or inv.total == wanted
    ]
    if candidates:
        # The invoice of the date the buyer gives, else the one due nearest the payment.
        candidates.sort(
            key=lambda inv: (
                inv.invoice_date != line.invoice_date,
                abs((inv.due_date - advice.payment_date).days) if inv.due_date else 10**6,
                inv.pk,
            )
        )
        return candidates[0], M.AMOUNT_DATE
    # Under ERS the buyer bills itself under its own number and amount: the open cycle
    # it settles is the latest one ended by the date it gives, else the oldest open one.
    ers = (
        open_invoices.filter(status__in=OPEN, method=SettlementInvoice.Method.ERS)
        .exclude(pk__in=taken)
        .order_by("cycle_start", "pk")
    )
    if line.invoice_date is not None:
        by_date = ers.filter(cycle_end__lte=line.invoice_date).order_by("-cycle_start").first()
        if by_date is not None:
            return by_date, M.CYCLE
    oldest = ers.first()
    if oldest is not None:
        return oldest, M.CYCLE
    return None, M.UNMATCHED


def remittance_apply(
    *, advice: RemittanceIn, actor: Actor, source_set_id: int | None = None
) -> tuple[Remittance, bool]:
    """Record the remittance and apply its lines; (remittance, created). A remittance
    already recorded under the payer's trace number is returned as it is."""
    if not advice.trace_number.strip():
        raise RemittanceRefused("a remittance needs its trace number (TRN02)")
    if advice.amount < 0:
        raise RemittanceRefused(f"a payment of {advice.amount} is negative")
    existing = Remittance.objects.filter(
        payer=advice.payer, trace_number=advice.trace_number
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            remittance = Remittance.objects.create(
                payer=advice.payer,
                payee=advice.payee,
                trace_number=advice.trace_number,
                payment_date=advice.payment_date,
                amount=advice.amount,
                currency=advice.currency,
                method=advice.method,
                source_set_id=source_set_id,
            )
            applied = _apply_lines(remittance, advice)
            audit_record(
                actor=actor,
                action="remittance.apply",
                object_type="remittance",
                object_id=remittance.pk,
                after={
                    "trace": advice.trace_number,
                    "payer": advice.payer.code,
                    "amount": advice.amount,
                    "currency": advice.currency,
                    "payment_date": advice.payment_date,
                    "lines": applied,
                },
            )
    except IntegrityError:
        # The same remittance applied at the same moment elsewhere: that one stands.
        return Remittance.objects.get(payer=advice.payer, trace_number=advice.trace_number), False
    return remittance, True


def _apply_lines(remittance: Remittance, advice: RemittanceIn) -> list[dict]:
    # Each exception names the 820 set it came from, where there is one.
    links = {"source_set_id": remittance.source_set_id} if remittance.source_set_id else {}
    trace = advice.trace_number
    applied = []
    taken: set[int] = set()
    # Every settlement a line may be matched to, locked up front in one order: two 820s
    # naming the same invoices in different orders would otherwise each hold one and wait
    # for the other (a deadlock the database breaks by failing one of them).
    references = [line.reference for line in advice.lines if line.reference]
    list(
        SettlementInvoice.objects.select_for_update()
        .filter(buyer=advice.payer, supplier=advice.payee, currency=advice.currency)
        .filter(Q(status__in=OPEN) | Q(number__in=references))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    allocated = sum((line.paid for line in advice.lines), ZERO) + sum(
        (a.amount for a in advice.adjustments), ZERO
    )
    if advice.adjustments:
        reasons = ", ".join(f"{a.reason} {_money(a.amount)}" for a in advice.adjustments)
        exception_raise(
            **links,
            kind="payment_deduction",
            partner=advice.payer,
            subject=f"remittance {trace}",
            message=f"{advice.payer.code}'s payment {trace} of {advice.payment_date} carries "
            f"adjustments tied to no invoice (reason codes: {reasons}).",
            action="Find what the buyer adjusted, accept it with a memo or dispute it; then "
            "resolve this exception.",
            details={
                "trace": trace,
                "adjustments": [
                    {"amount": str(a.amount), "reason": a.reason} for a in advice.adjustments
                ],
            },
        )
    if allocated != advice.amount:
        exception_raise(
            **links,
            kind="payment_unmatched",
            partner=advice.payer,
            subject=f"remittance {trace}",
            message=f"{advice.payer.code}'s payment {trace} of {advice.currency} "
            f"{_money(advice.amount)} lists {_money(allocated)} against invoices and "
            "adjustments; "
            f"{_money(advice.amount - allocated)} is not allocated.",
            action="Ask the buyer what the difference pays, then resolve this exception.",
            details={"trace": trace, "amount": str(advice.amount), "lines": str(allocated)},
        )
    for line in advice.lines:
        invoice, matched_by = _match(advice, line, taken)
        PaymentApplication.objects.create(
            remittance=remittance,
            invoice=invoice,
            reference=line.reference[:50],
            paid=line.paid,
            invoice_amount=line.invoice_amount,
            discount=line.discount,
            adjustments=[{"amount": str(a.amount), "reason": a.reason} for a in line.adjustments],
            matched_by=matched_by,
        )
        applied.append(
            {
                "reference": line.reference,
                "paid": str(line.paid),
                "invoice": invoice.number if invoice else None,
                "matched_by": matched_by,
            }
        )
        if invoice is None:
            exception_raise(
                **links,
                kind="payment_unmatched",
                partner=advice.payer,
                subject=f"{line.reference or '(no reference)'} in remittance {trace}",
                message=f"{advice.payer.code} paid {advice.currency} {_money(line.paid)} "
                f"against {line.reference or 'no invoice number'} (payment {trace} of "
                f"{advice.payment_date}); no open settlement has that number or amount.",
                action="Find the invoice the buyer meant and record the match, or ask the "
                "buyer; then resolve this exception.",
                details={"trace": trace, "reference": line.reference, "paid": str(line.paid)},
            )
            continue
        taken.add(invoice.pk)
        _settle(invoice, line, advice, links)
    return applied


def _settle(
    invoice: SettlementInvoice, line: RemittanceLineIn, advice: RemittanceIn, links: dict
) -> None:
    trace = advice.trace_number
    subject = f"{invoice.number} in remittance {trace}"
    open_before = invoice.balance
    invoice.paid += line.paid
    invoice.save(update_fields=["paid"])
    deductions = [a for a in line.adjustments if a.amount != 0]
    if line.discount:
        deductions.append(Adjustment(-abs(line.discount), "discount"))
    deducted = -sum((a.amount for a in deductions), ZERO)
    if deductions:
        reasons = ", ".join(f"{a.reason} {_money(a.amount)}" for a in deductions)
        exception_raise(
            **links,
            kind="payment_deduction",
            partner=invoice.buyer,
            subject=subject,
            message=f"{invoice.buyer.code} deducted {invoice.currency} {_money(deducted)} from "
            f"{invoice.number} (reason codes: {reasons}).",
            action="Accept the deduction with a credit memo, or dispute it with the buyer; "
            "then resolve this exception.",
            details={
                "invoice": invoice.number,
                "trace": trace,
                "deducted": str(deducted),
                "adjustments": [{"amount": str(a.amount), "reason": a.reason} for a in deductions],
            },
        )
    ers = invoice.method == SettlementInvoice.Method.ERS
    if ers:
        theirs = line.invoice_amount if line.invoice_amount is not None else line.paid + deducted
        if theirs != invoice.total:
            exception_raise(
                **links,
                kind="ers_difference",
                partner=invoice.buyer,
                subject=subject,
                message=f"{invoice.buyer.code} settled {invoice.cycle_start} to "
                f"{invoice.cycle_end} at {invoice.currency} {_money(theirs)}; we make it "
                f"{_money(invoice.total)} ({invoice.number}), a difference of "
                f"{_money(theirs - invoice.total)}.",
                action="Compare the buyer's quantities with the 852s listed on the settlement; "
                "agree the difference and correct with a memo, then resolve this exception.",
                details={
                    "invoice": invoice.number,
                    "ours": str(invoice.total),
                    "theirs": str(theirs),
                    "difference": str(theirs - invoice.total),
                },
            )
    short = open_before - line.paid
    if invoice.total < 0:  # a credit memo the buyer took: sign flips
        short = -short
    if short > 0 and not ers:
        unexplained = short - deducted
        exception_raise(
            **links,
            kind="payment_short",
            partner=invoice.buyer,
            subject=subject,
            message=f"{invoice.buyer.code} paid {invoice.currency} {_money(line.paid)} of "
            f"{_money(open_before)} open on {invoice.number}: short by {_money(short)}"
            + (
                f", of which {_money(deducted)} deducted with reason codes and "
                f"{_money(unexplained)} unexplained."
                if deducted
                else "."
            ),
            action="Chase the balance or accept it with a credit memo; then resolve this "
            "exception.",
            details={
                "invoice": invoice.number,
                "trace": trace,
                "open": str(open_before),
                "paid": str(line.paid),
                "short": str(short),
                "deducted": str(deducted),
                "unexplained": str(unexplained),
            },
        )
    elif short < 0:
        exception_raise(
            **links,
            kind="payment_over",
            partner=invoice.buyer,
            subject=subject,
            message=f"{invoice.buyer.code} paid {invoice.currency} {_money(line.paid)} on "
            f"{invoice.number}, {_money(-short)} more than the {_money(open_before)} open.",
            action="Refund the buyer or keep it as a credit against its next invoice; then "
            "resolve this exception.",
            details={"invoice": invoice.number, "trace": trace, "over": str(-short)},
        )
    if invoice.status in OPEN:
        settled = invoice.balance == 0 or (invoice.total >= 0) == (invoice.balance < 0)
        to = S.PAID if settled else S.PARTIALLY_PAID
        if to != invoice.status:
            settlement_transition(
                invoice=invoice,
                to=to,
                actor=Actor.partner(invoice.buyer.code),
                reason=f"remittance {trace} of {advice.payment_date}: {_money(line.paid)}",
            )
