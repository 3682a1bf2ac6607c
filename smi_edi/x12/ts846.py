"""The 846 inventory inquiry/advice: a buyer's stock report, read into the same activity
records the 852 path produces (and written, for tests and the demo). Framework-free.

What an 846 says, mapped to the 852's activity codes (``ts852.ACTIVITY_CODES``):

==========================  =================================  =====
846 QTY01                   meaning                            code
==========================  =================================  =====
17                          quantity on hand                   QA
33                          quantity available for sale        QA (only where the line
                                                               has no 17 for the place)
63                          on order quantity                  QP
27                          committed quantity                 QC
IQ                          in-transit quantity                QI
QA, QP, QC, QI              the 852 codes, as VMI guides use   same
==========================  =================================  =====

The writer uses the first code of each row (17, 63, 27, IQ).

Any other QTY01 is not used and is reported once per qualifier (a problem, which the apply
turns into an exception, as for the 852). The quantity's unit is QTY03 (C001-01).

Where: a LIN loop's own N1 loop (any role; N103/N104) places that line's quantities;
otherwise the heading's N1*RL, else N1*WH, else N1*ST. An SDQ in the LIN loop gives on-hand
quantities (QA) by location: SDQ01 unit, SDQ02 id qualifier, then id/quantity pairs.

When: BIA04 is the report date (the period's start and end, as an 852's XQ02/XQ03 of one
day); a DTM in the QTY loop (else in the LIN loop) dates a quantity.

Data (frozen dataclasses, ``Decimal`` quantities):

``InventoryReport846``
    report_number  str, BIA03
    report_date    date, BIA04
    location       tuple[str, str] | None, heading N1*RL (N103 qualifier, N104 id)
    supplier       tuple[str, str] | None, heading N1*SU
    items          tuple[StockItem846, ...], one LIN loop each
    purpose        str = "00", BIA01;  report_type str = "DD", BIA02 (755)

``StockItem846``: ``product_ids`` ((qualifier, value), ...) as LIN pairs (UP/EN/UK GTIN or
UPC, VN vendor part, IN buyer part), ``quantities`` (StockQuantity846, ...), ``location``
(qualifier, id) or None for the heading's (written as the LIN loop's N1*RL).

``StockQuantity846``: ``code`` (QA, QP, QC, QI), ``quantity``, ``unit`` (EA, CA, ...),
``qualifier`` (QTY01; "" means the code's own: QA 17, QP 63, QC 27, QI IQ).

Functions: ``segments_846(report, version="004010")`` (the body between ST and SE),
``read_846(segments) -> InventoryReport846`` and :class:`Activity846`, the streaming mapper
the apply uses in place of ``ts852.Activity852`` (same ``header``, ``problems``, ``lines``
and ``quantities()`` yielding ``ts852.ActivityQuantity``). Functional group ``IB``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import ts855
from .ts810 import d8, element_at
from .ts852 import ActivityQuantity, Header852, LineItem, PartyRef, Problem, parse_date
from .ts852 import parse_quantity as _quantity

FUNCTIONAL_ID = "IB"
QUALIFIER_CODES = {
    "17": "QA",
    "33": "QA",
    "63": "QP",
    "27": "QC",
    "IQ": "QI",
    "QA": "QA",
    "QP": "QP",
    "QC": "QC",
    "QI": "QI",
}
WRITTEN_QUALIFIER = {"QA": "17", "QP": "63", "QC": "27", "QI": "IQ"}
KNOWN_QUALIFIERS = ", ".join(QUALIFIER_CODES)
AVAILABLE_FOR_SALE = "33"
ON_HAND = "17"
HEADER_LOCATION_ROLES = ("RL", "WH", "ST")


@dataclass(frozen=True)
class StockQuantity846:
    code: str
    quantity: Decimal
    unit: str
    qualifier: str = ""

    def __post_init__(self) -> None:
        if self.code not in WRITTEN_QUALIFIER:
            raise ValueError(
                f"stock code {self.code!r} is not one an 846 carries here "
                f"({', '.join(WRITTEN_QUALIFIER)})"
            )
        if not self.qualifier:
            object.__setattr__(self, "qualifier", WRITTEN_QUALIFIER[self.code])
        elif QUALIFIER_CODES.get(self.qualifier) != self.code:
            raise ValueError(f"QTY01 {self.qualifier!r} does not say {self.code}")
        if not self.quantity.is_finite():
            raise ValueError(f"quantity {self.quantity} is not a number")
        if len(self.unit) != 2:
            raise ValueError(f"unit {self.unit!r} is not a two-letter X12 unit")


@dataclass(frozen=True)
class StockItem846:
    product_ids: tuple[tuple[str, str], ...]
    quantities: tuple[StockQuantity846, ...]
    location: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.product_ids or not all(q and v for q, v in self.product_ids):
            raise ValueError("an 846 line needs at least one product id (qualifier, value)")


@dataclass(frozen=True)
class InventoryReport846:
    report_number: str
    report_date: date
    items: tuple[StockItem846, ...]
    location: tuple[str, str] | None = None
    supplier: tuple[str, str] | None = None
    purpose: str = "00"
    report_type: str = "DD"

    def __post_init__(self) -> None:
        if not 1 <= len(self.report_number) <= 30:
            raise ValueError(
                f"BIA03 report number {self.report_number!r} must be 1 to 30 characters"
            )
        if not self.items:
            raise ValueError("an 846 needs at least one LIN loop")
        if self.location is None and any(item.location is None for item in self.items):
            raise ValueError("an item with no location of its own needs the report's location")


def segments_846(report: InventoryReport846, *, version: str = "004010") -> list[list]:
    """The body of the 846 (between ST and SE)."""
    segments: list[list] = [
        [
            "BIA",
            report.purpose,
            report.report_type,
            report.report_number,
            d8(report.report_date),
        ]
    ]
    for role, party in (("RL", report.location), ("SU", report.supplier)):
        if party:
            segments.append(["N1", role, None, party[0], party[1]])
    for index, item in enumerate(report.items, start=1):
        segments.append(["LIN", str(index), *ts855.product_id_elements(item.product_ids)])
        for quantity in item.quantities:
            segments.append(
                ["QTY", quantity.qualifier, ts855.number(quantity.quantity), quantity.unit]
            )
        if item.location:
            segments.append(["N1", "RL", None, item.location[0], item.location[1]])
    segments.append(["CTT", str(len(report.items))])
    return segments


# -- reading ---------------------------------------------------------------------------


@dataclass
class _Qty:
    qualifier: str
    code: str
    quantity: Decimal
    unit: str
    date_qualifier: str
    when: date | None
    segment_number: int


@dataclass
class _Sdq:
    unit: str
    qualifier: str
    pairs: list[tuple[str, Decimal, int]]  # (location id, quantity, position)
    segment_number: int


@dataclass
class _Lin:
    line: LineItem
    quantities: list[_Qty]
    sdq: list[_Sdq]
    location: PartyRef | None = None
    date_qualifier: str = ""
    when: date | None = None


class Activity846:
    """Stream one 846 set, as :class:`smi_edi.x12.ts852.Activity852` streams an 852: iterate
    :meth:`quantities` with ``(elements, segment_number)`` pairs; ``header`` fills as the
    heading passes (``period_start`` = ``period_end`` = BIA04), ``problems`` collects what
    could not be mapped, ``lines`` counts LIN loops. ``report_number`` is BIA03."""

    def __init__(self) -> None:
        self.header = Header852()
        self.problems: list[Problem] = []
        self.lines = 0
        self.report_number = ""
        self.report_type = ""
        self._unknown: dict[str, list[int]] = {}

    # the LIN loops, whole (a LIN's N1 comes after its QTY loops) -------------------------

    def blocks(self, segments: Iterable[tuple[list[str], int]]) -> Iterator[_Lin]:
        current: _Lin | None = None
        in_qty = False
        for elements, number in segments:
            tag = elements[0]
            if tag in ("LIN", "CTT", "SE"):
                if current is not None:
                    yield current
                current, in_qty = None, False
            if tag == "LIN":
                self.lines += 1
                ids: dict[str, str] = {}
                for i in range(2, len(elements) - 1, 2):
                    qualifier, value = elements[i].strip(), elements[i + 1].strip()
                    if qualifier and value:
                        ids.setdefault(qualifier, value)
                if not ids:
                    self.problems.append(
                        Problem(number, "LIN has no product id; its quantities have no item")
                    )
                current = _Lin(LineItem(ids, number), [], [])
            elif tag == "BIA":
                self._bia(elements, number)
            elif current is None:
                if tag == "N1":
                    self.header.parties.append(_party(elements, number))
                elif tag == "REF":
                    self.header.references[f"REF*{element_at(elements, 1)}"] = element_at(
                        elements, 2
                    )
            elif tag == "QTY":
                in_qty = True
                row = self._qty(elements, number)
                if row is not None:
                    current.quantities.append(row)
            elif tag == "DTM":
                when = parse_date(element_at(elements, 2))
                if in_qty and current.quantities:
                    last = current.quantities[-1]
                    last.date_qualifier, last.when = element_at(elements, 1).strip(), when
                elif not in_qty:
                    current.date_qualifier, current.when = element_at(elements, 1).strip(), when
            elif tag == "SDQ":
                current.sdq.append(self._sdq(elements, number))
            elif tag == "N1":
                in_qty = False
                if current.location is None:
                    current.location = _party(elements, number)
            elif tag not in ("UIT", "MEA", "LDT", "SCH"):
                in_qty = False
        if current is not None:
            yield current
        for qualifier, numbers in self._unknown.items():
            self.problems.append(
                Problem(
                    numbers[0],
                    f"QTY01 {qualifier!r} is not a stock quantity we map ({KNOWN_QUALIFIERS}); "
                    f"{len(numbers)} quantities with it were not used",
                )
            )

    def quantities(self, segments: Iterable[tuple[list[str], int]]) -> Iterator[ActivityQuantity]:
        unplaced: list[tuple[int, int]] = []  # (first QTY's segment, quantities) per LIN
        for block in self.blocks(segments):
            yield from self._rows(block, unplaced)
        if unplaced:  # one problem for the report, not one per line
            count = sum(n for _, n in unplaced)
            self.problems.append(
                Problem(
                    unplaced[0][0],
                    f"{len(unplaced)} LIN loops give quantities but no place (no N1 in the LIN "
                    "loop, and no N1*RL, N1*WH or N1*ST in the heading); their "
                    f"{count} quantities were not used",
                )
            )

    def _rows(self, block: _Lin, unplaced: list[tuple[int, int]]) -> Iterator[ActivityQuantity]:
        line = block.line
        if block.quantities:
            location = block.location or self.header.party(*HEADER_LOCATION_ROLES)
            if location is None:
                unplaced.append((block.quantities[0].segment_number, len(block.quantities)))
            else:
                on_hand_given = any(q.qualifier == ON_HAND for q in block.quantities)
                for q in block.quantities:
                    if q.qualifier == AVAILABLE_FOR_SALE and on_hand_given:
                        continue  # 17 is the on-hand figure; 33 is what is left of it
                    yield ActivityQuantity(
                        line,
                        q.code,
                        location.qualifier,
                        location.id,
                        q.quantity,
                        q.unit,
                        q.date_qualifier or block.date_qualifier,
                        q.when or block.when,
                        q.segment_number,
                        0,
                    )
        for sdq in block.sdq:
            for location_id, quantity, position in sdq.pairs:
                yield ActivityQuantity(
                    line,
                    "QA",
                    sdq.qualifier,
                    location_id,
                    quantity,
                    sdq.unit,
                    block.date_qualifier,
                    block.when,
                    sdq.segment_number,
                    position,
                )

    def _bia(self, elements: list[str], number: int) -> None:
        self.header.purpose = element_at(elements, 1)
        self.report_type = element_at(elements, 2)
        self.report_number = element_at(elements, 3)
        when = parse_date(element_at(elements, 4))
        self.header.period_start = self.header.period_end = when
        if when is None:
            self.problems.append(
                Problem(number, f"BIA04 {element_at(elements, 4)!r} is not a date")
            )

    def _qty(self, elements: list[str], number: int) -> _Qty | None:
        qualifier = element_at(elements, 1).strip()
        code = QUALIFIER_CODES.get(qualifier)
        if code is None:
            self._unknown.setdefault(qualifier, []).append(number)
            return None
        raw = element_at(elements, 2)
        quantity = _quantity(raw)
        if quantity is None:
            self.problems.append(Problem(number, f"QTY02 {raw!r} is not a number"))
            return None
        unit = _leading_code(element_at(elements, 3))  # C001-01, whatever the component separator
        return _Qty(qualifier, code, quantity, unit, "", None, number)

    def _sdq(self, elements: list[str], number: int) -> _Sdq:
        sdq = _Sdq(element_at(elements, 1).strip(), element_at(elements, 2).strip(), [], number)
        position = 0
        for i in range(3, min(len(elements), 23), 2):
            location_id = elements[i].strip()
            raw = elements[i + 1] if i + 1 < len(elements) else ""
            position += 1
            if not location_id and not raw:
                continue
            quantity = _quantity(raw)
            if not location_id or quantity is None:
                self.problems.append(
                    Problem(
                        number,
                        f"SDQ pair {position} ({location_id!r}, {raw!r}) needs a location id and a number",
                    )
                )
                continue
            sdq.pairs.append((location_id, quantity, position))
        return sdq


def _leading_code(value: str) -> str:
    value = value.strip()
    end = 0
    while end < len(value) and value[end].isalnum():
        end += 1
    return value[:end]


def _party(elements: list[str], number: int) -> PartyRef:
    return PartyRef(
        element_at(elements, 1),
        element_at(elements, 2),
        element_at(elements, 3),
        element_at(elements, 4),
        number,
    )


def read_846(segments: Iterable[Sequence[str]]) -> InventoryReport846:
    """The 846 in ``segments`` (its body, with or without ST/SE) as data; SDQ quantities
    become items of their own, one per location. Raises ValueError when the report has
    no BIA or a date that is not one."""
    mapper = Activity846()
    items: list[StockItem846] = []
    numbered = ((list(elements), n) for n, elements in enumerate(segments, start=1))
    for block in mapper.blocks(numbered):
        ids = tuple(block.line.ids.items())
        if block.quantities or not block.sdq:
            items.append(
                StockItem846(
                    ids,
                    tuple(
                        StockQuantity846(q.code, q.quantity, q.unit, q.qualifier)
                        for q in block.quantities
                    ),
                    (block.location.qualifier, block.location.id) if block.location else None,
                )
            )
        for sdq in block.sdq:
            for location_id, quantity, _ in sdq.pairs:
                items.append(
                    StockItem846(
                        ids,
                        (StockQuantity846("QA", quantity, sdq.unit),),
                        (sdq.qualifier, location_id),
                    )
                )
    if mapper.header.period_end is None:
        raise ValueError("the 846 has no BIA segment with a report date")
    location = mapper.header.party(*HEADER_LOCATION_ROLES)
    supplier = mapper.header.party("SU")
    return InventoryReport846(
        report_number=mapper.report_number,
        report_date=mapper.header.period_end,
        items=tuple(items),
        location=(location.qualifier, location.id) if location else None,
        supplier=(supplier.qualifier, supplier.id) if supplier else None,
        purpose=mapper.header.purpose,
        report_type=mapper.report_type,
    )
