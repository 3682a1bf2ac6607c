"""Write X12 interchanges from segments, in a partner's delimiters and version.

Framework-free. The ISA is padded to its fixed widths (106 characters with its
terminator), SE01 counts ST to SE, GE01 the sets, IEA01 the groups; ISA13, GS06 and ST02
come from a :class:`ControlNumberSource` (the Django layer supplies a per-partner database
sequence that never repeats; :class:`CountingControlNumbers` counts in memory).

What the writer will not do is alter data to make it fit: a value holding one of the
interchange's delimiters, a control character, or (before ISA12 00704, which brought the
ISX character-encoding segment) a non-ASCII character is refused with an
:class:`X12WriteError` naming the segment and element. What X12 itself says to leave out
is left out: trailing empty elements and components, and trailing spaces in a value.

>>> groups = [GroupSpec("FA", "US", "THEM", "004010", [TransactionSetSpec("997", [...])])]
>>> write_interchange(groups, sender=Party("ZZ", "US"), receiver=Party("ZZ", "THEM"),
...                   control_numbers=CountingControlNumbers())           # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, Protocol, runtime_checkable

from .errors import X12WriteError
from .reader import Delimiters, is_digits

__all__ = [
    "DEFAULT_DELIMITERS",
    "ISA_WIDTHS",
    "ControlNumberSource",
    "ControlNumbers",
    "CountingControlNumbers",
    "GroupSpec",
    "InterchangeWriter",
    "Party",
    "Repeated",
    "TransactionSetSpec",
    "allows_non_ascii",
    "isa_version",
    "reserved_characters",
    "resolve_delimiters",
    "write_interchange",
]

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
DEFAULT_DELIMITERS = Delimiters(element="*", component=">", segment="~", repetition="^")
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 is N0 9/9, GS06 N0 1/9, ST02 AN 4/9

# A repetition separator to use from 00402 on when the partner declared none.
_REPETITION_CANDIDATES = "^{`|\\!"
_WHITESPACE = " \t\r\n\x0b\x0c"
_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_ELLIPSIS = "\u2026"  # a terminator seen in real files; the reader knows it
_SUFFIXES = ("", "\n", "\r\n")


class Repeated(tuple):
    """An element with repetitions (ISA11 separator, 00402 on); each item is a simple
    value or a composite's components: ``Repeated(["A", "B"])`` -> ``A^B``."""

    __slots__ = ()


Element = str | Sequence[str] | Repeated | None  # a value, a composite's components, repeats
SegmentSpec = Sequence[Element]  # segment id first, then its elements


@runtime_checkable
class ControlNumberSource(Protocol):
    """Where ISA13, GS06 and ST02 come from. Each call returns a number never handed out
    before for the partner (1..999999999)."""

    def next_interchange(self) -> int: ...
    def next_group(self) -> int: ...
    def next_set(self) -> int: ...


ControlNumbers = ControlNumberSource  # the name the first callers used


@dataclass
class CountingControlNumbers:
    """Control numbers counting up in memory from the last ones used (tests, one-off
    files). ``CountingControlNumbers(interchange=41)`` hands out ISA13 42 first."""

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


class Party(NamedTuple):
    """An interchange sender or receiver: ISA05/ISA06 or ISA07/ISA08."""

    qualifier: str
    id: str


@dataclass
class TransactionSetSpec:
    set_id: str  # ST01, e.g. "997"
    segments: list[SegmentSpec]  # the body, without ST and SE
    implementation_reference: str = ""  # ST03 (5010), e.g. "005010X231A1"


@dataclass
class GroupSpec:
    functional_id: str  # GS01, e.g. "FA"
    sender_id: str  # GS02
    receiver_id: str  # GS03
    version: str  # GS08, e.g. "004010", "005010X231A1"
    sets: list[TransactionSetSpec] = field(default_factory=list)


def isa_version(gs_version: str) -> str:
    """The ISA12 that goes with a GS08: 004010 -> 00401, 005010X231A1 -> 00501."""
    digits = gs_version[:6]
    if len(digits) == 6 and is_digits(digits):
        return digits[:5]
    raise X12WriteError(f"GS08 version {gs_version!r} does not start with a 6-digit version")


def allows_non_ascii(version: str) -> bool:
    """Whether an interchange of ISA12 ``version`` may carry characters beyond ASCII
    (UTF-8): from 00704 on, where the ISX segment declares the encoding."""
    return version >= "00704"


def resolve_delimiters(delimiters: Delimiters, version: str) -> Delimiters:
    """Check ``delimiters`` can be written and read back, and settle the repetition
    separator: none before 00402 (ISA11 is then 'U'), the partner's from 00402 on, or the
    first of ``^ { ` | \\ !`` the other delimiters leave free."""
    names = {"element": delimiters.element, "component": delimiters.component}
    for name, char in names.items():
        _check_delimiter(name, char)
    segment = delimiters.segment
    if not (
        segment == _ELLIPSIS
        or (len(segment) == 1 and segment.isascii() and not segment.isalnum() and segment != " ")
    ):
        raise X12WriteError(
            f"segment terminator {segment!r} cannot be written: use one ASCII punctuation "
            "or line-break character"
        )
    repetition = None
    if version >= "00402":
        repetition = delimiters.repetition
        if repetition is None:
            taken = {delimiters.element, delimiters.component, segment}
            repetition = next(c for c in _REPETITION_CANDIDATES if c not in taken)
        _check_delimiter("repetition", repetition)
    chosen = [delimiters.element, delimiters.component, segment]
    if repetition is not None:
        chosen.append(repetition)
    if len(set(chosen)) != len(chosen):
        raise X12WriteError(
            f"the delimiters {''.join(chosen)!r} are not all different; a reader could not "
            "tell elements, components, repetitions and segments apart"
        )
    return Delimiters(delimiters.element, delimiters.component, segment, repetition)


def _check_delimiter(name: str, char: str | None) -> None:
    if (
        not isinstance(char, str)
        or len(char) != 1
        or not char.isascii()
        or char.isalnum()
        or char in _WHITESPACE
    ):
        raise X12WriteError(
            f"{name} separator {char!r} cannot be written: use one ASCII punctuation character"
        )


def reserved_characters(delimiters: Delimiters, version: str) -> frozenset[str]:
    """The characters no element value may hold in an interchange of ``version`` written
    with ``delimiters`` (after :func:`resolve_delimiters`)."""
    resolved = resolve_delimiters(delimiters, version)
    chars = {resolved.element, resolved.component, resolved.segment}
    if resolved.repetition:
        chars.add(resolved.repetition)
    return frozenset(chars)


def _control(kind: str, number: int) -> int:
    if isinstance(number, bool) or not isinstance(number, int):
        raise X12WriteError(f"{kind} control number {number!r} is not a whole number")
    if not 1 <= number <= MAX_CONTROL_NUMBER:
        raise X12WriteError(
            f"{kind} control number {number} is outside 1..{MAX_CONTROL_NUMBER}; "
            "agree a reset with the partner"
        )
    return number


class InterchangeWriter:
    """Build one interchange segment by segment; :meth:`finish` returns its bytes.

    >>> w = InterchangeWriter(sender=Party("ZZ", "US"), receiver=Party("ZZ", "THEM"),
    ...                       control_numbers=CountingControlNumbers())   # doctest: +SKIP
    >>> w.begin_group("FA", sender_id="US", receiver_id="THEM", version="004010")
    >>> w.add_set("997", [["AK1", "PD", "7"], ["AK9", "A", "1", "1", "1"]])
    >>> data = w.finish()

    ``version`` is ISA12. ``segment_suffix`` ("\\n" or "\\r\\n") follows every terminator
    for people reading the file. The control numbers used are kept in
    ``interchange_control_number`` and ``control_numbers_used`` (GS06, ST01, ST02) so the
    caller can match the partner's acknowledgment later.
    """

    def __init__(
        self,
        *,
        sender: Party | tuple[str, str],
        receiver: Party | tuple[str, str],
        control_numbers: ControlNumberSource,
        delimiters: Delimiters = DEFAULT_DELIMITERS,
        version: str = "00401",
        usage: str = "P",
        ack_requested: str = "0",
        now: datetime | None = None,
        segment_suffix: str = "",
        authorization: tuple[str, str] = ("00", ""),
        security: tuple[str, str] = ("00", ""),
    ):
        if not (len(version) == 5 and is_digits(version)):
            raise X12WriteError(f"ISA12 version {version!r} is not a 5-digit version such as 00401")
        if usage not in ("P", "T"):
            raise X12WriteError(f"ISA15 usage {usage!r} must be P (production) or T (test)")
        if ack_requested not in ("0", "1"):
            raise X12WriteError(f"ISA14 {ack_requested!r} must be 0 or 1")
        if segment_suffix not in _SUFFIXES:
            raise X12WriteError(f"segment suffix {segment_suffix!r} must be '', '\\n' or '\\r\\n'")
        self.version = version
        self.delimiters = resolve_delimiters(delimiters, version)
        self.reserved = reserved_characters(self.delimiters, version)
        self._non_ascii = allows_non_ascii(version)
        self._terminator = self.delimiters.segment + segment_suffix
        self._control_numbers = control_numbers
        self._now = now or datetime.now(UTC)
        self._parts: list[str] = []
        self._group_count = 0
        self._group: tuple[str, int] | None = None  # (GS06, sets so far)
        self._set: tuple[str, int] | None = None  # (ST02, segments so far)
        self._finished = False
        self.control_numbers_used: list[tuple[str, str, str]] = []
        number = _control("interchange", control_numbers.next_interchange())
        self.interchange_control_number = f"{number:09d}"
        sender, receiver = Party(*sender), Party(*receiver)
        self._isa(
            [
                authorization[0],
                authorization[1],
                security[0],
                security[1],
                sender.qualifier,
                sender.id,
                receiver.qualifier,
                receiver.id,
                self._now.strftime("%y%m%d"),
                self._now.strftime("%H%M"),
                self.delimiters.repetition or "U",
                version,
                self.interchange_control_number,
                ack_requested,
                usage,
                self.delimiters.component,
            ]
        )

    # -- envelopes ---------------------------------------------------------------------

    def begin_group(
        self, functional_id: str, *, sender_id: str, receiver_id: str, version: str
    ) -> str:
        """Open a functional group (closing the one before); return its GS06."""
        self._open()
        if self._group is not None:
            self.end_group()
        if not version or len(version) > 12:
            raise X12WriteError(f"GS08 version {version!r} must be 1 to 12 characters")
        number = str(_control("group", self._control_numbers.next_group()))
        # GS04 is CCYYMMDD from 004010 on, YYMMDD before (003040 and older).
        date = "%Y%m%d" if not is_digits(version[:6]) or version[:6] >= "004010" else "%y%m%d"
        self._write(
            [
                "GS",
                functional_id,
                sender_id,
                receiver_id,
                self._now.strftime(date),
                self._now.strftime("%H%M"),
                number,
                "X",
                version,
            ]
        )
        self._group = (number, 0)
        self._group_count += 1
        return number

    def begin_set(self, set_id: str, *, implementation_reference: str = "") -> str:
        """Open a transaction set (closing the one before); return its ST02."""
        self._open()
        if self._group is None:
            raise X12WriteError(f"transaction set {set_id} must be inside a functional group")
        if self._set is not None:
            self.end_set()
        control = f"{_control('set', self._control_numbers.next_set()):04d}"
        self._write(["ST", set_id, control, implementation_reference])
        self._set = (control, 1)
        group_control, sets = self._group
        self._group = (group_control, sets + 1)
        self.control_numbers_used.append((group_control, set_id, control))
        return control

    def segment(self, segment: SegmentSpec) -> None:
        """Write one body segment: its id, then its elements."""
        self._open()
        if self._set is None:
            raise X12WriteError(f"segment {segment[0] if segment else ''!r} is outside ST/SE")
        segment_id = segment[0] if segment else ""
        if not isinstance(segment_id, str) or not _SEGMENT_ID.match(segment_id):
            raise X12WriteError(
                f"{segment_id!r} is not a segment id (2 or 3 upper-case letters and digits)"
            )
        if segment_id in _ENVELOPE_IDS:
            raise X12WriteError(
                f"{segment_id} is an envelope segment; the writer writes those itself"
            )
        self._write(segment)
        control, count = self._set
        self._set = (control, count + 1)

    def end_set(self) -> None:
        if self._set is None:
            raise X12WriteError("SE without an open transaction set")
        control, count = self._set
        self._write(["SE", str(count + 1), control])
        self._set = None

    def end_group(self) -> None:
        if self._group is None:
            raise X12WriteError("GE without an open functional group")
        if self._set is not None:
            self.end_set()
        control, sets = self._group
        self._write(["GE", str(sets), control])
        self._group = None

    def add_set(
        self, set_id: str, segments: Iterable[SegmentSpec], *, implementation_reference: str = ""
    ) -> str:
        """Write a whole transaction set; return its ST02."""
        control = self.begin_set(set_id, implementation_reference=implementation_reference)
        for segment in segments:
            self.segment(segment)
        self.end_set()
        return control

    def finish(self) -> bytes:
        """Close what is open, write the IEA and return the interchange (UTF-8; ASCII unless
        the version allows more or the terminator is '…')."""
        self._open()
        if self._group is not None:
            self.end_group()
        if self._group_count == 0:
            raise X12WriteError("an interchange needs at least one functional group")
        self._write(["IEA", str(self._group_count), self.interchange_control_number])
        self._finished = True
        return "".join(self._parts).encode("utf-8")

    # -- formatting ------------------------------------------------------------------

    def _open(self) -> None:
        if self._finished:
            raise X12WriteError("the interchange is finished; start a new InterchangeWriter")

    def _isa(self, elements: list[str]) -> None:
        padded = []
        for number, (value, width) in enumerate(zip(elements, ISA_WIDTHS, strict=True), start=1):
            if not isinstance(value, str):
                raise X12WriteError(f"ISA{number:02d} {value!r} is not text")
            if len(value) > width:
                raise X12WriteError(
                    f"ISA{number:02d} {value!r} is longer than its {width} characters"
                )
            if number not in (11, 16):  # ISA11 and ISA16 are delimiters themselves
                self._check("ISA", number, None, value, non_ascii=False)
            padded.append(value.zfill(width) if number == 13 else value.ljust(width))
        element = self.delimiters.element
        self._parts.append("ISA" + element + element.join(padded) + self._terminator)

    def _write(self, spec: SegmentSpec) -> None:
        segment_id = spec[0]
        values = [self._element(segment_id, n, e) for n, e in enumerate(spec[1:], start=1)]
        while values and values[-1] == "":
            values.pop()  # trailing empty elements are left out
        text = self.delimiters.element.join([segment_id, *values])
        if text.endswith("~") and "~" not in self.reserved:
            raise X12WriteError(
                f"{segment_id}{len(values):02d} {values[-1]!r} would end the segment with '~', "
                "which readers drop as a stray terminator; change the value"
            )
        self._parts.append(text + self._terminator)

    def _element(self, segment_id: str, number: int, element: Element) -> str:
        if isinstance(element, Repeated):
            if self.delimiters.repetition is None:
                raise X12WriteError(
                    f"{segment_id}{number:02d} repeats, but version {self.version} has no "
                    "repetition separator (00402 and later do)"
                )
            repeats = [self._element(segment_id, number, item) for item in element]
            while repeats and repeats[-1] == "":
                repeats.pop()
            return self.delimiters.repetition.join(repeats)
        if element is None or isinstance(element, str) or not isinstance(element, list | tuple):
            return self._value(segment_id, number, None, element)  # refuses what is not text
        components = [
            self._value(segment_id, number, position, component)
            for position, component in enumerate(element, start=1)
        ]
        while components and components[-1] == "":
            components.pop()  # trailing empty components are left out
        return self.delimiters.component.join(components)

    def _value(self, segment_id: str, number: int, component: int | None, value: object) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise X12WriteError(
                f"{_where(segment_id, number, component)} {value!r} is not text; format numbers "
                "and dates before writing"
            )
        value = value.rstrip(" ")  # X12: trailing spaces are not transmitted
        self._check(segment_id, number, component, value, non_ascii=self._non_ascii)
        return value

    def _check(
        self,
        segment_id: str,
        number: int,
        component: int | None,
        value: str,
        *,
        non_ascii: bool,
    ) -> None:
        if value.isascii() and value.isprintable() and not self.reserved.intersection(value):
            return
        where = _where(segment_id, number, component)
        clash = sorted(self.reserved.intersection(value))
        if clash:
            raise X12WriteError(
                f"{where} {value!r} contains the delimiter {clash[0]!r}; "
                "change the value or the partner's delimiters"
            )
        for char in value:
            if not char.isprintable():
                raise X12WriteError(
                    f"{where} {value!r} has characters X12 cannot carry: unprintable character {char!r}"
                )
            if not char.isascii() and not non_ascii:
                raise X12WriteError(
                    f"{where} {value!r} has characters X12 cannot carry: {char!r} is not ASCII, "
                    f"and ISA12 {self.version} has no character encoding (00704 and later do)"
                )


def _where(segment_id: str, number: int, component: int | None) -> str:
    return f"{segment_id}{number:02d}" + (f"-{component:02d}" if component else "")


def write_interchange(
    groups: Iterable[GroupSpec],
    *,
    sender: Party | tuple[str, str],
    receiver: Party | tuple[str, str],
    control_numbers: ControlNumberSource,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    version: str | None = None,
    usage: str = "P",
    ack_requested: str = "0",
    now: datetime | None = None,
    segment_suffix: str = "",
) -> bytes:
    """Write one interchange holding ``groups``; return its bytes.

    ``version`` is ISA12 (default: from the first group's GS08); see
    :class:`InterchangeWriter` for the rest.
    """
    groups = list(groups)
    if not groups:
        raise X12WriteError("an interchange needs at least one functional group")
    writer = InterchangeWriter(
        sender=sender,
        receiver=receiver,
        control_numbers=control_numbers,
        delimiters=delimiters,
        version=version or isa_version(groups[0].version),
        usage=usage,
        ack_requested=ack_requested,
        now=now,
        segment_suffix=segment_suffix,
    )
    for group in groups:
        writer.begin_group(
            group.functional_id,
            sender_id=group.sender_id,
            receiver_id=group.receiver_id,
            version=group.version,
        )
        for spec in group.sets:
            writer.add_set(
                spec.set_id, spec.segments, implementation_reference=spec.implementation_reference
            )
        writer.end_group()
    return writer.finish()
