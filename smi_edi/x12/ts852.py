"""852 Product Activity Data: from a transaction set's segments to activity quantities.

Framework-free and streaming: feed it the set's segments (ST to SE) and it yields one
:class:`ActivityQuantity` per quantity, each naming its line item (the LIN's product ids),
its location (an SDQ id, or the header's reporting location), the activity code (ZA01,
unknown codes kept), quantity, unit, and the segment it came from.

Structure handled (004010 and the 5010 shape; real files are looser than the standard):

- XQ: report period, XQ02 start and XQ03 end (a single date means a one-day period);
- N1 loop: BY buyer, SU supplier, RL reporting location, ST ship-to (N103/N104 id);
  an N1*RL between LIN groups (location-grouped detail) moves the current location;
- LIN: product id pairs (UP/UK/EN/UA GTIN or UPC, VN vendor item, IN buyer item, ND NDC);
- ZA: ZA01 activity code, ZA02 quantity, ZA03 unit, ZA04/ZA05 date qualifier and date;
- SDQ: SDQ01 unit, SDQ02 location id qualifier, then up to ten id/quantity pairs. A ZA
  with SDQ lines is store-level data (ZA02, if present, is their total); a ZA02 with no
  SDQ belongs to the header location (RL, else ST).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from .reader import is_digits

ACTIVITY_CODES = {
    "QA": "on hand available",
    "QS": "sold",
    "QP": "on order",
    "QI": "in transit",
    "QR": "received",
    "QO": "out of stock",
    "QT": "adjustment",
    "QD": "additional demand",
    "QC": "committed",
    "QL": "minimum",
    "QM": "maximum",
    "QU": "quantity returned",
    "QE": "quantity returned to vendor",
    "QW": "quantity withdrawn",
    "QH": "quantity on hold",
}
GTIN_QUALIFIERS = ("UP", "UK", "EN", "UA", "UI", "UN")
HEADER_LOCATION_ROLES = ("RL", "ST")


@dataclass(slots=True)
class PartyRef:
    role: str  # N101: BY, SU, RL, ST, ...
    name: str
    qualifier: str  # N103: 92 buyer-assigned, UL GLN, 1/9 DUNS
    id: str
    segment_number: int


@dataclass(slots=True)
class LineItem:
    """A LIN: its product ids by qualifier, and where it is in the file."""

    ids: dict[str, str]
    segment_number: int

    @property
    def gtin(self) -> str:
        for qualifier in GTIN_QUALIFIERS:
            value = self.ids.get(qualifier)
            if value:
                return normalise_gtin(value)
        return ""

    @property
    def key(self) -> str:
        """A stable description of the ids, e.g. 'UP:012345678905 VN:V-1'."""
        return " ".join(f"{q}:{v}" for q, v in self.ids.items())


class SegmentQuantities(NamedTuple):
    """The quantities of one segment (an SDQ's pairs, or a ZA02 alone), which share their
    line, code, unit, location qualifier and date: the unit a bulk writer works in.
    ``pairs`` are ``(position, location id, quantity)``, the quantity as canonical number
    text (the digits as sent, or ``str(Decimal)``), already checked to be a number."""

    line: LineItem
    code: str
    location_qualifier: str
    unit: str
    date_qualifier: str
    activity_date: date | None
    segment_number: int
    pairs: list[tuple[int, str, str]]
    # How many problems the mapper had recorded when this segment's first quantity was
    # read (problems of later pairs of the same segment come after it).
    problems_before: int

    def quantities(self) -> Iterator[ActivityQuantity]:
        """The segment's quantities one by one."""
        for position, location_id, text in self.pairs:
            yield ActivityQuantity(
                self.line,
                self.code,
                self.location_qualifier,
                location_id,
                Decimal(text),
                self.unit,
                self.date_qualifier,
                self.activity_date,
                self.segment_number,
                position,
            )


class ActivityQuantity(NamedTuple):
    line: LineItem
    code: str
    location_qualifier: str
    location_id: str
    quantity: Decimal
    unit: str
    date_qualifier: str
    activity_date: date | None
    segment_number: int
    position: int  # 1..10 within an SDQ, 0 for a ZA02 quantity


@dataclass(slots=True)
class Problem:
    segment_number: int
    message: str


@dataclass(slots=True)
class Header852:
    purpose: str = ""
    period_start: date | None = None
    period_end: date | None = None
    parties: list[PartyRef] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)  # N9/XPO ids

    def party(self, *roles: str) -> PartyRef | None:
        for role in roles:
            for party in self.parties:
                if party.role == role:
                    return party
        return None


def normalise_gtin(value: str) -> str:
    """A UPC-A (12), EAN-13 or GTIN-14 as a zero-padded GTIN-14; other text unchanged."""
    digits = value.strip()
    if is_digits(digits) and len(digits) in (8, 12, 13, 14):
        return digits.zfill(14)
    return digits


def parse_date(value: str) -> date | None:
    """CCYYMMDD, or YYMMDD in 3xxx versions (years below 50 are 20xx)."""
    value = value.strip()
    try:
        if len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if len(value) == 6:
            year = int(value[:2])
            return date(2000 + year if year < 50 else 1900 + year, int(value[2:4]), int(value[4:]))
    except ValueError:
        return None
    return None


def quantity_text(value: str) -> str | None:
    """A quantity as canonical number text (what :func:`parse_quantity` reads, written
    back by ``str``; plain digits as they are), or None if it is not a number."""
    if value.isdigit() and value.isascii():
        return value
    quantity = parse_quantity(value)
    return None if quantity is None else str(quantity)


def parse_quantity(value: str) -> Decimal | None:
    try:
        quantity = Decimal(value.strip())
    except InvalidOperation:
        return None
    return quantity if quantity.is_finite() else None


class Activity852:
    """Stream one 852 set. Iterate :meth:`quantities` with ``(elements, segment_number)``
    pairs; ``header`` fills as the header segments pass, ``problems`` collects what could
    not be mapped (nothing is dropped silently), ``lines`` counts LIN loops."""

    def __init__(self) -> None:
        self.header = Header852()
        self.problems: list[Problem] = []
        self.lines = 0
        self._location: PartyRef | None = None

    def quantities(self, segments: Iterable[tuple[list[str], int]]) -> Iterator[ActivityQuantity]:
        """One :class:`ActivityQuantity` per quantity, in file order."""
        for batch in self.batches(segments):
            yield from batch.quantities()

    def batches(self, segments: Iterable[tuple[list[str], int]]) -> Iterator[SegmentQuantities]:
        """The quantities segment by segment (:class:`SegmentQuantities`), in file order:
        what :meth:`quantities` yields, without an object per quantity."""
        header = self.header
        line: LineItem | None = None
        pending = None  # a ZA waiting to learn whether SDQ lines follow
        pending_has_sdq = False
        shared = None  # what the SDQs of the pending ZA share
        for elements, number in segments:
            segment_id = elements[0]
            if segment_id == "SDQ":
                if pending is None:
                    self.problems.append(
                        Problem(number, "SDQ without a preceding ZA; its quantities were not used")
                    )
                    continue
                pending_has_sdq = True
                if shared is None:
                    za = pending[0]
                    shared = (
                        za[1].strip(),
                        _get(za, 3),
                        _get(za, 4).strip(),
                        parse_date(_get(za, 5)),
                    )
                batch = self._sdq(elements, number, line, shared)
                if batch is not None:
                    yield batch
                continue
            if pending is not None and segment_id not in ("QTY", "DTM", "REF", "CTP", "PO4", "MEA"):
                if not pending_has_sdq:
                    batch = self._za_quantity(line, pending)
                    if batch is not None:
                        yield batch
                pending = None
            if segment_id == "ZA":
                if line is None:
                    self.problems.append(
                        Problem(number, "ZA before any LIN; its quantity has no item")
                    )
                    continue
                pending = (elements, number)
                pending_has_sdq = False
                shared = None
            elif segment_id == "LIN":
                self.lines += 1
                ids = {}
                for i in range(2, len(elements) - 1, 2):
                    qualifier, value = elements[i].strip(), elements[i + 1].strip()
                    if qualifier and value:
                        ids.setdefault(qualifier, value)
                line = LineItem(ids, number)
                if not ids:
                    self.problems.append(
                        Problem(number, "LIN has no product id; its quantities have no item")
                    )
            elif segment_id == "XQ":
                header.purpose = _get(elements, 1)
                header.period_start = parse_date(_get(elements, 2))
                header.period_end = parse_date(_get(elements, 3)) or header.period_start
                if header.period_start is None:
                    self.problems.append(
                        Problem(number, f"XQ02 {_get(elements, 2)!r} is not a date")
                    )
            elif segment_id == "N1":
                party = PartyRef(
                    _get(elements, 1),
                    _get(elements, 2),
                    _get(elements, 3),
                    _get(elements, 4),
                    number,
                )
                header.parties.append(party)
                if party.role == "RL" or (
                    party.role == "ST" and (self._location is None or self._location.role == "ST")
                ):
                    self._location = party
            elif segment_id in ("N9", "XPO"):
                header.references[f"{segment_id}*{_get(elements, 1)}"] = _get(elements, 2)

    def _za_quantity(self, line: LineItem | None, pending) -> SegmentQuantities | None:
        elements, number = pending
        raw = _get(elements, 2)
        if not raw.strip():
            return None  # a code with neither a quantity nor SDQ lines says nothing
        text = quantity_text(raw)
        if text is None:
            self.problems.append(Problem(number, f"ZA02 {raw!r} is not a number"))
            return None
        location = self._location
        if location is None:
            self.problems.append(
                Problem(
                    number, "ZA02 quantity with no SDQ and no N1*RL or N1*ST location in the header"
                )
            )
            return None
        return SegmentQuantities(
            line,
            elements[1].strip(),
            location.qualifier,
            _get(elements, 3).strip(),
            _get(elements, 4).strip(),
            parse_date(_get(elements, 5)),
            number,
            [(0, location.id, text)],
            len(self.problems),
        )

    def _sdq(self, elements: list[str], number: int, line, shared) -> SegmentQuantities | None:
        code, za_unit, date_qualifier, activity_date = shared
        unit = (_get(elements, 1) or za_unit).strip()
        qualifier = _get(elements, 2).strip()
        pairs: list[tuple[int, str, str]] = []
        problems = self.problems
        before = len(problems)  # problems recorded before the first quantity
        size = len(elements)
        position = 0
        for i in range(3, min(size, 23), 2):
            location_id = elements[i].strip()
            raw = elements[i + 1] if i + 1 < size else ""
            position += 1
            # The common case first: a location id and a whole number in plain digits.
            if location_id and raw.isdigit() and raw.isascii():
                pairs.append((position, location_id, raw))
                continue
            if not location_id and not raw:
                continue
            text = quantity_text(raw)
            if not location_id or text is None:
                problems.append(
                    Problem(
                        number,
                        f"SDQ pair {position} ({location_id!r}, {raw!r}) needs a location id and a number",
                    )
                )
                if not pairs:
                    before += 1
                continue
            pairs.append((position, location_id, text))
        if not pairs:
            return None
        return SegmentQuantities(
            line, code, qualifier, unit, date_qualifier, activity_date, number, pairs, before
        )


def _get(elements: list[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""
