"""The 855 purchase order acknowledgment: built from plain data, and read back. Framework-free.

BAK (purpose, type AC/AD/RJ, PO number, PO date, ... BAK09 acknowledgment date), an
optional N1*ST, per line PO1 (line number, ordered quantity, unit, price, product ids)
with its ACK (status code, quantity, unit, 068 + promised date), and CTT (number of PO1
lines, sum of their quantities).

A backorder is ``ACK*IB`` with ACK02 the backordered quantity. A line partly shipped now
and partly backordered has two ACKs (the ACK loop repeats within PO1 in our 855 maps,
up to 104 times): IA (or IQ) with the quantity shipped now, then IB with the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ACK_CODES = {
    "IA": "Item accepted",
    "IQ": "Item accepted, quantity changed",
    "IB": "Item backordered",
    "IR": "Item rejected",
    "DR": "Item accepted, date rescheduled",
}
SCHEDULED_SHIP = "068"  # ACK04: current schedule ship


def ack_code_for(
    *,
    ordered: Decimal,
    confirmed: Decimal,
    requested: date | None,
    promised: date | None,
    backordered: bool = False,
) -> str:
    """The ACK01 of one line. A quantity change wins over a date change."""
    if confirmed == 0:
        return "IB" if backordered else "IR"
    if confirmed != ordered:
        return "IQ"
    if promised and requested and promised != requested:
        return "DR"
    return "IA"


def ack_type_for(codes: Iterable[str]) -> str:
    """BAK02: AD when every line is accepted as ordered, RJ when every line is rejected,
    AC otherwise (acknowledged with detail and change)."""
    codes = list(codes)
    if codes and all(code == "IA" for code in codes):
        return "AD"
    if codes and all(code == "IR" for code in codes):
        return "RJ"
    return "AC"


@dataclass(frozen=True)
class AckLine:
    line_number: str
    ordered_quantity: Decimal
    unit: str
    unit_price: Decimal | None
    product_ids: tuple[tuple[str, str], ...]
    ack_code: str
    ack_quantity: Decimal
    ack_date: date | None
    backordered_quantity: Decimal = Decimal(0)  # > 0: a second ACK, IB with this quantity

    def __post_init__(self) -> None:
        # Settled at construction (what read_855 returns equals what was written). A
        # backordered line may be given as the order line holds it: IB with the confirmed
        # quantity (shipped now plus backordered) and the backordered part.
        code, quantity, backordered = self.ack_code, self.ack_quantity, self.backordered_quantity
        if code == "IB" and 0 < backordered < quantity:  # partial: ship some now
            code = "IA" if quantity == self.ordered_quantity else "IQ"
            quantity -= backordered
        elif code == "IB" and backordered and backordered == quantity:  # all backordered
            backordered = Decimal(0)
        elif code == "IB" and quantity == 0 and not backordered:  # ACK02: backordered qty
            quantity = self.ordered_quantity
        object.__setattr__(self, "ack_code", code)
        object.__setattr__(self, "ack_quantity", quantity)
        object.__setattr__(self, "backordered_quantity", backordered)

    @property
    def ack_codes(self) -> tuple[str, ...]:
        """Every ACK01 of the line, in order."""
        return (self.ack_code, "IB") if self.backordered_quantity else (self.ack_code,)


def _codes(lines: Iterable[AckLine]) -> list[str]:
    return [code for line in lines for code in line.ack_codes]


@dataclass(frozen=True)
class Acknowledgment855:
    po_number: str
    po_date: date
    ack_date: date
    lines: tuple[AckLine, ...]
    ship_to: tuple[str, str] | None = None  # (N103 qualifier, N104 id)
    purpose: str = "00"
    ack_type: str | None = None  # None: derived with ack_type_for

    def __post_init__(self) -> None:
        # Settled at construction, so what read_855 returns (BAK02 as written) equals the
        # acknowledgment it was written from.
        if self.ack_type is None:
            object.__setattr__(self, "ack_type", ack_type_for(_codes(self.lines)))

    @property
    def bak02(self) -> str:
        return self.ack_type or ack_type_for(_codes(self.lines))


def number(value: Decimal) -> str:
    """An X12 R value: no exponent, no trailing zeros ("10", "2.5", "0")."""
    text = format(value, "f")  # plain digits whatever the exponent: 1E+3 -> "1000"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _d8(value: date) -> str:
    return value.strftime("%Y%m%d")


def product_id_elements(product_ids: Iterable[tuple[str, str]]) -> list[str]:
    """(qualifier, value) pairs as the elements of a PO1, IT1 or LIN: qualifier, value, ..."""
    return [element for pair in product_ids for element in pair]


def product_id_pairs(elements: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The (qualifier, value) pairs of those elements, a pair with no qualifier left out."""
    return tuple(
        (elements[i], elements[i + 1]) for i in range(0, len(elements) - 1, 2) if elements[i]
    )


def segments_855(ack: Acknowledgment855, *, version: str = "004010") -> list[list]:
    """The body of the 855 (between ST and SE)."""
    segments: list[list] = [
        [
            "BAK",
            ack.purpose,
            ack.bak02,
            ack.po_number,
            _d8(ack.po_date),
            None,
            None,
            None,
            None,
            _d8(ack.ack_date),
        ]
    ]
    if ack.ship_to:
        segments.append(["N1", "ST", None, ack.ship_to[0], ack.ship_to[1]])
    total = Decimal(0)
    for line in ack.lines:
        segments.append(
            [
                "PO1",
                line.line_number,
                number(line.ordered_quantity),
                line.unit,
                number(line.unit_price) if line.unit_price is not None else None,
                None,
                *product_id_elements(line.product_ids),
            ]
        )
        ack_segment = ["ACK", line.ack_code, number(line.ack_quantity), line.unit]
        if line.ack_date:
            ack_segment += [SCHEDULED_SHIP, _d8(line.ack_date)]
        segments.append(ack_segment)
        if line.backordered_quantity:
            segments.append(["ACK", "IB", number(line.backordered_quantity), line.unit])
        total += line.ordered_quantity
    segments.append(["CTT", str(len(ack.lines)), number(total)])
    return segments


def _date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _at(elements: Sequence[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


def read_855(segments: Iterable[Sequence[str]]) -> Acknowledgment855:
    """The 855 in ``segments`` (its body, with or without ST/SE) as data."""
    head: dict = {}
    lines: list[AckLine] = []
    current: dict | None = None

    def close() -> None:
        if current is not None:
            lines.append(AckLine(**current))

    for elements in segments:
        tag = elements[0]
        if tag == "ST" and _at(elements, 1) != "855":
            raise ValueError(f"transaction set {_at(elements, 1)} is not an 855")
        if tag == "BAK":
            head = {
                "purpose": _at(elements, 1),
                "ack_type": _at(elements, 2),
                "po_number": _at(elements, 3),
                "po_date": _date(_at(elements, 4)),
                "ack_date": _date(_at(elements, 9) or _at(elements, 4)),
            }
        elif tag == "N1" and _at(elements, 1) == "ST":
            head["ship_to"] = (_at(elements, 3), _at(elements, 4))
        elif tag == "PO1":
            close()
            price = _at(elements, 4)
            current = {
                "line_number": _at(elements, 1),
                "ordered_quantity": Decimal(_at(elements, 2)),
                "unit": _at(elements, 3),
                "unit_price": Decimal(price) if price else None,
                "product_ids": product_id_pairs(elements[6:]),
                "ack_code": "",
                "ack_quantity": Decimal(0),
                "ack_date": None,
                "backordered_quantity": Decimal(0),
            }
        elif tag == "ACK" and current is not None and current["ack_code"]:
            if _at(elements, 1) == "IB":  # the backordered rest of a partly shipped line
                current["backordered_quantity"] += Decimal(_at(elements, 2) or "0")
        elif tag == "ACK" and current is not None:
            current["ack_code"] = _at(elements, 1)
            current["ack_quantity"] = Decimal(_at(elements, 2) or "0")
            when = _at(elements, 5)
            current["ack_date"] = _date(when) if when else None
    close()
    if not head:
        raise ValueError("the 855 has no BAK segment")
    return Acknowledgment855(lines=tuple(lines), **head)
