"""Verdicts from the envelopes alone: the reader's summary of interchanges, groups and sets
turned into validation results (AK5 codes for broken ST/SE, AK9 codes for broken GS/GE).

The map validation adds segment and element errors to these results; a set whose envelope
is broken is rejected whatever its content.
"""

from __future__ import annotations

from datetime import date

from .errors import readable_bytes
from .reader import GroupSummary, InterchangeSummary, X12Reader, is_digits
from .results import SET_ERROR_TEXT, GroupResult, InterchangeResult, SetResult, SetStatus

# AK502 codes that reject a set; AK905 codes that reject a group.
REJECTING_SET_CODES = {"1", "2", "3", "4", "6", "7", "23"}
REJECTING_GROUP_CODES = {"1", "2", "3", "4", "5", "6", "19"}


def results_from_envelopes(reader: X12Reader) -> list[InterchangeResult]:
    """Call after the reader has been read through."""
    return [_interchange(ix) for ix in reader.interchanges]


def _interchange(ix: InterchangeSummary) -> InterchangeResult:
    result = InterchangeResult(
        control_number=ix.control_number,
        sender_qualifier=ix.sender_qualifier,
        sender_id=ix.sender_id,
        receiver_qualifier=ix.receiver_qualifier,
        receiver_id=ix.receiver_id,
        version=ix.version,
        interchange_errors=[e.message for e in ix.errors],
        usage="T" if len(ix.header) > 15 and ix.header[15] == "T" else "P",
    )
    for gs in ix.groups:
        group = GroupResult(
            functional_id=gs.functional_id,
            control_number=gs.control_number,
            version=gs.version,
            sender_id=gs.sender_id,
            receiver_id=gs.receiver_id,
            group_errors=sorted({e.code for e in gs.errors}, key=_code_order),
            declared_set_count=int(gs.trailer[1])
            if gs.trailer and len(gs.trailer) > 1 and is_digits(gs.trailer[1])
            else None,
        )
        problems = gs_element_problems(gs)
        for code, message in problems:
            group.messages.append(message)
            if code and code not in group.group_errors:
                group.group_errors.append(code)
        for st in gs.sets:
            set_result = SetResult(
                set_id=st.set_id,
                control_number=st.control_number,
                implementation_reference=st.implementation_reference or None,
                set_errors=sorted({e.code for e in st.errors}, key=_code_order),
                messages=[e.message for e in st.errors],
                first_segment_number=st.segment_number,
                segment_count=st.segment_count,
            )
            if REJECTING_SET_CODES.intersection(set_result.set_errors):
                set_result.status = SetStatus.REJECTED
            group.sets.append(set_result)
        group.status = (
            SetStatus.REJECTED
            if problems or REJECTING_GROUP_CODES.intersection(group.group_errors)
            else SetStatus.ACCEPTED
        )
        result.groups.append(group)
    return result


# GS elements (X12.6): AN 2/15 sender and receiver codes, DT date, TM time, N0 1/9 control
# number, ID 1/2 agency, AN 1/12 version. The AK905 code where the standard has one (GS01 ->
# 1, GS08 -> 2, GS06 -> 6); the other elements reject the group without a code.
_GS_ELEMENTS = {
    1: ("Functional Identifier Code", "1"),
    2: ("Application Sender's Code", ""),
    3: ("Application Receiver's Code", ""),
    4: ("Date", ""),
    5: ("Time", ""),
    6: ("Group Control Number", "6"),
    7: ("Responsible Agency Code", ""),
    8: ("Version / Release / Industry Identifier Code", "2"),
}


def gs_element_problems(gs: GroupSummary) -> list[tuple[str, str]]:
    """(AK905 code or "", sentence) for every GS element that breaks its type or length.
    A group whose GS is missing elements is the reader's (AK905 6); nothing more here."""
    header = gs.header
    if len(header) < 9:
        return []
    version = header[8]
    old = is_digits(version[:6]) and version[:6] < "004010"  # GS04 was YYMMDD before 004010
    checks = {
        1: _id(header[1], 2, 2),
        2: _alphanumeric(header[2], 2, 15),
        3: _alphanumeric(header[3], 2, 15),
        4: _date(header[4], six=old),
        5: _time(header[5]),
        6: None
        if is_digits(header[6]) and 1 <= len(header[6]) <= 9
        else "a whole number of 1 to 9 digits",
        7: None if header[7] in ("X", "T") else "X (X12) or T (TDCC)",
        8: _alphanumeric(header[8], 1, 12),
    }
    problems = []
    for position, expected in checks.items():
        if expected is None:
            continue
        name, code = _GS_ELEMENTS[position]
        problems.append(
            (
                code,
                f"element GS{position:02d} ({name}) {readable_bytes(header[position])} is not valid; "
                f"it must be {expected}",
            )
        )
    return problems


def _printable_ascii(value: str) -> bool:
    return all(" " <= c <= "~" for c in value)


def _alphanumeric(value: str, low: int, high: int) -> str | None:
    if low <= len(value) <= high and _printable_ascii(value) and value.strip():
        return None
    return f"{low} to {high} printable ASCII characters (letters, digits, spaces, punctuation)"


def _id(value: str, low: int, high: int) -> str | None:
    if low <= len(value) <= high and value.isascii() and value.isalnum() and value.upper() == value:
        return None
    return f"a code of {low} to {high} capital letters or digits"


def _date(value: str, *, six: bool) -> str | None:
    lengths = (6, 8) if six else (8,)
    if is_digits(value) and len(value) in lengths:
        year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
        try:
            date(year, int(value[-4:-2]), int(value[-2:]))
            return None
        except ValueError:
            pass
    return "a date CCYYMMDD" + (" (or YYMMDD before 004010)" if six else "")


def _time(value: str) -> str | None:
    readable = is_digits(value) and len(value) in (4, 6, 7, 8)
    if readable and int(value[:2]) < 24 and int(value[2:4]) < 60 and int(value[4:6] or 0) < 60:
        return None
    return "a time HHMM, HHMMSS or HHMMSSd..d (4 to 8 digits)"


def _code_order(code: str) -> tuple[int, str]:
    return (int(code), code) if is_digits(code) else (10_000, code)


def describe_set_codes(codes: list[str]) -> list[str]:
    return [SET_ERROR_TEXT.get(code, f"set error {code}") for code in codes]
