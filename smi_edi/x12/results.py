"""Validation results shared by the validator, the acknowledgment writer and the CLI.

The codes are the X12 997/999 ones, so an acknowledgment can be written straight from a
result: AK304/IK304 segment syntax error codes, AK403/IK403 element error codes, AK502/IK502
set error codes, AK905 group error codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SetStatus(StrEnum):
    """AK501 / IK501 (and AK901 for groups)."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"  # groups only (AK901)
    REJECTED = "R"

    @property
    def label(self) -> str:
        return {
            "A": "accepted",
            "E": "accepted with errors",
            "P": "partially accepted",
            "R": "rejected",
        }[self.value]


# AK304 / IK304: segment syntax error codes
SEGMENT_ERROR_TEXT = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Mandatory segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    # 999 only
    "I4": "Implementation 'Not Used' segment present",
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": "Implementation dependent 'Not Used' segment present",
}

# AK403 / IK403: element error codes
ELEMENT_ERROR_TEXT = {
    "1": "Mandatory data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I10": "Implementation 'Not Used' data element present",
    "I11": "Implementation too few repetitions",
    "I12": "Implementation pattern match failure",
    "I13": "Implementation dependent 'Not Used' data element present",
    "I6": "Code value not used in implementation",
    "I9": "Implementation dependent data element missing",
}

# AK502 / IK502: transaction set error codes
SET_ERROR_TEXT = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "23": "Transaction set control number not unique within the functional group",
}

# AK905: functional group error codes
GROUP_ERROR_TEXT = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within interchange",
}


@dataclass(slots=True)
class ElementError:
    """One AK4/IK4: element position (1-based), optional component position, code, bad value."""

    position: int
    code: str
    message: str
    component: int | None = None
    repetition: int | None = None
    data_element: str | None = None  # element reference number, e.g. "859"
    value: str | None = None

    def as_dict(self) -> dict:
        return {
            "position": self.position,
            "component": self.component,
            "repetition": self.repetition,
            "data_element": self.data_element,
            "code": self.code,
            "message": self.message,
            "value": self.value,
        }


@dataclass(slots=True)
class SegmentError:
    """One AK3/IK3: segment id, position in the set (ST = 1), loop id, code, element errors."""

    segment_id: str
    position: int  # position within the transaction set, ST is 1
    code: str  # AK304; "8" when only element errors
    message: str
    loop_id: str | None = None
    file_segment_number: int | None = None  # position in the whole file, ISA is 1
    elements: list[ElementError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "segment_id": self.segment_id,
            "position": self.position,
            "file_segment_number": self.file_segment_number,
            "loop_id": self.loop_id,
            "code": self.code,
            "message": self.message,
            "elements": [e.as_dict() for e in self.elements],
        }


@dataclass(slots=True)
class SetResult:
    """AK2..AK5 for one transaction set."""

    set_id: str  # ST01, e.g. "852"
    control_number: str  # ST02
    status: SetStatus = SetStatus.ACCEPTED
    implementation_reference: str | None = None  # ST03 (5010)
    set_errors: list[str] = field(default_factory=list)  # AK502 codes
    segment_errors: list[SegmentError] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # sentences a person can act on
    first_segment_number: int | None = None  # ST's number in the file
    segment_count: int | None = None

    def as_dict(self) -> dict:
        return {
            "set_id": self.set_id,
            "control_number": self.control_number,
            "status": self.status.label,
            "status_code": self.status.value,
            "set_errors": [
                {"code": c, "message": SET_ERROR_TEXT.get(c, c)} for c in self.set_errors
            ],
            "segment_errors": [s.as_dict() for s in self.segment_errors],
            "messages": list(self.messages),
        }


@dataclass(slots=True)
class GroupResult:
    """AK1 + AK9 for one functional group."""

    functional_id: str  # GS01
    control_number: str  # GS06
    version: str  # GS08
    sender_id: str = ""  # GS02
    receiver_id: str = ""  # GS03
    status: SetStatus = SetStatus.ACCEPTED
    group_errors: list[str] = field(default_factory=list)  # AK905 codes
    sets: list[SetResult] = field(default_factory=list)
    declared_set_count: int | None = None  # GE01
    messages: list[str] = field(default_factory=list)  # notes on the group (do not reject it)

    @property
    def received_count(self) -> int:
        return len(self.sets)

    @property
    def accepted_count(self) -> int:
        return sum(
            1 for s in self.sets if s.status in (SetStatus.ACCEPTED, SetStatus.ACCEPTED_WITH_ERRORS)
        )

    def as_dict(self) -> dict:
        return {
            "functional_id": self.functional_id,
            "control_number": self.control_number,
            "version": self.version,
            "status": self.status.label,
            "status_code": self.status.value,
            "group_errors": [
                {"code": c, "message": GROUP_ERROR_TEXT.get(c, c)} for c in self.group_errors
            ],
            "declared_set_count": self.declared_set_count,
            "messages": list(self.messages),
            "received_count": self.received_count,
            "accepted_count": self.accepted_count,
            "sets": [s.as_dict() for s in self.sets],
        }


@dataclass(slots=True)
class InterchangeResult:
    """The verdict on one interchange: its envelope problems and each group's result."""

    control_number: str  # ISA13
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    version: str  # ISA12
    groups: list[GroupResult] = field(default_factory=list)
    interchange_errors: list[str] = field(default_factory=list)  # sentences (TA1-level problems)
    usage: str = "P"  # ISA15: P production, T test (an acknowledgment repeats it)

    @property
    def sets(self) -> list[SetResult]:
        return [s for g in self.groups for s in g.sets]

    @property
    def all_accepted(self) -> bool:
        return (
            not self.interchange_errors
            and all(s.status is SetStatus.ACCEPTED for s in self.sets)
            and all(g.status is SetStatus.ACCEPTED for g in self.groups)
        )

    @property
    def any_rejected(self) -> bool:
        return (
            bool(self.interchange_errors)
            or any(s.status is SetStatus.REJECTED for s in self.sets)
            or any(g.status is SetStatus.REJECTED for g in self.groups)
        )

    def as_dict(self) -> dict:
        return {
            "control_number": self.control_number,
            "sender": f"{self.sender_qualifier}:{self.sender_id}",
            "receiver": f"{self.receiver_qualifier}:{self.receiver_id}",
            "version": self.version,
            "interchange_errors": list(self.interchange_errors),
            "groups": [g.as_dict() for g in self.groups],
        }
