"""850 Purchase Order: from a transaction set's segments to plain data. Framework-free.

:func:`read_850` takes the set's segments (ST to SE, or the body alone), each a list of
element strings with the segment id first, and returns a :class:`PurchaseOrder850`:

- BEG: BEG01 purpose (00 original, 01 cancel, 05 replace, ...), BEG02 order type (SA
  stand-alone, DS drop ship, ...), BEG03 PO number, BEG05 PO date;
- heading DTM*002 (delivery requested): the order's requested delivery date;
- heading N1 loop: N1*ST ship-to and N1*BY buyer as (N103 qualifier, N104 id);
- PO1 loop: PO101 line number (the line's position when PO101 is empty), PO102
  quantity, PO103 unit, PO104 unit price, PO106 on the product id pairs (VN vendor
  item, UP UPC, IN buyer item, ...); the line's requested date is its DTM*002, else the
  first SCH whose SCH05 is 002;
- CTT: CTT01 (number of PO1 lines) and CTT02 (hash total of the PO102 quantities) are
  checked against the lines read.

DTMs and N1s inside the heading's or a line's N9, N1, SLN, AMT... loops belong to those
loops and are not read. What cannot be mapped (no PO number, a quantity that is not a
number, ...) is collected in ``problems`` as sentences; nothing is dropped silently. A set
that is not an 850 raises :class:`ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .reader import is_digits

__all__ = ["OrderLine850", "PurchaseOrder850", "product_id", "read_850"]

DELIVERY_REQUESTED = "002"  # DTM01 / SCH05
# Segments opening the loops the standard places after the heading's or a PO1 loop's own
# DTM: a DTM after one of them dates that loop's subject, not the order or the line.
_HEADING_SUBLOOPS = frozenset({"LDT", "AMT", "N9", "N1", "LM", "SPI", "ADV"})
_LINE_SUBLOOPS = frozenset({"QTY", "SCH", "PKG", "LS", "LDT", "N9", "N1", "SLN", "AMT", "LM"})
_OTHER_BEGINNINGS = {
    "BAK": "855",
    "BSN": "856",
    "XQ": "852",
    "BIG": "810",
    "BCH": "860",
    "AK1": "997",
}


@dataclass(frozen=True)
class OrderLine850:
    line_number: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    product_ids: tuple[tuple[str, str], ...]  # (qualifier, id) in PO1 order
    requested_date: date | None


@dataclass(frozen=True)
class PurchaseOrder850:
    purpose: str  # BEG01
    order_type: str  # BEG02
    po_number: str  # BEG03
    po_date: date | None  # BEG05; None only with a problem saying why
    ship_to: tuple[str, str] | None  # (N103, N104) of the heading N1*ST
    buyer: tuple[str, str] | None  # (N103, N104) of the heading N1*BY
    requested_delivery: date | None  # heading DTM*002
    lines: tuple[OrderLine850, ...]
    problems: tuple[str, ...]


def product_id(order_line: OrderLine850, *qualifiers: str) -> str | None:
    """The line's id for the first of ``qualifiers`` it carries (``product_id(line, "VN",
    "UP")``: the vendor item, else the UPC); with no qualifiers, its first id."""
    if not qualifiers:
        return order_line.product_ids[0][1] if order_line.product_ids else None
    for qualifier in qualifiers:
        for q, value in order_line.product_ids:
            if q == qualifier:
                return value
    return None


def parse_date(value: str) -> date | None:
    """CCYYMMDD (YYMMDD as sent in 3xxx versions: years below 50 are 20xx)."""
    value = value.strip()
    try:
        if len(value) == 8 and is_digits(value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 6 and is_digits(value):
            year = int(value[:2])
            return date(2000 + year if year < 50 else 1900 + year, int(value[2:4]), int(value[4:]))
    except ValueError:
        return None
    return None


def parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass
class _Line:
    number: str
    quantity: Decimal
    unit: str
    price: Decimal | None
    ids: tuple[tuple[str, str], ...]
    dtm_date: date | None = None
    sch_date: date | None = None

    def frozen(self) -> OrderLine850:
        return OrderLine850(
            self.number,
            self.quantity,
            self.unit,
            self.price,
            self.ids,
            self.dtm_date or self.sch_date,
        )


def read_850(segments: Sequence[Sequence[str]]) -> PurchaseOrder850:
    """Map one 850 set (ST..SE, or its body alone) to a :class:`PurchaseOrder850`."""
    segments = [[str(e) for e in s] for s in segments if len(s) and str(s[0]).strip()]
    _check_is_850(segments)
    problems: list[str] = []
    beg: list[str] | None = None
    ship_to = buyer = None
    requested_delivery: date | None = None
    lines: list[_Line] = []
    line: _Line | None = None  # the current PO1 loop (None: heading, or a skipped PO1)
    in_line = False  # past the first PO1
    po1_count = 0
    sub_loop = False  # inside a loop nested in the heading or the current PO1 loop
    ctt: list[str] | None = None
    for elements in segments:
        segment_id = elements[0].strip()
        if segment_id in ("ST", "SE"):
            continue
        if segment_id == "PO1":
            in_line, sub_loop, po1_count = True, False, po1_count + 1
            line = _po1(elements, po1_count, problems)
            if line is not None:
                lines.append(line)
            continue
        if segment_id == "CTT":
            in_line, sub_loop, line = True, True, None
            ctt = elements
            continue
        if not in_line:
            if segment_id == "BEG":
                if beg is not None:
                    problems.append("The set has a second BEG segment; only the first was read.")
                else:
                    beg = elements
            elif segment_id in _HEADING_SUBLOOPS:
                sub_loop = True
                if segment_id == "N1":
                    role, party = _get(elements, 1).strip(), _party(elements, problems)
                    if role == "ST" and ship_to is None:
                        ship_to = party
                    elif role == "BY" and buyer is None:
                        buyer = party
            elif segment_id == "DTM" and not sub_loop:
                found = _dtm(elements, problems, "the order")
                if found is not None and requested_delivery is None:
                    requested_delivery = found
            continue
        if line is None:
            continue
        if segment_id == "SCH":
            if _get(elements, 5).strip() == DELIVERY_REQUESTED and line.sch_date is None:
                line.sch_date = parse_date(_get(elements, 6))
                if line.sch_date is None:
                    problems.append(
                        f"Line {line.number}: SCH06 {_get(elements, 6)!r} is not a date; "
                        "the line's requested date was not read from it."
                    )
            sub_loop = True
        elif segment_id in _LINE_SUBLOOPS:
            sub_loop = True
        elif segment_id == "DTM" and not sub_loop:
            found = _dtm(elements, problems, f"line {line.number}")
            if found is not None and line.dtm_date is None:
                line.dtm_date = found
    purpose = order_type = po_number = ""
    po_date = None
    if beg is None:
        problems.append("The set has no BEG segment, so no PO number, type or date.")
    else:
        purpose, order_type = _get(beg, 1).strip(), _get(beg, 2).strip()
        po_number = _get(beg, 3).strip()
        if not po_number:
            problems.append("BEG03 (purchase order number) is empty.")
        po_date = parse_date(_get(beg, 5))
        if po_date is None:
            problems.append(f"BEG05 (purchase order date) {_get(beg, 5)!r} is not a date.")
    if not lines and not any(s[0].strip() == "PO1" for s in segments):
        problems.append("The set has no PO1 line.")
    if ctt is not None:
        _check_totals(ctt, segments, lines, problems)
    return PurchaseOrder850(
        purpose=purpose,
        order_type=order_type,
        po_number=po_number,
        po_date=po_date,
        ship_to=ship_to,
        buyer=buyer,
        requested_delivery=requested_delivery,
        lines=tuple(line.frozen() for line in lines),
        problems=tuple(problems),
    )


def _check_is_850(segments: list[list[str]]) -> None:
    sts = [s for s in segments if s[0].strip() == "ST"]
    if len(sts) > 1:
        raise ValueError(f"expected one transaction set, got {len(sts)} ST segments")
    if sts:
        set_id = _get(sts[0], 1).strip()
        if set_id != "850":
            raise ValueError(f"transaction set {set_id or '(no ST01)'} is not an 850")
        return
    ids = {s[0].strip() for s in segments}
    if "BEG" in ids or "PO1" in ids:
        return
    for segment_id, set_id in _OTHER_BEGINNINGS.items():
        if segment_id in ids:
            raise ValueError(
                f"these segments look like transaction set {set_id} ({segment_id}), not an 850"
            )
    raise ValueError("these segments have neither BEG nor PO1: not an 850")


def _po1(elements: list[str], position: int, problems: list[str]) -> _Line | None:
    number = _get(elements, 1).strip() or str(position)
    raw_quantity = _get(elements, 2)
    quantity = parse_decimal(raw_quantity) if raw_quantity.strip() else None
    if quantity is None:
        what = f"{raw_quantity!r} is not a number" if raw_quantity.strip() else "is missing"
        problems.append(f"Line {number}: PO102 (quantity) {what}; the line was not read.")
        return None
    raw_price = _get(elements, 4)
    price = parse_decimal(raw_price) if raw_price.strip() else None
    if raw_price.strip() and price is None:
        problems.append(f"Line {number}: PO104 (unit price) {raw_price!r} is not a number.")
    ids = []
    for i in range(6, len(elements) - 1, 2):
        qualifier, value = elements[i].strip(), elements[i + 1].strip()
        if qualifier and value:
            ids.append((qualifier, value))
    if not ids:
        problems.append(f"Line {number}: PO1 has no product id.")
    return _Line(number, quantity, _get(elements, 3).strip(), price, tuple(ids))


def _party(elements: list[str], problems: list[str]) -> tuple[str, str] | None:
    qualifier, code = _get(elements, 3).strip(), _get(elements, 4).strip()
    if not code:
        name = _get(elements, 2).strip()
        problems.append(
            f"N1*{_get(elements, 1).strip()} {name!r} has no N104 id code, so it cannot be "
            "matched to a known party or location."
        )
        return None
    return (qualifier, code)


def _dtm(elements: list[str], problems: list[str], subject: str) -> date | None:
    if _get(elements, 1).strip() != DELIVERY_REQUESTED:
        return None
    found = parse_date(_get(elements, 2))
    if found is None:
        problems.append(
            f"DTM*002 of {subject}: {_get(elements, 2)!r} is not a date; the requested "
            "delivery date was not read."
        )
    return found


def _check_totals(
    ctt: list[str], segments: list[list[str]], lines: list[_Line], problems: list[str]
) -> None:
    po1_count = sum(1 for s in segments if s[0].strip() == "PO1")
    raw_count = _get(ctt, 1).strip()
    if raw_count and raw_count != str(po1_count):
        problems.append(f"CTT01 says {raw_count} line items; the set has {po1_count} PO1 lines.")
    raw_hash = _get(ctt, 2).strip()
    if raw_hash and len(lines) == po1_count:
        declared = parse_decimal(raw_hash)
        total = sum((line.quantity for line in lines), Decimal(0))
        if declared is None or declared != total:
            problems.append(
                f"CTT02 hash total {raw_hash!r} does not match the sum of the PO1 "
                f"quantities ({total})."
            )


def _get(elements: Sequence[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""
