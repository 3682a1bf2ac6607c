"""Fuzz the whole ingest path (interchange_receive + interchange_process) with mutated real
852 files: whatever a partner sends, the only errors are the project's own (refusals with
a message, before anything is recorded), and every interchange recorded ends applied or
rejected with a reason, processing raising nothing.

The seeds are the 852 files of tests/fixtures/x12, one built here, and the public corpus
(shared/corpus/x12-public beside the checkout, or SMI_X12_CORPUS) when present. Their ISA
senders and receivers are registered partners, so mutations reach validation, the 997/999
writer and the apply, not only the unknown-partner refusal.

CI runs a fixed, bounded sample (about a minute). A longer, random run:
    SMI_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/smi_edi/test_ingest_fuzz.py -q
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_core.exceptions import ApplicationError
from smi_edi.models import Interchange, TradingPartner
from smi_edi.services.interchanges import interchange_process, interchange_receive
from smi_edi.services.partners import partner_add
from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.reader import X12Reader
from tests.conftest import FIXTURES
from tests.smi_edi.test_ingest import WEEK
from tests.x12_builders import interchange

pytestmark = pytest.mark.django_db
S = Interchange.Status
FINAL = {S.APPLIED, S.REJECTED}

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SMI_X12_CORPUS") or ROOT.parent / "shared" / "corpus" / "x12-public")
LONG_RUN = os.environ.get("SMI_FUZZ_EXAMPLES", "")
EXAMPLES = int(LONG_RUN or "80")


def _seeds() -> list[bytes]:
    files = sorted((FIXTURES / "x12").glob("852*.edi"))
    if CORPUS.is_dir():
        files += sorted(CORPUS.glob("852*.edi"))
    return [interchange([WEEK]), *(path.read_bytes() for path in files)]


SEEDS = _seeds()

# What partners get wrong: delimiters inside values, tabs, non-ASCII, over-long values,
# empty values, digits where letters go.
NASTY = st.one_of(
    st.sampled_from(
        ["", "\t", "Ï", "\u00a0", "004010VICSEXTRA", "X" * 40, "0", "99999999999", "-1", "~", "*"]
    ),
    st.text(min_size=0, max_size=20),
)


def _element_separator(data: bytes) -> bytes:
    at = data.find(b"ISA")  # after a byte order mark or blank lines, if any
    return data[at + 3 : at + 4] if at != -1 and len(data) > at + 3 else b"*"


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    start = min(106, len(data))  # mostly past the ISA, so the file is still taken in
    element = _element_separator(bytes(data))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(["value", "value", "gs", "gs", "byte", "insert", "delete", "repeat"])
        )
        if kind in ("value", "gs"):
            marker = b"GS" + element if kind == "gs" else element
            positions = [i for i in range(start, len(data)) if data.startswith(marker, i)]
            if not positions:
                continue
            at = draw(st.sampled_from(positions)) + len(marker) - 1
            if kind == "gs":  # step to GS01..GS08
                for _ in range(draw(st.integers(0, 7))):
                    nxt = data.find(element, at + 1)
                    at = nxt if nxt != -1 else at
            end = at + 1
            while end < len(data) and data[end : end + 1] not in (element, b"~", b"\n", b"^"):
                end += 1
            value = draw(NASTY).encode("utf-8")
            data[at + 1 : end] = value
        elif kind == "byte" and len(data) > start:
            at = draw(st.integers(start, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            at = draw(st.integers(start, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif kind == "delete" and len(data) > start:
            at = draw(st.integers(start, len(data) - 1))
            data[at : at + draw(st.integers(1, 30))] = b""
        elif kind == "repeat" and len(data) > start:
            at = draw(st.integers(start, len(data) - 1))
            size = draw(st.integers(1, 80))
            data[at:at] = data[at : at + size]
    return bytes(data)


@pytest.fixture
def partners(settings, tmp_path):
    """Every seed's ISA sender is a registered buyer, its receiver one of our suppliers."""
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    for n, seed in enumerate(SEEDS):
        try:
            isa = X12Reader(seed[:200] + b"\n").isa
        except X12SyntaxError:
            continue
        for qualifier, isa_id, role in ((isa[5], isa[6], "buyer"), (isa[7], isa[8], "supplier")):
            if TradingPartner.objects.filter(isa_qualifier=qualifier, isa_id=isa_id).exists():
                continue
            partner_add(
                code=f"{role}-{n}",
                name=f"{role} {n}",
                isa=f"{qualifier}:{isa_id}",
                role=role,
                with_token=False,
            )


_controls = itertools.count(1)


def _fresh_control_number(data: bytes) -> bytes:
    """A new ISA13 for each example, so that examples are not all rejected as duplicates
    of one another before they reach validation, the 997 writer and the apply."""
    separator = _element_separator(data)
    cut = data.find(b"GS" + separator)
    cut = cut if cut != -1 else min(len(data), 120)
    isa = data[:cut].split(separator)
    if len(isa) < 15 or not isa[13].strip().isdigit():
        return data
    isa[13] = f"{next(_controls):09d}".encode()
    return separator.join(isa) + data[cut:]


def ingest_anything(data: bytes) -> Interchange | None:
    """What a worker does with a file; ``None`` when it is refused at the door. Once the
    file is recorded, processing must not raise at all: an error escaping here would leave
    the interchange short of a final state (or failed) instead of answered."""
    data = _fresh_control_number(data)
    try:
        received = interchange_receive(
            source=data, transport="cli", source_name="fuzz.edi", actor="fuzz"
        )
    except ApplicationError as exc:
        assert exc.message  # refused with a reason a person can read
        return None
    interchange_process(interchange_id=received.pk, actor="fuzz")
    return Interchange.objects.get(pk=received.pk)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN,  # CI: the same bounded sample every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated())
def test_any_mutation_of_an_852_ends_final_with_a_reason(partners, data):
    done = ingest_anything(data)

    if done is not None:
        assert done.status in FINAL, (done.status, done.status_reason)
        assert done.status_reason
        if done.status == S.APPLIED:
            assert done.processed_at is not None  # follow-ups (planning) queued


def test_every_seed_unmutated_ends_final(partners):
    statuses = [getattr(ingest_anything(seed), "status", None) for seed in SEEDS]

    assert S.APPLIED in statuses
    assert all(s in FINAL | {None} for s in statuses)
