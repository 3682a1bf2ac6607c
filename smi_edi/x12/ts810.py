"""The 810 invoice (and its credit and debit memos): built from plain data, and read back.
Framework-free (no Django), like ts855/ts856.

Data (all frozen dataclasses; money and quantities are ``Decimal``):

``Invoice810``
    invoice_number    str, BIG02 (1 to 22 characters)
    invoice_date      date, BIG01
    seller            Party810, written as N1*SE (selling party)
    buyer             Party810, written as N1*BY (buying party)
    lines             tuple[InvoiceLine810, ...], one IT1 loop each (at least one)
    po_number         str = "", BIG04 (the purchase order billed; "" for consignment
                      settlement that bills no order)
    po_date           date | None, BIG03
    currency          str = "USD", CUR*SE*<code> (always written)
    transaction_type  str = "", BIG07: "" an invoice, "CR" a credit memo, "DR" a debit
                      memo (X12 640). A memo's amounts are positive; BIG07 says which way.
    original_invoice  str = "", REF*OI: the invoice a memo corrects
    period_start      date | None, DTM*186 (invoice period start, e.g. a billing cycle)
    period_end        date | None, DTM*187 (invoice period end)
    terms_net_days    int | None, ITD07 (ITD*01*3: basic terms from the invoice date)
    terms_discount_percent  Decimal | None, ITD03
    terms_discount_days     int | None, ITD05
    allowances_charges tuple[AllowanceCharge810, ...], summary SAC loops
    total             Decimal | None: None computes it (sum of line amounts, less
                      allowances, plus charges), settled at construction; TDS01 carries it
                      in cents (N2, two implied decimals)

``Party810``: ``id`` (N104), ``name`` (N102), ``qualifier`` (N103, default "92",
assigned by buyer; "UL" GLN, "1"/"9" DUNS).

``InvoiceLine810``
    line_number  str, IT101
    quantity     Decimal, IT102 (> 0)
    unit         str, IT103 (EA, CA, ...)
    unit_price   Decimal, IT104 (>= 0)
    product_ids  tuple[(qualifier, value), ...], IT106.. pairs (at least one; UP/EN/UK GTIN
                 or UPC, VN vendor part, IN buyer part)
    description  str = "", PID*F (free form; over 80 characters split over several PIDs)
    amount       property: quantity x unit price, rounded to the cent (half up)

``AllowanceCharge810``: ``indicator`` "A" allowance / "C" charge, ``code`` SAC02 (four
characters, e.g. C310 discount, D240 freight), ``amount`` Decimal >= 0 (SAC05, cents),
``description`` "" (SAC15).

Functions: ``segments_810(invoice, version="004010") -> list[list]`` (the body between ST
and SE, for :mod:`smi_edi.x12.writer`), ``read_810(segments) -> Invoice810`` (body with or
without ST/SE; raises ValueError on what it cannot read). Functional group ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .ts855 import number, product_id_elements, product_id_pairs

FUNCTIONAL_ID = "IN"
CENT = Decimal("0.01")
TRANSACTION_TYPES = {"": "Invoice", "CR": "Credit memo", "DR": "Debit memo"}
PERIOD_START, PERIOD_END = "186", "187"
PID_TEXT = 80


@dataclass(frozen=True)
class Party810:
    id: str
    name: str = ""
    qualifier: str = "92"


@dataclass(frozen=True)
class InvoiceLine810:
    line_number: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    product_ids: tuple[tuple[str, str], ...]
    description: str = ""

    def __post_init__(self) -> None:
        # runs of white space are one space (PID05 values cannot keep them at their ends)
        object.__setattr__(self, "description", " ".join(self.description.split()))

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AllowanceCharge810:
    indicator: str  # A allowance, C charge
    code: str  # SAC02, four characters
    amount: Decimal
    description: str = ""

    @property
    def signed(self) -> Decimal:
        return -self.amount if self.indicator == "A" else self.amount


@dataclass(frozen=True)
class Invoice810:
    invoice_number: str
    invoice_date: date
    seller: Party810
    buyer: Party810
    lines: tuple[InvoiceLine810, ...]
    po_number: str = ""
    po_date: date | None = None
    currency: str = "USD"
    transaction_type: str = ""
    original_invoice: str = ""
    period_start: date | None = None
    period_end: date | None = None
    terms_net_days: int | None = None
    terms_discount_percent: Decimal | None = None
    terms_discount_days: int | None = None
    allowances_charges: tuple[AllowanceCharge810, ...] = field(default=())
    total: Decimal | None = None

    def __post_init__(self) -> None:
        _check(self)
        if self.total is None:
            object.__setattr__(self, "total", self.computed_total)

    @property
    def computed_total(self) -> Decimal:
        lines = sum((line.amount for line in self.lines), Decimal(0))
        extra = sum((ac.signed for ac in self.allowances_charges), Decimal(0))
        return (lines + extra).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def is_memo(self) -> bool:
        return self.transaction_type in ("CR", "DR")


def _check(invoice: Invoice810) -> None:
    """Clear errors for what the 810 cannot carry (the validator would reject it later,
    less plainly)."""
    if not 1 <= len(invoice.invoice_number) <= 22:
        raise ValueError(f"invoice number {invoice.invoice_number!r} must be 1 to 22 characters")
    if invoice.transaction_type not in TRANSACTION_TYPES:
        raise ValueError(
            f"transaction type {invoice.transaction_type!r} is not one of "
            f"{sorted(TRANSACTION_TYPES)} (invoice, CR credit memo, DR debit memo)"
        )
    if len(invoice.currency) != 3 or not invoice.currency.isalpha():
        raise ValueError(f"currency {invoice.currency!r} is not an ISO 4217 code")
    if len(invoice.po_number) > 22:
        raise ValueError(f"PO number {invoice.po_number!r} is longer than 22 characters")
    if not invoice.lines:
        raise ValueError(f"invoice {invoice.invoice_number} has no lines")
    for party, role in ((invoice.seller, "seller"), (invoice.buyer, "buyer")):
        if not 2 <= len(party.id) <= 80 or not party.qualifier:
            raise ValueError(f"the {role}'s id {party.id!r} must be 2 to 80 characters")
    for line in invoice.lines:
        where = f"invoice {invoice.invoice_number} line {line.line_number}"
        if not line.quantity.is_finite() or line.quantity <= 0:
            raise ValueError(f"{where}: quantity {line.quantity} must be above zero")
        if not line.unit_price.is_finite() or line.unit_price < 0:
            raise ValueError(f"{where}: unit price {line.unit_price} must not be negative")
        if not line.product_ids or not all(q and v for q, v in line.product_ids):
            raise ValueError(f"{where}: needs at least one product id (qualifier, value)")
        if len(line.unit) != 2:
            raise ValueError(f"{where}: unit {line.unit!r} is not a two-letter X12 unit")
    for ac in invoice.allowances_charges:
        if ac.indicator not in ("A", "C") or len(ac.code) != 4:
            raise ValueError(
                f"allowance/charge {ac!r}: indicator must be A or C and the code four characters"
            )
        if not ac.amount.is_finite() or ac.amount < 0:
            raise ValueError(f"allowance/charge {ac.code}: amount {ac.amount} must not be negative")
    if (invoice.terms_discount_percent is None) != (invoice.terms_discount_days is None):
        # ITD syntax L03040513: a discount percent needs the days it applies within
        raise ValueError("terms: a discount percent and its discount days go together")
    for days in (invoice.terms_net_days, invoice.terms_discount_days):
        if days is not None and not 0 <= days <= 999:
            raise ValueError(f"terms days {days} must be 0 to 999")


def cents(value: Decimal) -> str:
    """An N2 value: the amount in cents, no decimal point ("12345" is 123.45)."""
    return str(int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def _pid_chunks(text: str) -> list[str]:
    """Split a description into PID05 values of at most 80 characters, at spaces where
    possible; joined with a space they give the text back."""
    words, chunks, current = text.split(" "), [], ""
    for word in words:
        while len(word) > PID_TEXT:  # a single word longer than PID05
            if current:
                chunks.append(current)
                current = ""
            chunks.append(word[:PID_TEXT])
            word = word[PID_TEXT:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= PID_TEXT:
            current = candidate
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def segments_810(invoice: Invoice810, *, version: str = "004010") -> list[list]:
    """The body of the 810 (between ST and SE)."""
    segments: list[list] = [
        [
            "BIG",
            d8(invoice.invoice_date),
            invoice.invoice_number,
            d8(invoice.po_date) if invoice.po_date else None,
            invoice.po_number or None,
            None,
            None,
            invoice.transaction_type or None,
        ],
        ["CUR", "SE", invoice.currency],
    ]
    if invoice.original_invoice:
        segments.append(["REF", "OI", invoice.original_invoice])
    for role, party in (("SE", invoice.seller), ("BY", invoice.buyer)):
        segments.append(["N1", role, party.name or None, party.qualifier, party.id])
    terms = (invoice.terms_net_days, invoice.terms_discount_percent, invoice.terms_discount_days)
    if any(value is not None for value in terms):
        segments.append(
            [
                "ITD",
                "01",
                "3",
                number(invoice.terms_discount_percent)
                if invoice.terms_discount_percent is not None
                else None,
                None,
                str(invoice.terms_discount_days)
                if invoice.terms_discount_days is not None
                else None,
                None,
                str(invoice.terms_net_days) if invoice.terms_net_days is not None else None,
            ]
        )
    if invoice.period_start:
        segments.append(["DTM", PERIOD_START, d8(invoice.period_start)])
    if invoice.period_end:
        segments.append(["DTM", PERIOD_END, d8(invoice.period_end)])
    hash_total = Decimal(0)
    for line in invoice.lines:
        segments.append(
            [
                "IT1",
                line.line_number,
                number(line.quantity),
                line.unit,
                number(line.unit_price),
                None,
                *product_id_elements(line.product_ids),
            ]
        )
        for chunk in _pid_chunks(line.description) if line.description else []:
            segments.append(["PID", "F", None, None, None, chunk])
        hash_total += line.quantity
    segments.append(["TDS", cents(invoice.total)])
    for ac in invoice.allowances_charges:
        sac: list = ["SAC", ac.indicator, ac.code, None, None, cents(ac.amount)]
        if ac.description:
            sac += [None] * 9 + [ac.description]
        segments.append(sac)
    hash_text = number(hash_total)
    ctt: list = ["CTT", str(len(invoice.lines))]
    if sum(c.isdigit() for c in hash_text) <= 10:  # CTT02 is R 1/10
        ctt.append(hash_text)
    segments.append(ctt)
    return segments


# -- reading ---------------------------------------------------------------------------


def parse_d8(value: str, where: str) -> date:
    """A CCYYMMDD date (or YYMMDD, 20xx, as older versions write it); ValueError naming
    ``where`` otherwise. Shared by the 810, 820 and 846 readers."""
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        if len(value) == 6:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        pass
    raise ValueError(f"{where} {value!r} is not a CCYYMMDD date")


def element_at(elements: Sequence[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


def parse_number(value: str, where: str) -> Decimal:
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where} {value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{where} {value!r} is not a number")
    return result


def n1_party(elements: Sequence[str]) -> Party810:
    """The party of an N1 segment: N104 id, N102 name, N103 qualifier."""
    return Party810(
        id=element_at(elements, 4), name=element_at(elements, 2), qualifier=element_at(elements, 3)
    )


def required_parties(
    parties: dict[str, Party810], roles: tuple[str, ...], set_id: str
) -> list[Party810]:
    """The parties of ``roles`` (N101 codes) in that order; ValueError naming those missing.
    Shared by the 810 and 820 readers."""
    missing = [role for role in roles if role not in parties]
    if missing:
        raise ValueError(f"the {set_id} has no N1 loop for {' and '.join(missing)}")
    return [parties[role] for role in roles]


def _from_cents(value: str, where: str) -> Decimal:
    return (parse_number(value, where) / 100).quantize(CENT)


def read_810(segments: Iterable[Sequence[str]]) -> Invoice810:
    """The 810 in ``segments`` (its body, with or without ST/SE) as data."""
    head: dict = {}
    parties: dict[str, Party810] = {}
    lines: list[dict] = []
    charges: list[AllowanceCharge810] = []
    for elements in segments:
        tag = elements[0]
        if tag == "ST" and element_at(elements, 1) != "810":
            raise ValueError(f"transaction set {element_at(elements, 1)} is not an 810")
        if tag == "BIG":
            head["invoice_date"] = parse_d8(element_at(elements, 1), "BIG01")
            head["invoice_number"] = element_at(elements, 2)
            if element_at(elements, 3):
                head["po_date"] = parse_d8(element_at(elements, 3), "BIG03")
            head["po_number"] = element_at(elements, 4)
            head["transaction_type"] = element_at(elements, 7)
        elif tag == "CUR" and element_at(elements, 2):
            head["currency"] = element_at(elements, 2)
        elif tag == "REF" and element_at(elements, 1) == "OI":
            head["original_invoice"] = element_at(elements, 2)
        elif tag == "N1" and not lines:
            parties[element_at(elements, 1)] = n1_party(elements)
        elif tag == "ITD" and not lines:
            if element_at(elements, 3):
                head["terms_discount_percent"] = parse_number(element_at(elements, 3), "ITD03")
            if element_at(elements, 5):
                head["terms_discount_days"] = int(parse_number(element_at(elements, 5), "ITD05"))
            if element_at(elements, 7):
                head["terms_net_days"] = int(parse_number(element_at(elements, 7), "ITD07"))
        elif tag == "DTM" and not lines and element_at(elements, 1) in (PERIOD_START, PERIOD_END):
            key = "period_start" if element_at(elements, 1) == PERIOD_START else "period_end"
            head[key] = parse_d8(element_at(elements, 2), f"DTM*{element_at(elements, 1)}")
        elif tag == "IT1":
            lines.append(
                {
                    "line_number": element_at(elements, 1),
                    "quantity": parse_number(element_at(elements, 2), "IT102"),
                    "unit": element_at(elements, 3),
                    "unit_price": parse_number(element_at(elements, 4) or "0", "IT104"),
                    "product_ids": product_id_pairs(elements[6:]),
                    "description": [],
                }
            )
        elif tag == "PID" and lines and element_at(elements, 5):
            lines[-1]["description"].append(element_at(elements, 5))
        elif tag == "TDS":
            head["total"] = _from_cents(element_at(elements, 1), "TDS01")
        elif tag == "SAC" and "total" in head:  # the summary's allowances and charges
            charges.append(
                AllowanceCharge810(
                    indicator=element_at(elements, 1),
                    code=element_at(elements, 2),
                    amount=_from_cents(element_at(elements, 5) or "0", "SAC05"),
                    description=element_at(elements, 15),
                )
            )
    if "invoice_number" not in head:
        raise ValueError("the 810 has no BIG segment")
    if "total" not in head:
        raise ValueError("the 810 has no TDS segment")
    seller, buyer = required_parties(parties, ("SE", "BY"), "810")
    return Invoice810(
        seller=seller,
        buyer=buyer,
        lines=tuple(
            InvoiceLine810(**{**line, "description": " ".join(line["description"])})
            for line in lines
        ),
        allowances_charges=tuple(charges),
        **head,
    )
