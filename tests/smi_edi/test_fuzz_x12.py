"""Fuzz the pure X12 path (no database): mutated real files through the reader, the
validator and the 997/999 writer.

Seeds are every file in tests/fixtures/x12 and, when it is beside the checkout, every
file of shared/corpus/x12-public. Each example takes one seed and damages it a few
times (bytes replaced by delimiters, control characters, a UTF-8 no-break space; slices
dropped, doubled or moved; the end cut off). Then:

* reading and validating it ends in results or in one of the project's own errors
  (:class:`~smi_edi.x12.errors.X12Error`: X12SyntaxError, ...), never anything else;
* for every interchange read, the 997 and the 999 we would send back are either written
  and accepted by our own validator (every set and group accepted; notes such as "GS08
  has no map of its own" are allowed), or refused by the writer with X12WriteError.

Bounded: ``SMI_FUZZ_EXAMPLES`` examples per test (default 100, well under a minute on
CI, the same examples every run). A longer, random run::

    SMI_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/smi_edi/test_fuzz_x12.py
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.acks import acknowledgment_for
from smi_edi.x12.errors import X12Error
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.validation import validate
from smi_edi.x12.writer import CountingControlNumbers

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT.parent / "shared" / "corpus" / "x12-public"
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "x12").glob("*.edi"))
CORPUS = sorted(p for p in CORPUS_DIR.glob("*.edi")) if CORPUS_DIR.exists() else []

EXAMPLES = int(os.environ.get("SMI_FUZZ_EXAMPLES", "100"))
LONG_RUN = "SMI_FUZZ_EXAMPLES" in os.environ
NOW = datetime(2026, 12, 7, 21, 0)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,  # CI sees the same examples every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NOISE = [
    b"~", b"*", b"^", b":", b">", b"|", b"\r\n", b"\n", b" ", b"\t", b"\x00", b"\x1f",
    b"\xc2\xa0", b"\xa0", b"\xff", b"\xe2\x80\xa6", b"0", b"9", b"A", b"-", b"ISA", b"GS",
    b"ST", b"SE", b"GE", b"IEA", b"*00501*", b"*00401*",
]  # fmt: skip


@st.composite
def mutated(draw, seeds: list[Path]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        size = len(data)
        at = draw(st.integers(0, size))
        end = min(size, at + draw(st.integers(0, 40)))
        kind = draw(st.sampled_from(["replace", "insert", "drop", "double", "move", "cut"]))
        if kind == "replace":
            data[at:end] = draw(st.sampled_from(NOISE))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(NOISE))
        elif kind == "drop":
            del data[at:end]
        elif kind == "double":
            data[at:at] = data[at:end]
        elif kind == "move":
            piece = bytes(data[at:end])
            del data[at:end]
            to = draw(st.integers(0, len(data)))
            data[to:to] = piece
        else:
            del data[at:]
    return bytes(data)


# Faults of the 997/999 writer (smi_edi/x12/acks.py) this fuzzing found and that are still
# open: a rejection of our own ack whose every reason matches one of these is tolerated by
# the random examples, and the seeds that show them are expected failures below. None is
# open: damaged GS01/GS06 are refused by the writer and a ST01/ST02 it cannot repeat gets no
# AK2 loop, AK404 leaves out values outside the X12 character set, and a 004010 997 writes
# only the AK905 codes 004010 knows.
KNOWN_WRITER_DEFECTS: dict[str, re.Pattern] = {}
WRITER_DEFECT_SEEDS: dict[str, str] = {}


def known_writer_defect(messages: list[str]) -> bool:
    return bool(messages) and all(
        any(p.search(m) for p in KNOWN_WRITER_DEFECTS.values()) for m in messages
    )


def check(data: bytes, *, tolerate_known: bool = True) -> None:
    try:
        results = validate(data, engine="fast")
        delimiters = X12Reader(data).delimiters
    except X12Error:
        return  # unreadable: refused with the project's own error, as it should be
    for result in results:
        for ack_type in ("997", "999"):
            try:
                ack = acknowledgment_for(
                    result,
                    ack_type=ack_type,
                    delimiters=delimiters,
                    control_numbers=CountingControlNumbers(),
                    now=NOW,
                )
            except X12Error:
                continue  # the writer refused it, saying why
            verdicts = validate(ack, engine="fast")
            groups = [g for r in verdicts for g in r.groups]
            sets = [s for g in groups for s in g.sets]
            rejected = [
                (s.set_id, s.control_number, s.messages)
                for s in sets
                if s.status is not SetStatus.ACCEPTED
                and not (tolerate_known and known_writer_defect(s.messages))
            ]
            assert sets and rejected == [], (ack_type, rejected, ack)
            if not rejected and len(sets) == sum(s.status is SetStatus.ACCEPTED for s in sets):
                assert all(g.status is SetStatus.ACCEPTED for g in groups), (ack_type, ack)


@FUZZ
@given(mutated(FIXTURES))
def test_mutated_fixtures_end_in_results_or_our_errors_and_their_acks_validate(data):
    check(data)


@pytest.mark.skipif(not CORPUS, reason="shared/corpus/x12-public is not beside the checkout")
@FUZZ
@given(st.deferred(lambda: mutated(CORPUS)))
def test_mutated_public_files_end_in_results_or_our_errors_and_their_acks_validate(data):
    check(data)


SEEDS = [
    pytest.param(
        path,
        marks=[
            pytest.mark.xfail(
                reason=f"known 997/999 writer defect: {WRITER_DEFECT_SEEDS[path.name]}",
                raises=AssertionError,
                strict=False,
            )
        ]
        if path.name in WRITER_DEFECT_SEEDS
        else [],
        id=path.name,
    )
    for path in FIXTURES + CORPUS
]


@pytest.mark.parametrize("path", SEEDS)
def test_every_seed_itself_ends_in_results_or_our_errors_and_its_acks_validate(path):
    check(path.read_bytes(), tolerate_known=False)
