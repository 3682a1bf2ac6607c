"""Functional acknowledgments: write 997/999 from a validation result, and read the
997/999 a partner sends back into which of our sets were accepted or rejected and why.

We write our own (pyx12's writer uses fixed delimiters, a clock-based ISA13 and a wrong
GS08). A 997 answers in the partner's version (004010, 005010, ...); a 999 is 005010X231A1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .reader import Delimiters, Source, X12Reader
from .results import (
    ELEMENT_ERROR_TEXT,
    SEGMENT_ERROR_TEXT,
    SET_ERROR_TEXT,
    GroupResult,
    InterchangeResult,
    SetResult,
    SetStatus,
)
from .writer import ControlNumbers, GroupSpec, Party, TransactionSetSpec, write_interchange

X999_VERSION = "005010X231A1"


def group_status(group: GroupResult) -> SetStatus:
    """AK901 from the sets' verdicts and the group's own errors."""
    if group.group_errors and any(code in ("1", "2", "3", "6") for code in group.group_errors):
        return SetStatus.REJECTED
    statuses = [s.status for s in group.sets]
    accepted = sum(1 for s in statuses if s is not SetStatus.REJECTED)
    if not statuses or accepted == 0:
        return SetStatus.REJECTED if statuses or group.group_errors else SetStatus.ACCEPTED
    if accepted < len(statuses):
        return SetStatus.PARTIALLY_ACCEPTED
    if group.group_errors or any(s is SetStatus.ACCEPTED_WITH_ERRORS for s in statuses):
        return SetStatus.ACCEPTED_WITH_ERRORS
    return SetStatus.ACCEPTED


def _clean(value: str | None, delimiters: Delimiters, limit: int = 99) -> str:
    """A copy of bad data (AK404) without any delimiter, so it cannot break the 997."""
    if not value:
        return ""
    banned = {delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition}
    cleaned = "".join(c for c in value if c not in banned and c.isascii() and c.isprintable())
    return cleaned[:limit]


def _ack_body(group: GroupResult, *, ack_type: str, delimiters: Delimiters) -> list[list]:
    five = group.version.startswith("005") or ack_type == "999"
    segments: list[list] = []
    ak1 = ["AK1", group.functional_id, group.control_number]
    if five:
        ak1.append(group.version)
    segments.append(ak1)
    for result in group.sets:
        ak2 = ["AK2", result.set_id, result.control_number]
        if five and result.implementation_reference:
            ak2.append(result.implementation_reference)
        segments.append(ak2)
        segments.extend(_segment_errors(result, ack_type=ack_type, delimiters=delimiters))
        codes = [c for c in result.set_errors if c][:5]
        if result.status is not SetStatus.ACCEPTED and not codes:
            codes = ["5"] if result.segment_errors else []
        segments.append(["IK5" if ack_type == "999" else "AK5", result.status.value, *codes])
    status = group.status if group.status is not SetStatus.ACCEPTED else group_status(group)
    declared = group.declared_set_count if group.declared_set_count is not None else len(group.sets)
    segments.append(
        [
            "AK9",
            status.value,
            str(declared),
            str(group.received_count),
            str(group.accepted_count),
            *group.group_errors[:5],
        ]
    )
    return segments


def _segment_errors(result: SetResult, *, ack_type: str, delimiters: Delimiters) -> list[list]:
    segments: list[list] = []
    for error in result.segment_errors:
        tag = "IK3" if ack_type == "999" else "AK3"
        segments.append(
            [tag, error.segment_id, str(error.position), error.loop_id or "", error.code]
        )
        for element in error.elements:
            position = [str(element.position)]
            if element.component:
                position.append(str(element.component))
                if element.repetition:
                    position.append(str(element.repetition))
            segments.append(
                [
                    "IK4" if ack_type == "999" else "AK4",
                    position,
                    element.data_element or "",
                    element.code,
                    _clean(element.value, delimiters),
                ]
            )
    return segments


def acknowledgment_for(
    result: InterchangeResult,
    *,
    ack_type: str = "997",
    delimiters: Delimiters,
    control_numbers: ControlNumbers,
    line_breaks: bool = False,
) -> bytes:
    """The 997 (or 999) answering one interchange: one acknowledgment set per functional
    group received, from us (its receiver) back to its sender, in its delimiters and version."""
    if ack_type not in ("997", "999"):
        raise ValueError(f"ack_type must be 997 or 999, not {ack_type!r}")
    groups = []
    for group in result.groups:
        version = X999_VERSION if ack_type == "999" else group.version or "004010"
        groups.append(
            GroupSpec(
                functional_id="FA",
                sender_id=group.receiver_id or result.receiver_id,
                receiver_id=group.sender_id or result.sender_id,
                version=version,
                sets=[
                    TransactionSetSpec(
                        set_id=ack_type,
                        segments=_ack_body(group, ack_type=ack_type, delimiters=delimiters),
                        implementation_reference=X999_VERSION if ack_type == "999" else "",
                    )
                ],
            )
        )
    if not groups:
        raise ValueError(
            "an interchange without functional groups is answered with a TA1, not a 997"
        )
    return write_interchange(
        groups,
        sender=Party(result.receiver_qualifier, result.receiver_id),
        receiver=Party(result.sender_qualifier, result.sender_id),
        control_numbers=control_numbers,
        delimiters=delimiters,
        version=result.version if ack_type == "997" else "00501",
        line_breaks=line_breaks,
    )


# -- reading partners' acknowledgments --------------------------------------------------


@dataclass
class AckedSet:
    set_id: str  # AK201
    control_number: str  # AK202
    status: SetStatus | None = None  # AK501; None when the group says it only in AK9
    set_errors: list[str] = field(default_factory=list)  # AK502..
    errors: list[str] = field(default_factory=list)  # sentences

    @property
    def accepted(self) -> bool:
        return self.status in (SetStatus.ACCEPTED, SetStatus.ACCEPTED_WITH_ERRORS)


@dataclass
class AckedGroup:
    functional_id: str  # AK101
    control_number: str  # AK102
    version: str = ""  # AK103
    status: SetStatus | None = None  # AK901
    declared: int | None = None  # AK902
    received: int | None = None  # AK903
    accepted: int | None = None  # AK904
    group_errors: list[str] = field(default_factory=list)
    sets: list[AckedSet] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)

    def set_status(self, set_id: str, control_number: str) -> SetStatus | None:
        """The verdict on one of our sets: its AK5, or the group's AK9 when no AK2 names it."""
        for acked in self.sets:
            if acked.set_id == set_id and acked.control_number.lstrip("0") == control_number.lstrip(
                "0"
            ):
                return acked.status
        if self.status is SetStatus.PARTIALLY_ACCEPTED:
            return None
        return self.status


@dataclass
class AckResult:
    ack_type: str  # 997 or 999
    control_number: str  # the ack's ST02
    interchange_control: str  # the ack's ISA13
    sender: str  # ISA05:ISA06 of the ack (our partner)
    receiver: str
    groups: list[AckedGroup] = field(default_factory=list)


def parse_ack(source: Source) -> list[AckResult]:
    """Read every 997/999 set in a file; raises X12SyntaxError when it cannot be read."""
    reader = X12Reader(source)
    results: list[AckResult] = []
    current: AckResult | None = None
    group: AckedGroup | None = None
    acked: AckedSet | None = None
    segment_text = ""
    for elements in reader.segments():
        tag = elements[0]
        values = elements + [""] * 6
        if tag == "ST" and values[1] in ("997", "999"):
            ix = reader.current_interchange
            current = AckResult(
                values[1],
                values[2],
                ix.control_number if ix else "",
                f"{ix.sender_qualifier}:{ix.sender_id}" if ix else "",
                f"{ix.receiver_qualifier}:{ix.receiver_id}" if ix else "",
            )
            results.append(current)
            group = acked = None
        elif current is None:
            continue
        elif tag == "AK1":
            group = AckedGroup(values[1], values[2], values[3])
            current.groups.append(group)
            acked = None
        elif tag == "AK2" and group is not None:
            acked = AckedSet(values[1], values[2])
            group.sets.append(acked)
        elif tag in ("AK3", "IK3") and acked is not None:
            code = values[4]
            segment_text = f"segment {values[1]} at position {values[2]}"
            if values[3]:
                segment_text += f" (loop {values[3]})"
            acked.errors.append(
                f"{segment_text}: {SEGMENT_ERROR_TEXT.get(code, f'error {code}') if code else 'error'}"
            )
        elif tag in ("AK4", "IK4") and acked is not None:
            position = values[1].replace(reader.delimiters.component, ".")
            code = values[3]
            bad = f" (value {values[4]!r})" if values[4] else ""
            reference = f", data element {values[2]}" if values[2] else ""
            acked.errors.append(
                f"{segment_text} element {position}{reference}: {ELEMENT_ERROR_TEXT.get(code, f'error {code}')}{bad}"
            )
        elif tag in ("AK5", "IK5") and acked is not None:
            acked.status = _status(values[1])
            acked.set_errors = [c for c in elements[2:] if c]
            acked.errors.extend(SET_ERROR_TEXT.get(c, f"set error {c}") for c in acked.set_errors)
        elif tag == "AK9" and group is not None:
            group.status = _status(values[1])
            group.declared, group.received, group.accepted = (_int(values[i]) for i in (2, 3, 4))
            group.group_errors = [c for c in elements[5:] if c]
            _check_counts(group)
        elif tag == "SE":
            current = group = acked = None
    return results


def _status(code: str) -> SetStatus | None:
    code = code.strip()
    if code in ("M", "W", "X"):  # 997 codes for authentication/decryption failures
        return SetStatus.REJECTED
    try:
        return SetStatus(code)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _check_counts(group: AckedGroup) -> None:
    """Real partners' 997s contradict themselves; say so rather than guess."""
    if group.sets:
        accepted = sum(1 for s in group.sets if s.accepted)
        if group.accepted is not None and accepted != group.accepted:
            group.inconsistencies.append(
                f"AK904 says {group.accepted} set(s) accepted but the AK5s accept {accepted}"
            )
        if group.received is not None and len(group.sets) != group.received:
            group.inconsistencies.append(
                f"AK903 says {group.received} set(s) received but {len(group.sets)} are acknowledged"
            )
