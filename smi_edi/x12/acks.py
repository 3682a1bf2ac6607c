"""Functional acknowledgments: write 997/999 from a validation result, and read the
997/999 a partner sends back into which of our sets were accepted or rejected and why.

Framework-free. We write our own (pyx12's writer uses fixed delimiters, a clock-based
ISA13 and a wrong GS08). An acknowledgment goes back from the interchange's receiver to its
sender, in the partner's delimiters; a 997 answers in the partner's version (a 004010
partner gets a 004010 997 with two-element AK1/AK2, a 005010 partner a 005010 997 with
AK103/AK203), a 999 is always 005010X231A1. Each functional group received is answered
by one 997/999 set (AK1 .. AK9); the sets share a GS FA group when they go to the same
application sender and receiver.

Reading: :func:`parse_ack` turns every 997/999 set in a file into an :class:`AckResult`:
per acknowledged group (AK1) the AK9 verdict and counts, per set (AK2) its AK5 verdict,
and the AK3/AK4 (IK3/IK4/CTX) notes as the same :class:`SegmentError` /
:class:`ElementError` types the validator uses, plus sentences a person can act on. What
partners get wrong (AK9 counts that contradict the AK5s, an AK2 without AK5) is reported
as sent and flagged in ``inconsistencies``; nothing is silently corrected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .envelope_results import REJECTING_GROUP_CODES
from .errors import X12WriteError, readable_bytes
from .fastcheck.elements import CHARSET_E, CHARSET_E5
from .reader import (
    Delimiters,
    GroupSummary,
    InterchangeSummary,
    SetSummary,
    Source,
    X12Reader,
    is_digits,
)
from .results import (
    ELEMENT_ERROR_TEXT,
    GROUP_ERROR_TEXT,
    SEGMENT_ERROR_TEXT,
    SET_ERROR_TEXT,
    ElementError,
    GroupResult,
    InterchangeResult,
    SegmentError,
    SetResult,
    SetStatus,
)
from .writer import (
    ControlNumberSource,
    GroupSpec,
    Party,
    TransactionSetSpec,
    allows_non_ascii,
    isa_version,
    reserved_characters,
    write_interchange,
)

__all__ = [
    "X999_VERSION",
    "AckResult",
    "AckedGroup",
    "AckedSet",
    "ack_groups",
    "acknowledgment_for",
    "build_997",
    "build_999",
    "group_status",
    "parse_ack",
]

X999_VERSION = "005010X231A1"
ACK_TYPES = ("997", "999")

# 999-only (implementation) codes written into a 997, which knows only the standard's.
_SEGMENT_CODE_IN_997 = {"I4": "2", "I6": "3", "I7": "3", "I8": "3", "I9": "2"}
_ELEMENT_CODE_IN_997 = {"I6": "7", "I9": "2", "I10": "10", "I11": "1", "I12": "6", "I13": "10"}
_ELEMENT_CODES_4010 = {str(n) for n in range(1, 11)}  # 12 and 13 came with 005010
_ELEMENT_CODE_IN_4010 = {"12": "3", "13": "3"}
_SEVERITY = {
    SetStatus.ACCEPTED: 0,
    SetStatus.ACCEPTED_WITH_ERRORS: 1,
    SetStatus.PARTIALLY_ACCEPTED: 2,
    SetStatus.REJECTED: 3,
}
_GUIDE_SUFFIX = re.compile(r"(\d{6})X\d{3}")  # 005010X222A1: an X12N implementation guide
# AK905 codes a 004010 997 knows (element 716 before 005010: no 19, for instance).
_GROUP_CODES_4010 = {str(n) for n in (1, 2, 3, 4, 5, 6, *range(10, 19), 23, 24, 25, 26)}
# The X12 extended character set an AN/ID value of ours may hold (^ and ` from 005010 on).
_OUT_OF_CHARSET = re.compile(f"[^{CHARSET_E}]")
_OUT_OF_CHARSET_5 = re.compile(f"[^{CHARSET_E5}]")


# -- writing ----------------------------------------------------------------------------


def group_status(group: GroupResult) -> SetStatus:
    """AK901 from the sets' verdicts and the group's own errors: R when a group error
    rejects it or no set is accepted, P when some are, E when all are but with notes."""
    if REJECTING_GROUP_CODES.intersection(group.group_errors):
        return SetStatus.REJECTED
    statuses = [s.status for s in group.sets]
    accepted = sum(1 for s in statuses if s in (SetStatus.ACCEPTED, SetStatus.ACCEPTED_WITH_ERRORS))
    if statuses and accepted == 0:
        return SetStatus.REJECTED
    if accepted < len(statuses):
        return SetStatus.PARTIALLY_ACCEPTED
    if group.group_errors or SetStatus.ACCEPTED_WITH_ERRORS in statuses:
        return SetStatus.ACCEPTED_WITH_ERRORS
    return SetStatus.ACCEPTED


def _ack_version(group: GroupResult, interchange_version: str) -> str:
    """The GS08 a 997 answers a group in: the group's own version (004010, 004010VICS,
    005010), without an X12N guide suffix that names another transaction's guide. A GS08
    that is no valid version (longer than 12, a tab, non-ASCII: the group is rejected for
    it) is not copied: the 997 answers in the ISA12's version instead."""
    version = group.version.strip()
    if not _writable(version, 1, 12):
        return interchange_version + "0" if is_digits(interchange_version) else "004010"
    match = _GUIDE_SUFFIX.match(version)
    return match.group(1) if match else version


def _writable(value: str, low: int, high: int, reserved: frozenset[str] = frozenset()) -> bool:
    """Whether an envelope value the partner sent can be copied into our acknowledgment:
    the right length, printable ASCII, none of our delimiters."""
    return (
        low <= len(value) <= high
        and all(" " <= c <= "~" for c in value)
        and not reserved.intersection(value)
    )


def _is_5010(version: str) -> bool:
    return is_digits(version[:6]) and version[:6] >= "005010"


@dataclass(frozen=True)
class _Style:
    ack_type: str  # 997 or 999
    five: bool  # AK103, AK203 and the C030 repetition position exist
    reserved: frozenset[str]
    non_ascii: bool

    @property
    def tag(self) -> str:
        return "IK" if self.ack_type == "999" else "AK"


def _clean(value: str | None, style: _Style, limit: int = 99) -> str:
    """AK404, the copy of the bad data: the value itself (cut to AK404's 99 characters),
    or nothing when it holds a character the acknowledgment cannot carry (a delimiter, a
    control character, non-ASCII before 00704); a partial copy would mislead."""
    value = (value or "")[:limit].rstrip(" ")
    if value.endswith("~"):
        return ""  # readers drop a '~' that ends a segment (AK404 is the last element)
    for c in value:
        if c in style.reserved or not c.isprintable() or not (style.non_ascii or c.isascii()):
            return ""
    if (_OUT_OF_CHARSET_5 if style.five else _OUT_OF_CHARSET).search(value):
        return ""  # outside the X12 character set: the AK4 code still says what was wrong
    return value


def _segment_code(error: SegmentError, style: _Style, has_elements: bool) -> str:
    code = error.code
    if style.ack_type == "999" and code in SEGMENT_ERROR_TEXT:
        return code
    if code in _SEGMENT_CODE_IN_997:
        return _SEGMENT_CODE_IN_997[code]
    if is_digits(code) and code in SEGMENT_ERROR_TEXT:
        return code
    return "8" if has_elements else "2"  # not a code an acknowledgment can carry


def _element_code(error: ElementError, style: _Style) -> str | None:
    code = error.code
    if style.ack_type == "997":
        code = _ELEMENT_CODE_IN_997.get(code, code)
        if not style.five:
            code = _ELEMENT_CODE_IN_4010.get(code, code)
            return code if code in _ELEMENT_CODES_4010 else None
    return code if code in ELEMENT_ERROR_TEXT else None


def _segment_notes(result: SetResult, style: _Style) -> list[list]:
    segments: list[list] = []
    for error in result.segment_errors:
        notes = []
        for element in error.elements:
            code = _element_code(element, style)
            if code is None:
                continue  # no AK403 code says it; the AK3 code 8 still does
            position = [
                str(element.position),
                str(element.component) if element.component else "",
                str(element.repetition) if style.five and element.repetition else "",
            ]
            reference = element.data_element or ""
            notes.append(
                [
                    f"{style.tag}4",
                    position,
                    reference if is_digits(reference) and len(reference) <= 4 else "",
                    code,
                    _clean(element.value, style),
                ]
            )
        loop_id = error.loop_id or ""
        segments.append(
            [
                f"{style.tag}3",
                error.segment_id,
                str(error.position) if error.position > 0 else "",
                loop_id if loop_id.isalnum() and len(loop_id) <= 4 else "",
                _segment_code(error, style, bool(notes)),
            ]
        )
        segments.extend(notes)
    return segments


def _echoable_set(result: SetResult, style: _Style) -> bool:
    """Whether AK201/AK202 can repeat ST01 (3 characters) and ST02 (4 to 9)."""
    set_id, control = result.set_id, result.control_number
    return (
        len(set_id) == 3
        and set_id.isascii()
        and set_id.isalnum()
        and _writable(control, 4, 9, style.reserved)
        and not (_OUT_OF_CHARSET_5 if style.five else _OUT_OF_CHARSET).search(control)
    )


def _set_response(result: SetResult, style: _Style, group_rejected: bool = False) -> list[list]:
    ak2 = ["AK2", result.set_id, result.control_number]
    if style.five and result.implementation_reference:
        ak2.append(result.implementation_reference)
    segments = [ak2, *_segment_notes(result, style)]
    status = result.status
    if status is SetStatus.PARTIALLY_ACCEPTED:  # a group verdict; a set has no P
        status = SetStatus.ACCEPTED_WITH_ERRORS
    if group_rejected:  # a set in a rejected group is not accepted, whatever it held
        status = SetStatus.REJECTED
    codes = [c for c in result.set_errors if c][:5]
    if status is not SetStatus.ACCEPTED and not codes and result.segment_errors:
        codes = ["5"]  # one or more segments in error
    segments.append([f"{style.tag}5", status.value, *codes])
    return segments


def _group_response(group: GroupResult, style: _Style) -> list[list]:
    gs01, gs06 = group.functional_id, group.control_number
    if not (_writable(gs01, 2, 2) and gs01.isalnum() and gs01.upper() == gs01):
        raise X12WriteError(
            f"AK101 must repeat GS01, and {readable_bytes(gs01)} is no functional identifier "
            "(2 capital letters or digits)"
        )
    if not (is_digits(gs06) and 1 <= len(gs06) <= 9):
        raise X12WriteError(
            f"AK102 must repeat GS06, and {readable_bytes(gs06)} is no group control number "
            "(1 to 9 digits)"
        )
    ak1 = ["AK1", gs01, gs06]
    if style.five and _writable(group.version, 1, 12, style.reserved):
        ak1.append(group.version)
    elif style.ack_type == "999":
        raise X12WriteError(
            f"AK103 must repeat GS08 in a 999, and {readable_bytes(group.version)} is no "
            "version (1 to 12 printable ASCII characters)"
        )
    # a 997 leaves out the AK103 (optional) where it cannot repeat GS08
    segments = [ak1]
    status = max(group.status, group_status(group), key=_SEVERITY.__getitem__)
    rejected = status is SetStatus.REJECTED
    for result in group.sets:
        if _echoable_set(result, style):
            segments.extend(_set_response(result, style, group_rejected=rejected))
        # else: no AK2 loop (optional) for a set whose ST01/ST02 cannot be repeated; the
        # AK9 counts still include it
    declared = group.declared_set_count
    segments.append(
        [
            "AK9",
            status.value,
            str(declared if declared is not None else group.received_count),
            str(group.received_count),
            "0" if rejected else str(group.accepted_count),
            *[c for c in group.group_errors if style.five or c in _GROUP_CODES_4010][:5],
        ]
    )
    return segments


def ack_groups(
    result: InterchangeResult,
    *,
    ack_type: str = "997",
    delimiters: Delimiters,
    version: str | None = None,
    interchange_version: str | None = None,
) -> list[GroupSpec]:
    """The FA groups answering ``result``: one 997/999 set per group received, grouped by
    application sender/receiver (GS02/GS03 swapped) and version. ``version`` overrides a
    997's GS08; ``interchange_version`` is the ISA12 the groups will be written under."""
    if ack_type not in ACK_TYPES:
        raise X12WriteError(f"ack_type must be 997 or 999, not {ack_type!r}")
    if not result.groups:
        raise X12WriteError(
            "an interchange without functional groups is answered with a TA1, not a 997"
        )
    isa12 = interchange_version or _isa12(result, ack_type, version)
    specs: dict[tuple[str, str, str], GroupSpec] = {}
    for group in result.groups:
        gs08 = X999_VERSION if ack_type == "999" else version or _ack_version(group, result.version)
        style = _Style(
            ack_type=ack_type,
            five=ack_type == "999" or _is_5010(gs08),
            reserved=reserved_characters(delimiters, isa12),
            non_ascii=allows_non_ascii(isa12),
        )
        # GS02/GS03 swapped; one that cannot be written back (too long, non-ASCII, a
        # delimiter: the group is rejected for it) is replaced by the ISA id.
        reserved = reserved_characters(delimiters, isa12)
        sender_id = (
            group.receiver_id
            if _writable(group.receiver_id, 2, 15, reserved)
            else result.receiver_id.strip()
        )
        receiver_id = (
            group.sender_id
            if _writable(group.sender_id, 2, 15, reserved)
            else result.sender_id.strip()
        )
        key = (sender_id, receiver_id, gs08)
        spec = specs.get(key)
        if spec is None:
            spec = specs[key] = GroupSpec("FA", sender_id, receiver_id, gs08)
        spec.sets.append(
            TransactionSetSpec(
                set_id=ack_type,
                segments=_group_response(group, style),
                implementation_reference=X999_VERSION if ack_type == "999" else "",
            )
        )
    return list(specs.values())


def _isa12(result: InterchangeResult, ack_type: str, version: str | None) -> str:
    if ack_type == "999":
        return "00501"
    if version:
        return isa_version(version)
    if len(result.version) == 5 and is_digits(result.version):
        return result.version
    return "00401"


def acknowledgment_for(
    result: InterchangeResult,
    *,
    ack_type: str = "997",
    delimiters: Delimiters,
    control_numbers: ControlNumberSource,
    sender: Party | tuple[str, str] | None = None,
    receiver: Party | tuple[str, str] | None = None,
    version: str | None = None,
    usage: str = "P",
    now: datetime | None = None,
    segment_suffix: str = "",
) -> bytes:
    """The 997 (or 999) answering one interchange, as a complete interchange.

    It goes from the interchange's receiver (``sender``, default: ISA07/ISA08 of
    ``result``) to its sender (``receiver``, default: ISA05/ISA06), in ``delimiters``
    (the partner's, from ``X12Reader.delimiters``). A 997 is written in the partner's
    ISA12 and, per group, its GS08 (``version`` overrides both, e.g. "004010VICS"); a 999
    in 00501 / 005010X231A1. ``usage`` should repeat the inbound ISA15 (T answers T).
    """
    isa12 = _isa12(result, ack_type, version) if ack_type in ACK_TYPES else ""
    groups = ack_groups(
        result,
        ack_type=ack_type,
        delimiters=delimiters,
        version=version if ack_type == "997" else None,
        interchange_version=isa12 or None,
    )
    return write_interchange(
        groups,
        sender=sender or Party(result.receiver_qualifier, result.receiver_id),
        receiver=receiver or Party(result.sender_qualifier, result.sender_id),
        control_numbers=control_numbers,
        delimiters=delimiters,
        version=isa12,
        usage=usage,
        now=now,
        segment_suffix=segment_suffix,
    )


def build_997(
    result: InterchangeResult,
    *,
    delimiters: Delimiters,
    control_numbers: ControlNumberSource,
    sender: Party | tuple[str, str] | None = None,
    receiver: Party | tuple[str, str] | None = None,
    version: str | None = None,
    usage: str = "P",
    now: datetime | None = None,
    segment_suffix: str = "",
) -> bytes:
    """The 997 interchange answering ``result`` (see :func:`acknowledgment_for`)."""
    return acknowledgment_for(
        result,
        ack_type="997",
        delimiters=delimiters,
        control_numbers=control_numbers,
        sender=sender,
        receiver=receiver,
        version=version,
        usage=usage,
        now=now,
        segment_suffix=segment_suffix,
    )


def build_999(
    result: InterchangeResult,
    *,
    delimiters: Delimiters,
    control_numbers: ControlNumberSource,
    sender: Party | tuple[str, str] | None = None,
    receiver: Party | tuple[str, str] | None = None,
    usage: str = "P",
    now: datetime | None = None,
    segment_suffix: str = "",
) -> bytes:
    """The 999 (005010X231A1) interchange answering ``result``: IK3/IK4/IK5 in place of
    AK3/AK4/AK5. No CTX is written: a result carries no business-unit or trigger context."""
    return acknowledgment_for(
        result,
        ack_type="999",
        delimiters=delimiters,
        control_numbers=control_numbers,
        sender=sender,
        receiver=receiver,
        usage=usage,
        now=now,
        segment_suffix=segment_suffix,
    )


# -- reading partners' acknowledgments --------------------------------------------------


@dataclass
class AckedSet:
    """One AK2 loop: the partner's verdict on one of our transaction sets."""

    set_id: str  # AK201
    control_number: str  # AK202
    implementation_reference: str = ""  # AK203 (5010)
    status: SetStatus | None = None  # AK501; None when no AK5 was sent
    status_code: str = ""  # AK501 as sent (M, W, X read as rejected)
    set_errors: list[str] = field(default_factory=list)  # AK502..AK506 codes
    segment_errors: list[SegmentError] = field(default_factory=list)  # AK3/AK4, IK3/IK4
    errors: list[str] = field(default_factory=list)  # every note as a sentence

    @property
    def accepted(self) -> bool:
        return self.status in (SetStatus.ACCEPTED, SetStatus.ACCEPTED_WITH_ERRORS)


@dataclass
class AckedGroup:
    """One AK1 .. AK9: the partner's verdict on one of our functional groups."""

    functional_id: str  # AK101
    control_number: str  # AK102
    version: str = ""  # AK103 (5010)
    status: SetStatus | None = None  # AK901; None when no AK9 was sent
    status_code: str = ""  # AK901 as sent
    declared: int | None = None  # AK902: sets the group said it held (our GE01)
    received: int | None = None  # AK903
    accepted: int | None = None  # AK904
    group_errors: list[str] = field(default_factory=list)  # AK905..AK909 codes
    errors: list[str] = field(default_factory=list)  # those codes as sentences
    sets: list[AckedSet] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)  # the ack contradicting itself

    @property
    def group_level_only(self) -> bool:
        """No AK2: the AK9 speaks for every set in the group."""
        return not self.sets

    def set_status(self, set_id: str, control_number: str) -> SetStatus | None:
        """The verdict on one of our sets: its AK5, or, when no AK2 names it, the group's
        AK9 (None when that is P: which sets were rejected is then unknown)."""
        for acked in self.sets:
            if acked.set_id == set_id and _same_number(acked.control_number, control_number):
                return acked.status
        if self.status is SetStatus.PARTIALLY_ACCEPTED:
            return None
        return self.status


@dataclass
class AckResult:
    """One 997/999 transaction set received."""

    ack_type: str  # 997 or 999
    control_number: str  # the ack's ST02
    interchange_control: str  # the ack's ISA13
    sender: str  # ISA05:ISA06 of the ack (our partner)
    receiver: str  # ISA07:ISA08 (us)
    version: str = ""  # the ack's GS08
    group_control: str = ""  # the ack's GS06
    groups: list[AckedGroup] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # segments out of place in the ack
    envelope_errors: list[str] = field(default_factory=list)  # the ack's own ST/SE, GS/GE

    def verdict_for(self, group_control: str, set_id: str, set_control: str) -> SetStatus | None:
        """The verdict on our set ``set_id``/``set_control`` in our group ``group_control``
        (None when this ack does not answer that group, or cannot say)."""
        for group in self.groups:
            if _same_number(group.control_number, group_control):
                return group.set_status(set_id, set_control)
        return None


def parse_ack(source: Source) -> list[AckResult]:
    """Read every 997/999 set in ``source`` (path, bytes or binary file), in order; other
    sets are skipped. Raises X12SyntaxError when the file cannot be read as X12."""
    reader = X12Reader(source)
    parser = _AckParser(reader)
    for elements in reader.segments():
        parser.feed(elements)
    parser.finish()
    return parser.results


class _AckParser:
    def __init__(self, reader: X12Reader):
        self.reader = reader
        self.results: list[AckResult] = []
        self._envelopes: list[
            tuple[AckResult, InterchangeSummary | None, GroupSummary | None, SetSummary | None]
        ] = []
        self.current: AckResult | None = None
        self.group: AckedGroup | None = None
        self.acked: AckedSet | None = None
        self.segment: SegmentError | None = None
        self.element: ElementError | None = None

    def feed(self, elements: list[str]) -> None:
        tag = elements[0]
        values = [*elements, *[""] * 10]
        if tag == "ST":
            self._close()
            if values[1] in ACK_TYPES:
                self._open(values)
            return
        if self.current is None:
            return
        if tag == "SE":
            self._close()
        elif tag == "AK1":
            self._end_group()
            self.group = AckedGroup(values[1], values[2], values[3])
            self.current.groups.append(self.group)
        elif tag == "AK2":
            self._end_set()
            if self.group is None:
                self.current.problems.append(f"AK2 {values[1]} {values[2]} comes before any AK1")
                self.group = AckedGroup("", "")
                self.current.groups.append(self.group)
            self.acked = AckedSet(values[1], values[2], values[3])
            self.group.sets.append(self.acked)
        elif tag in ("AK3", "IK3"):
            self._segment_note(tag, values)
        elif tag in ("AK4", "IK4"):
            self._element_note(tag, values)
        elif tag == "CTX":
            self._context(values)
        elif tag in ("AK5", "IK5"):
            self._set_response(tag, elements, values)
        elif tag == "AK9":
            self._group_response(elements, values)
        else:
            self.current.problems.append(
                f"segment {tag} does not belong in a {self.current.ack_type}"
            )

    # -- envelopes -------------------------------------------------------------------

    def _open(self, values: list[str]) -> None:
        reader = self.reader
        ix, gs = reader.current_interchange, reader.current_group
        self.current = AckResult(
            ack_type=values[1],
            control_number=values[2],
            interchange_control=ix.control_number if ix else "",
            sender=f"{ix.sender_qualifier}:{ix.sender_id}" if ix else "",
            receiver=f"{ix.receiver_qualifier}:{ix.receiver_id}" if ix else "",
            version=gs.version if gs else "",
            group_control=gs.control_number if gs else "",
        )
        self.results.append(self.current)
        self._envelopes.append((self.current, ix, gs, reader.current_set))

    def _close(self) -> None:
        if self.current is None:
            return
        self._end_group()
        if not self.current.groups:
            self.current.problems.append(
                f"{self.current.ack_type} {self.current.control_number} acknowledges no group (no AK1)"
            )
        self.current = None

    def _end_set(self) -> None:
        acked = self.acked
        if acked is not None and acked.status is None and self.current is not None:
            self.group.inconsistencies.append(
                f"AK2 {acked.set_id} {acked.control_number} has no AK5: its verdict is unknown"
            )
        self.acked = self.segment = self.element = None

    def _end_group(self) -> None:
        self._end_set()
        group = self.group
        if group is not None and group.status is None and not group.status_code:
            group.inconsistencies.append(
                f"AK1 {group.functional_id} {group.control_number} has no AK9: the group's verdict is unknown"
            )
        self.group = None

    def finish(self) -> None:
        self._close()
        for result, ix, gs, st in self._envelopes:
            seen: set[str] = set()
            for holder in (st, gs, ix):
                for error in holder.errors if holder is not None else []:
                    if error.message not in seen:
                        seen.add(error.message)
                        result.envelope_errors.append(error.message)

    # -- AK3 / AK4 / CTX -------------------------------------------------------------

    def _segment_note(self, tag: str, values: list[str]) -> None:
        self.element = None
        if self.acked is None:
            self.current.problems.append(f"{tag} {values[1]} comes outside an AK2 loop")
            self.segment = None
            return
        code = values[4]
        where = f"segment {values[1]} at position {values[2] or '?'}"
        if values[3]:
            where += f" (loop {values[3]})"
        text = SEGMENT_ERROR_TEXT.get(code, f"segment error code {code}") if code else "error"
        self.segment = SegmentError(
            segment_id=values[1],
            position=_int(values[2]) or 0,
            code=code,
            message=f"{where}: {text}",
            loop_id=values[3] or None,
        )
        self.acked.segment_errors.append(self.segment)
        self.acked.errors.append(self.segment.message)

    def _element_note(self, tag: str, values: list[str]) -> None:
        if self.segment is None:
            if self.acked is not None:  # an AK4 with no AK3: keep it, on an unknown segment
                self.segment = SegmentError(segment_id="", position=0, code="", message="")
                self.acked.segment_errors.append(self.segment)
                self.current.problems.append(f"{tag} comes without an AK3/IK3 before it")
            else:
                self.current.problems.append(f"{tag} comes outside an AK2 loop")
                return
        position, component, repetition = (
            [*values[1].split(self.reader.delimiters.component), "", ""]
        )[:3]
        code = values[3]
        element = ElementError(
            position=_int(position) or 0,
            code=code,
            message="",
            component=_int(component),
            repetition=_int(repetition),
            data_element=values[2] or None,
            value=values[4] or None,
        )
        segment = self.segment
        name = (
            f"{segment.segment_id}{element.position:02d}"
            if segment.segment_id
            else (f"element {element.position}")
        )
        if element.component:
            name += f"-{element.component:02d}"
        if element.repetition:
            name += f" (repetition {element.repetition})"
        if element.data_element:
            name += f" (data element {element.data_element})"
        where = segment.message.split(":")[0] if segment.message else "an unnamed segment"
        text = ELEMENT_ERROR_TEXT.get(code, f"element error code {code}") if code else "error"
        bad = f" (value {element.value!r})" if element.value else ""
        element.message = f"{where}, element {name}: {text}{bad}"
        segment.elements.append(element)
        self.element = element
        self.acked.errors.append(element.message)

    def _context(self, values: list[str]) -> None:
        """A 999 CTX: business unit (CTX01 = name:value) or the segment that triggers a
        situational requirement (CTX01 = SITUATIONAL TRIGGER, CTX02.. where)."""
        if self.acked is None:
            self.current.problems.append("CTX comes outside an AK2 loop")
            return
        name, _, reference = values[1].partition(self.reader.delimiters.component)
        if values[2]:
            where = f"segment {values[2]} at position {values[3] or '?'}"
            if values[4]:
                where += f" (loop {values[4]})"
            if values[5]:
                where += f", element {values[5].replace(self.reader.delimiters.component, '-')}"
            sentence = f"context {name or 'trigger'}: {where}"
        else:
            sentence = f"context {name}" + (f" = {reference}" if reference else "")
        target = self.element or self.segment
        if target is not None:
            target.message += f" [{sentence}]"
        self.acked.errors.append(sentence)

    # -- AK5 / AK9 -------------------------------------------------------------------

    def _set_response(self, tag: str, elements: list[str], values: list[str]) -> None:
        acked = self.acked
        if acked is None:
            self.current.problems.append(f"{tag} comes without an AK2")
            return
        acked.status_code = values[1].strip()
        acked.status = _status(acked.status_code)
        acked.set_errors = [c for c in elements[2:] if c]
        acked.errors.extend(
            SET_ERROR_TEXT.get(c, f"transaction set error code {c}") for c in acked.set_errors
        )
        if acked.status is SetStatus.PARTIALLY_ACCEPTED:
            self.group.inconsistencies.append(
                f"AK501 of {acked.set_id} {acked.control_number} is P, a code for groups only"
            )
        self.acked = self.segment = self.element = None

    def _group_response(self, elements: list[str], values: list[str]) -> None:
        self._end_set()
        group = self.group
        if group is None:
            self.current.problems.append("AK9 comes without an AK1")
            return
        group.status_code = values[1].strip()
        group.status = _status(group.status_code)
        group.declared, group.received, group.accepted = (_int(values[i]) for i in (2, 3, 4))
        group.group_errors = [c for c in elements[5:] if c]
        group.errors = [
            GROUP_ERROR_TEXT.get(c, f"functional group error code {c}") for c in group.group_errors
        ]
        group.inconsistencies.extend(_inconsistencies(group))
        self.group = None


def _inconsistencies(group: AckedGroup) -> list[str]:
    """Where the AK9 contradicts the AK5s (real partners' 997s do): said, never guessed."""
    found = []
    if (
        group.accepted is not None
        and group.received is not None
        and group.accepted > group.received
    ):
        found.append(
            f"AK904 says {group.accepted} set(s) accepted of only {group.received} received"
        )
    if not group.sets:
        return found
    accepted = sum(1 for s in group.sets if s.accepted)
    rejected = sum(1 for s in group.sets if s.status is SetStatus.REJECTED)
    if group.accepted is not None and accepted != group.accepted:
        found.append(f"AK904 says {group.accepted} set(s) accepted but the AK5s accept {accepted}")
    if group.received is not None and len(group.sets) != group.received:
        found.append(
            f"AK903 says {group.received} set(s) received but {len(group.sets)} are acknowledged"
        )
    status = group.status
    if status is SetStatus.ACCEPTED and rejected:
        found.append(f"AK901 says A (accepted) but {rejected} AK5 reject their set")
    elif status is SetStatus.ACCEPTED_WITH_ERRORS and rejected:
        found.append(f"AK901 says E (accepted with errors) but {rejected} AK5 reject their set")
    elif status is SetStatus.PARTIALLY_ACCEPTED and (accepted == 0 or rejected == 0):
        found.append(
            f"AK901 says P (partially accepted) but the AK5s accept {accepted} and reject {rejected}"
        )
    return found


def _status(code: str) -> SetStatus | None:
    if code in ("M", "W", "X"):  # rejected: MAC failed, assurance failed, cannot decrypt
        return SetStatus.REJECTED
    try:
        return SetStatus(code)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if is_digits(value) else None


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if is_digits(a) and is_digits(b):
        return int(a) == int(b)
    return a == b
