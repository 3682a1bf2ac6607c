"""Write X12 interchanges from segments, in a partner's delimiters and version.

The ISA is padded to its fixed widths (106 characters with the terminator), SE01 counts
ST to SE, GE01 the sets, IEA01 the groups, and control numbers come from a
:class:`ControlNumbers` source (the Django layer supplies a per-partner database sequence
that never repeats). An element holding a delimiter is refused, never silently altered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .errors import X12WriteError
from .reader import Delimiters

Element = str | Sequence[str]  # a simple element, or a composite as its components
SegmentSpec = Sequence[Element]  # segment id first, then elements

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
DEFAULT_DELIMITERS = Delimiters(element="*", component=">", segment="~", repetition="^")


class ControlNumbers(Protocol):
    def next_interchange(self) -> int: ...
    def next_group(self) -> int: ...
    def next_set(self) -> int: ...


@dataclass
class CountingControlNumbers:
    """Control numbers counting up from given starts (tests, one-off files)."""

    interchange: int = 0
    group: int = 0
    set: int = 0

    def next_interchange(self) -> int:
        self.interchange += 1
        return self.interchange

    def next_group(self) -> int:
        self.group += 1
        return self.group

    def next_set(self) -> int:
        self.set += 1
        return self.set


@dataclass
class TransactionSetSpec:
    set_id: str  # ST01, e.g. "997"
    segments: list[SegmentSpec]  # the body, without ST and SE
    implementation_reference: str = ""  # ST03 (5010)


@dataclass
class GroupSpec:
    functional_id: str  # GS01, e.g. "FA"
    sender_id: str  # GS02
    receiver_id: str  # GS03
    version: str  # GS08, e.g. "004010"
    sets: list[TransactionSetSpec] = field(default_factory=list)


@dataclass
class Party:
    qualifier: str  # ISA05 / ISA07
    id: str  # ISA06 / ISA08


def isa_version(gs_version: str) -> str:
    """The ISA12 that goes with a GS08: 004010 -> 00401, 005010X231A1 -> 00501."""
    digits = gs_version[:6]
    if len(digits) == 6 and digits.isdigit():
        return digits[:5]
    raise X12WriteError(f"GS08 version {gs_version!r} does not start with a 6-digit version")


def write_interchange(
    groups: Iterable[GroupSpec],
    *,
    sender: Party,
    receiver: Party,
    control_numbers: ControlNumbers,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    version: str | None = None,
    usage: str = "P",
    ack_requested: str = "0",
    now: datetime | None = None,
    line_breaks: bool = False,
) -> bytes:
    """Write one interchange holding ``groups``; return its bytes.

    ``version`` is ISA12 (default: from the first group's GS08). ``line_breaks`` puts a
    newline after each terminator, for people reading the file.
    """
    groups = list(groups)
    if not groups:
        raise X12WriteError("an interchange needs at least one functional group")
    now = now or datetime.now().astimezone()
    version = version or isa_version(groups[0].version)
    writer = _SegmentWriter(delimiters, line_breaks=line_breaks, version=version)
    isa_control = control_numbers.next_interchange()
    repetition = delimiters.repetition if version >= "00402" and delimiters.repetition else "U"
    isa = [
        "00",
        "",
        "00",
        "",
        sender.qualifier,
        sender.id,
        receiver.qualifier,
        receiver.id,
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        repetition,
        version,
        f"{isa_control:09d}",
        ack_requested,
        usage,
        delimiters.component,
    ]
    writer.isa(isa)
    for group in groups:
        group_control = control_numbers.next_group()
        writer.segment(
            [
                "GS",
                group.functional_id,
                group.sender_id,
                group.receiver_id,
                now.strftime("%Y%m%d"),
                now.strftime("%H%M"),
                str(group_control),
                "X",
                group.version,
            ]
        )
        for spec in group.sets:
            set_control = f"{control_numbers.next_set():04d}"
            header = ["ST", spec.set_id, set_control]
            if spec.implementation_reference:
                header.append(spec.implementation_reference)
            writer.segment(header)
            for segment in spec.segments:
                writer.segment(segment)
            writer.segment(["SE", str(len(spec.segments) + 2), set_control])
        writer.segment(["GE", str(len(group.sets)), str(group_control)])
    writer.segment(["IEA", str(len(groups)), f"{isa_control:09d}"])
    return writer.getvalue()


class _SegmentWriter:
    def __init__(self, delimiters: Delimiters, *, line_breaks: bool, version: str):
        self.d = delimiters
        self.reserved = {delimiters.element, delimiters.component, delimiters.segment}
        if delimiters.repetition and version >= "00402":
            self.reserved.add(delimiters.repetition)
        self.suffix = delimiters.segment + ("\n" if line_breaks else "")
        self.parts: list[str] = []

    def isa(self, elements: list[str]) -> None:
        padded = []
        for number, (value, width) in enumerate(zip(elements, ISA_WIDTHS, strict=True), start=1):
            if len(value) > width:
                raise X12WriteError(
                    f"ISA{number:02d} {value!r} is longer than its {width} characters"
                )
            if number not in (11, 16):  # ISA11 and ISA16 are delimiters themselves
                self._check("ISA", number, value)
            padded.append(value.ljust(width) if number not in (9, 10, 13) else value.zfill(width))
        self.parts.append("ISA" + self.d.element + self.d.element.join(padded) + self.suffix)

    def segment(self, spec: SegmentSpec) -> None:
        segment_id = spec[0]
        values = [self._element(segment_id, n, e) for n, e in enumerate(spec[1:], start=1)]
        while values and values[-1] == "":
            values.pop()  # trailing empty elements are left out
        self.parts.append(self.d.element.join([segment_id, *values]) + self.suffix)

    def _element(self, segment_id: str, number: int, element: Element) -> str:
        if isinstance(element, str):
            self._check(segment_id, number, element)
            return element
        components = [str(c) for c in element]
        for component in components:
            self._check(segment_id, number, component)
        while components and components[-1] == "":
            components.pop()
        return self.d.component.join(components)

    def _check(self, segment_id: str, number: int, value: str) -> None:
        clash = self.reserved.intersection(value)
        if clash:
            raise X12WriteError(
                f"{segment_id}{number:02d} {value!r} contains the delimiter {sorted(clash)[0]!r}; "
                "change the value or the partner's delimiters"
            )
        if not value.isascii() or any(ord(c) < 32 for c in value):
            raise X12WriteError(
                f"{segment_id}{number:02d} {value!r} has characters X12 cannot carry"
            )

    def getvalue(self) -> bytes:
        return "".join(self.parts).encode("ascii")
