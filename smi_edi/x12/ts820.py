"""The 820 remittance advice: read from a buyer's set, and written (for tests, and so the
demo can play a paying buyer). Framework-free (no Django), like ts855/ts856.

Data (frozen dataclasses; money is ``Decimal``, X12 R values with a decimal point):

``Remittance820``
    amount          Decimal, BPR02: the payment's total
    method          str, BPR04: ACH, CHK (cheque), FWT (wire), BOP, NON (no payment)
    payment_date    date | None, BPR16: the effective (settlement) date
    trace_number    str, TRN02 (TRN01 "1": current transaction trace); the payment's id
    payer           Party820, N1*PR
    payee           Party820, N1*PE
    items           tuple[RemittanceItem820, ...], one RMR loop each (ENT*1 holds them)
    adjustments     tuple[Adjustment820, ...], ADX directly in the ENT loop: deductions or
                    additions not tied to one invoice
    currency        str = "USD", CUR*PR*<code> (the amounts' currency; written always)
    handling        str = "I", BPR01: I remittance information only, C payment
                    accompanies the advice (the remittance uses; D/P/U/X are bank orders)
    credit_debit    str = "C", BPR03: C credit (a payment), D debit (a reversal)
    payment_format  str = "", BPR05 (CCP, CTX, ...)

``RemittanceItem820`` (one RMR loop)
    invoice_number  str, RMR02 (RMR01 ``reference_qualifier``, default "IV")
    paid            Decimal, RMR04: what this payment pays on the invoice
    invoice_amount  Decimal | None, RMR05: the invoice's total as the buyer has it
    discount        Decimal | None, RMR06: the terms discount taken
    invoice_date    date | None, DTM*003 in the RMR loop
    adjustments     tuple[Adjustment820, ...], the RMR loop's ADX segments
    reference_qualifier  str = "IV"

``Adjustment820``: ``amount`` Decimal (ADX01; negative reduces what is paid, e.g. -12.50
for a damaged-goods deduction), ``reason`` str (ADX02, X12 426 adjustment reason code,
e.g. "01" pricing error, "04" item not received, "CS" adjustment, "20" damaged), and
``reference_qualifier``/``reference`` (ADX03/ADX04, optional).

``Party820`` is ts810's ``Party810``: ``id`` (N104), ``name`` (N102), ``qualifier`` (N103, default "92").

``REASON_CODES`` names the common 426 codes for messages; others are kept as sent.

Functions: ``segments_820(remittance, version="004010") -> list[list]`` (the body between
ST and SE, for :mod:`smi_edi.x12.writer`), ``read_820(segments) -> Remittance820`` (body
with or without ST/SE; ValueError on what it cannot read, naming the segment). Functional
group ``RA``. :func:`parts_total` is what the items and adjustments add up to (BPR02
should equal it; the reader does not insist, the matching service reports it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .ts810 import (
    Party810,
    d8,
    element_at,
    n1_party,
    number,
    parse_d8,
    parse_number,
    required_parties,
)

FUNCTIONAL_ID = "RA"
INVOICE_DATE = "003"
HANDLING_CODES = {
    "I": "Remittance information only",
    "C": "Payment accompanies remittance advice",
}
METHODS = ("ACH", "CHK", "FWT", "BOP", "NON", "SWT", "CWT")
REASON_CODES = {
    "01": "Pricing error",
    "03": "Extension error",
    "04": "Item not accepted/damaged",
    "05": "Item not accepted/quality",
    "06": "Quantity contested",
    "07": "Incorrect product",
    "11": "Returns",
    "12": "Item not received",
    "19": "Unauthorized return",
    "20": "Damaged",
    "22": "Previous payment",
    "52": "Credit for overpayment",
    "59": "Item not received",
    "72": "Authorized return",
    "AX": "Freight deduction",
    "CS": "Adjustment",
    "DM": "Damaged merchandise",
    "FB": "Forwarding balance",
    "H1": "Promotional allowance",
}


# The N1 party (N104 id, N102 name, N103 qualifier) is the 810's.
Party820 = Party810


@dataclass(frozen=True)
class Adjustment820:
    amount: Decimal
    reason: str
    reference_qualifier: str = ""
    reference: str = ""

    @property
    def reason_text(self) -> str:
        return REASON_CODES.get(self.reason, f"reason {self.reason}")


@dataclass(frozen=True)
class RemittanceItem820:
    invoice_number: str
    paid: Decimal
    invoice_amount: Decimal | None = None
    discount: Decimal | None = None
    invoice_date: date | None = None
    adjustments: tuple[Adjustment820, ...] = ()
    reference_qualifier: str = "IV"


@dataclass(frozen=True)
class Remittance820:
    amount: Decimal
    method: str
    payment_date: date | None
    trace_number: str
    payer: Party820
    payee: Party820
    items: tuple[RemittanceItem820, ...]
    adjustments: tuple[Adjustment820, ...] = ()
    currency: str = "USD"
    handling: str = "I"
    credit_debit: str = "C"
    payment_format: str = ""

    def __post_init__(self) -> None:
        _check(self)

    @property
    def parts_total(self) -> Decimal:
        return parts_total(self)


def parts_total(remittance: Remittance820) -> Decimal:
    """What the RMR04 amounts and the ENT-level ADX01 amounts add up to. An RMR's own ADX
    explain its RMR04 (which already nets them) and are not added again."""
    return sum((item.paid for item in remittance.items), Decimal(0)) + sum(
        (adjustment.amount for adjustment in remittance.adjustments), Decimal(0)
    )


def _check(remittance: Remittance820) -> None:
    if remittance.handling not in HANDLING_CODES:
        raise ValueError(
            f"BPR01 {remittance.handling!r}: only the remittance uses I and C are advices "
            "(D, P, U and X instruct a bank)"
        )
    if remittance.credit_debit not in ("C", "D"):
        raise ValueError(f"BPR03 {remittance.credit_debit!r} is neither C (credit) nor D (debit)")
    if len(remittance.method) != 3:
        raise ValueError(f"BPR04 payment method {remittance.method!r} is not a three-letter code")
    if not remittance.amount.is_finite() or remittance.amount < 0:
        raise ValueError(f"BPR02 {remittance.amount} must be a non-negative amount")
    if not 1 <= len(remittance.trace_number) <= 50:
        raise ValueError(
            f"TRN02 trace number {remittance.trace_number!r} must be 1 to 50 characters"
        )
    if len(remittance.currency) != 3 or not remittance.currency.isalpha():
        raise ValueError(f"currency {remittance.currency!r} is not an ISO 4217 code")
    for party, role in ((remittance.payer, "payer"), (remittance.payee, "payee")):
        if not 2 <= len(party.id) <= 80:
            raise ValueError(f"the {role}'s id {party.id!r} must be 2 to 80 characters")
    for item in remittance.items:
        if not 1 <= len(item.invoice_number) <= 50:
            raise ValueError(
                f"RMR02 invoice number {item.invoice_number!r} must be 1 to 50 characters"
            )
        for value in (item.paid, item.invoice_amount, item.discount):
            if value is not None and not value.is_finite():
                raise ValueError(f"invoice {item.invoice_number}: {value} is not an amount")
    for adjustment in (
        *remittance.adjustments,
        *(a for i in remittance.items for a in i.adjustments),
    ):
        if len(adjustment.reason) != 2 or not adjustment.amount.is_finite():
            raise ValueError(
                f"adjustment {adjustment!r}: ADX02 must be a two-character reason code "
                "and ADX01 an amount"
            )
        if bool(adjustment.reference_qualifier) != bool(adjustment.reference):
            raise ValueError(f"adjustment {adjustment!r}: ADX03 and ADX04 go together")


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else number(value)


def _adx(adjustment: Adjustment820) -> list:
    segment = ["ADX", number(adjustment.amount), adjustment.reason]
    if adjustment.reference:
        segment += [adjustment.reference_qualifier, adjustment.reference]
    return segment


def segments_820(remittance: Remittance820, *, version: str = "004010") -> list[list]:
    """The body of the 820 (between ST and SE)."""
    bpr: list = [
        "BPR",
        remittance.handling,
        number(remittance.amount),
        remittance.credit_debit,
        remittance.method,
        remittance.payment_format or None,
    ]
    if remittance.payment_date:
        bpr += [None] * 10 + [d8(remittance.payment_date)]
    segments: list[list] = [
        bpr,
        ["TRN", "1", remittance.trace_number],
        ["CUR", "PR", remittance.currency],
        [
            "N1",
            "PR",
            remittance.payer.name or None,
            remittance.payer.qualifier,
            remittance.payer.id,
        ],
        [
            "N1",
            "PE",
            remittance.payee.name or None,
            remittance.payee.qualifier,
            remittance.payee.id,
        ],
    ]
    if remittance.items or remittance.adjustments:
        segments.append(["ENT", "1"])
    segments += [_adx(adjustment) for adjustment in remittance.adjustments]
    for item in remittance.items:
        segments.append(
            [
                "RMR",
                item.reference_qualifier,
                item.invoice_number,
                None,
                number(item.paid),
                _optional(item.invoice_amount),
                _optional(item.discount),
            ]
        )
        if item.invoice_date:
            segments.append(["DTM", INVOICE_DATE, d8(item.invoice_date)])
        segments += [_adx(adjustment) for adjustment in item.adjustments]
    return segments


# -- reading ---------------------------------------------------------------------------


def _maybe(value: str, where: str) -> Decimal | None:
    return parse_number(value, where) if value else None


def read_820(segments: Iterable[Sequence[str]]) -> Remittance820:
    """The 820 in ``segments`` (its body, with or without ST/SE) as data. Every ENT loop's
    RMR loops are read into ``items`` in order, and ADX outside any RMR into
    ``adjustments``."""
    head: dict = {}
    parties: dict[str, Party820] = {}
    items: list[dict] = []
    loose: list[Adjustment820] = []
    in_rmr = False
    for elements in segments:
        tag = elements[0]
        if tag == "ST" and element_at(elements, 1) != "820":
            raise ValueError(f"transaction set {element_at(elements, 1)} is not an 820")
        if tag == "BPR":
            head["handling"] = element_at(elements, 1)
            head["amount"] = parse_number(element_at(elements, 2), "BPR02")
            head["credit_debit"] = element_at(elements, 3) or "C"
            head["method"] = element_at(elements, 4)
            head["payment_format"] = element_at(elements, 5)
            head["payment_date"] = (
                parse_d8(element_at(elements, 16), "BPR16") if element_at(elements, 16) else None
            )
        elif tag == "TRN" and "trace_number" not in head:
            head["trace_number"] = element_at(elements, 2)
        elif tag == "CUR" and element_at(elements, 2):
            head["currency"] = element_at(elements, 2)
        elif tag == "N1":
            parties.setdefault(element_at(elements, 1), n1_party(elements))
        elif tag == "ENT":
            in_rmr = False
        elif tag == "RMR":
            in_rmr = True
            items.append(
                {
                    "reference_qualifier": element_at(elements, 1),
                    "invoice_number": element_at(elements, 2),
                    "paid": parse_number(element_at(elements, 4) or "0", "RMR04"),
                    "invoice_amount": _maybe(element_at(elements, 5), "RMR05"),
                    "discount": _maybe(element_at(elements, 6), "RMR06"),
                    "invoice_date": None,
                    "adjustments": [],
                }
            )
        elif tag == "DTM" and in_rmr and element_at(elements, 1) == INVOICE_DATE:
            items[-1]["invoice_date"] = parse_d8(element_at(elements, 2), "DTM*003")
        elif tag == "ADX":
            adjustment = Adjustment820(
                amount=parse_number(element_at(elements, 1), "ADX01"),
                reason=element_at(elements, 2),
                reference_qualifier=element_at(elements, 3),
                reference=element_at(elements, 4),
            )
            (items[-1]["adjustments"] if in_rmr else loose).append(adjustment)
    if "amount" not in head:
        raise ValueError("the 820 has no BPR segment")
    if "trace_number" not in head:
        raise ValueError("the 820 has no TRN segment: the payment has no trace number")
    payer, payee = required_parties(parties, ("PR", "PE"), "820")
    return Remittance820(
        payer=payer,
        payee=payee,
        items=tuple(
            RemittanceItem820(**{**item, "adjustments": tuple(item["adjustments"])})
            for item in items
        ),
        adjustments=tuple(loose),
        **head,
    )
