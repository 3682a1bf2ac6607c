"""Verdicts from the envelopes alone: the reader's summary of interchanges, groups and sets
turned into validation results (AK5 codes for broken ST/SE, AK9 codes for broken GS/GE).

The map validation adds segment and element errors to these results; a set whose envelope
is broken is rejected whatever its content.
"""

from __future__ import annotations

from .reader import InterchangeSummary, X12Reader, is_digits
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
            if REJECTING_GROUP_CODES.intersection(group.group_errors)
            else SetStatus.ACCEPTED
        )
        result.groups.append(group)
    return result


def _code_order(code: str) -> tuple[int, str]:
    return (int(code), code) if is_digits(code) else (10_000, code)


def describe_set_codes(codes: list[str]) -> list[str]:
    return [SET_ERROR_TEXT.get(code, f"set error {code}") for code in codes]
