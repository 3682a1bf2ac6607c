"""Helpers the 810, 820 and 846 tests share: one set written as a whole interchange with
our writer, its ST..SE segments read back with our reader, and our validator's verdict."""

from __future__ import annotations

from datetime import datetime

from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.validation import validate
from smi_edi.x12.writer import (
    CountingControlNumbers,
    GroupSpec,
    Party,
    TransactionSetSpec,
    write_interchange,
)

FUNCTIONAL_IDS = {"810": "IN", "820": "RA", "846": "IB"}


def one_set(
    set_id: str,
    body: list[list],
    version: str,
    *,
    sender: str = "DEMORETAIL",
    receiver: str = "ACMESUPPLY",
) -> bytes:
    """An interchange holding one ``set_id`` set with ``body`` (the segments between ST
    and SE), from ``sender`` to ``receiver`` (ZZ ids, also the GS ids)."""
    group = GroupSpec(
        FUNCTIONAL_IDS[set_id], sender, receiver, version, [TransactionSetSpec(set_id, body)]
    )
    return write_interchange(
        [group],
        sender=Party("ZZ", sender),
        receiver=Party("ZZ", receiver),
        control_numbers=CountingControlNumbers(),
        now=datetime(2026, 12, 1, 9, 0),
    )


def body_of(data: bytes) -> list[list[str]]:
    """The segments of the first set in ``data``, ST to SE, as the reader gives them."""
    segments = list(X12Reader(data).segments())
    start = next(i for i, s in enumerate(segments) if s[0] == "ST")
    end = next(i for i, s in enumerate(segments) if s[0] == "SE")
    return segments[start : end + 1]


def assert_accepted(data: bytes, set_id: str) -> None:
    """Our validator accepts the only set in ``data``, with no error at all."""
    (result,) = validate(data)
    (set_result,) = result.sets
    assert set_result.set_id == set_id
    assert set_result.segment_errors == [] and set_result.set_errors == []
    assert set_result.status is SetStatus.ACCEPTED, set_result.messages
