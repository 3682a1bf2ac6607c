"""The fast validator (smi_edi.x12.fastcheck) gives pyx12's verdicts.

pyx12 over the same maps is the reference: for every fixture, every public corpus file
our reader accepts, and thousands of generated and mutated documents, the whole result
(statuses, AK3/AK4 codes and positions, values, sentences) must be identical. Where the
two differ because pyx12 is wrong, the case is written down here as its own test.
"""

from __future__ import annotations

import copy
import random
import tracemalloc
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.fastcheck.elements import segment_errors
from smi_edi.x12.fastcheck.patterns import fast_check
from smi_edi.x12.fastcheck.tables import CompositeDef, compile_directory
from smi_edi.x12.results import SetStatus
from smi_edi.x12.validation import DEFAULT_MAP_PATH, validate
from tests.smi_edi.test_validation import ACK_855, REPORT_852, VALID, interchange

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "x12").glob("*.edi"))
CORPUS_DIR = ROOT.parent / "shared" / "corpus" / "x12-public"
CORPUS = sorted(p for p in CORPUS_DIR.glob("*") if p.suffix != ".md") if CORPUS_DIR.exists() else []


def verdict(source, engine: str):
    try:
        return [asdict(result) for result in validate(source, engine=engine)]
    except X12SyntaxError as exc:  # the reader refuses it: the same for both engines
        return f"X12SyntaxError: {exc}"


def pyx12_crashed(result) -> bool:
    """pyx12 4.0.0 indexes past a composite's sub-elements when a segment holds more than
    the map allows, and stops with IndexError; our validator reports the element (AK4 3)
    instead, so the two verdicts cannot be the same there (a known pyx12 defect)."""
    return isinstance(result, list) and any(
        "could not finish" in message and "IndexError" in message
        for interchange in result
        for message in interchange["interchange_errors"]
    )


def assert_same_verdict(source) -> None:
    fast, reference = verdict(source, "fast"), verdict(source, "pyx12")
    if pyx12_crashed(reference):
        rejected = [
            s["status"]
            for interchange in fast
            for group in interchange["groups"]
            for s in group["sets"]
            if s["status"] is SetStatus.REJECTED
        ]
        assert rejected, "pyx12 stopped on this file; ours must still reject what it stopped on"
        return
    assert fast == reference


# Fixtures where stock pyx12 4.0.0 is wrong, each with the one difference it makes; every
# other field of the two verdicts must still be identical (see the tests further down).
KNOWN_PYX12_DEFECTS = {
    # pyx12 counts the two CTX forms of the 999's loop 2100 as one segment (see
    # fastcheck.tables._count_apart): one of each is "CTX exceeded max count" (AK3 5).
    "999_x231_guide_both_ctx_forms.edi": "one count for both CTX forms of loop 2100",
}


def without_shared_ctx_count(verdict_):
    """pyx12's verdict minus its CTX-count defect: the set and group as they would be."""
    fixed = copy.deepcopy(verdict_)
    for group in fixed[0]["groups"]:
        for set_ in group["sets"]:
            kept = [
                e for e in set_["segment_errors"] if (e["segment_id"], e["code"]) != ("CTX", "5")
            ]
            if len(kept) < len(set_["segment_errors"]):
                set_["segment_errors"] = kept
                set_["messages"] = [m for m in set_["messages"] if "CTX segment occurs" not in m]
                if not kept and set_["set_errors"] == ["5"]:
                    set_["set_errors"], set_["status"] = [], "A"
        if all(s["status"] == "A" for s in group["sets"]):
            group["status"] = "A"
    return fixed


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_gets_pyx12s_verdict(path):
    if path.name in KNOWN_PYX12_DEFECTS:
        pytest.skip(f"known pyx12 defect: {KNOWN_PYX12_DEFECTS[path.name]} (tested below)")
    assert_same_verdict(path)


@pytest.mark.skipif(not CORPUS, reason="shared/corpus/x12-public is not beside the checkout")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_public_corpus_file_gets_pyx12s_verdict(path):
    assert_same_verdict(path)


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_set_we_take_gets_pyx12s_verdict(name):
    assert_same_verdict(VALID[name])
    assert verdict(VALID[name], "fast")[0]["groups"][0]["sets"][0]["status"] == "A"


# -- generated documents ---------------------------------------------------------------

DATES = st.sampled_from(["20261109", "20261115", "20260229", "20241301", "2026111", "261115"])
QUANTITIES = st.sampled_from(["0", "12", "250", "-3", "1.5", "1234567890123456", "", "A"])
STORES = st.sampled_from(["S1", "S0001", "DC01", "", "X" * 81, "Å1"])
CODES = st.sampled_from(["QA", "QS", "QP", "QI", "QC", "XX", "EA", ""])


@st.composite
def reports(draw) -> bytes:
    lines = []
    for n in range(draw(st.integers(0, 4))):
        segments = []
        for _ in range(draw(st.integers(0, 3))):
            segments.append(f"ZA*{draw(CODES)}*{draw(QUANTITIES)}*EA")
            for _ in range(draw(st.integers(0, 3))):
                pairs = [
                    f"{draw(STORES)}*{draw(QUANTITIES)}" for _ in range(draw(st.integers(1, 11)))
                ]
                segments.append(
                    f"SDQ*{draw(st.sampled_from(['EA', 'CA', 'ZZ']))}*92*" + "*".join(pairs)
                )
        lines.append((f"LIN**UP*{n:012d}*VN*V-{n}", segments))
    body = [f"XQ*H*{draw(DATES)}*{draw(DATES)}", "N1*BY*Demo Retail*92*DEMORETAIL"]
    for ids, segments in lines:
        body += [ids, *segments]
    body.append(f"CTT*{len(lines)}")
    version = draw(st.sampled_from([("00401", "004010"), ("00501", "005010")]))
    return interchange([("852", body)], isa12=version[0], gs08=version[1])


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(reports())
def test_generated_852s_get_pyx12s_verdict(data):
    assert_same_verdict(data)


# -- mutated documents -----------------------------------------------------------------

VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "X",
            "EA",
            "ZZ",
            "QA",
            "00",
            "92",
            "20261399",
            "20260230",
            "2500",
            "2561",
            "-1.5",
            "1.",
            ".5",
            "ABC ",
            "   ",
            "A>B",
            "A>>",
            "1>2>3>4>5>6>7",
            "é",
            "\x07",
            "9" * 20,
            "N1",
        ]
    ),
    st.text(alphabet="AZ09 .-:>^", max_size=12),
)


@st.composite
def mutants(draw) -> bytes:
    base = VALID[draw(st.sampled_from(sorted(VALID)))].decode()
    segments = [s.strip("\n") for s in base.split("~") if s.strip("\n")]
    body = range(2, len(segments) - 2)  # keep ISA/GS/GE/IEA so most files stay readable
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.sampled_from(body))
        fields = segments[i].split("*")
        kind = draw(
            st.sampled_from(
                ["value", "value", "value", "drop", "repeat", "swap", "extra", "cut", "id"]
            )
        )
        if kind == "value" and len(fields) > 1:
            fields[draw(st.integers(1, len(fields) - 1))] = draw(VALUES)
            segments[i] = "*".join(fields)
        elif kind == "drop":
            segments[i] = ""
        elif kind == "repeat":
            segments[i] = segments[i] + "~\n" + segments[i] * draw(st.integers(1, 1))
        elif kind == "swap":
            j = draw(st.sampled_from(body))
            segments[i], segments[j] = segments[j], segments[i]
        elif kind == "extra":
            segments[i] = segments[i] + "*" + draw(VALUES)
        elif kind == "cut":
            segments[i] = "*".join(fields[: draw(st.integers(1, max(1, len(fields) - 1)))])
        elif kind == "id":
            fields[0] = draw(st.sampled_from(["LIN", "ZA", "SDQ", "HL", "N1", "ZZZ", "PO1", "DTM"]))
            segments[i] = "*".join(fields)
    return ("~\n".join(s for s in segments if s) + "~\n").encode("utf-8")


@settings(
    max_examples=3000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants())
def test_mutated_documents_get_pyx12s_verdict(data):
    assert_same_verdict(data)


# -- the compiled segment checks only ever accept what the thorough checks accept --------

TABLES = compile_directory(DEFAULT_MAP_PATH)
SEGMENTS = sorted(
    {
        (name, node.fullpath): node
        for name in (
            "810.4010.xml",
            "820.5010.xml",
            "846.4010.xml",
            "850.4010.xml",
            "852.4010.xml",
            "852.5010.xml",
            "855.4010.xml",
            "856.5010.xml",
            "997.4010.xml",
            "999.5010.xml",
        )
        for node in TABLES.load(name).walk()
        if node.is_segment
    }.items()
)


def _plausible(element, draw) -> str:
    choices = ["", "1", "-2.50", "20261115", "1230", "ABC", "ABC ", " ", "9" * 12, "A>B"]
    if element.code_list:
        choices += [c for c in element.code_list[:5] if c]
    return draw(st.sampled_from(choices))


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.sampled_from(SEGMENTS), st.data())
def test_a_segment_the_compiled_check_accepts_has_no_errors(entry, data):
    _, node = entry
    fields = [node.id]
    for child in node.children[: data.draw(st.integers(0, len(node.children) + 1))]:
        if isinstance(child, CompositeDef):
            parts = [
                _plausible(c, data.draw) for c in child.children[: data.draw(st.integers(1, 3))]
            ]
            fields.append(">".join(parts))
        else:
            fields.append(_plausible(child, data.draw))
    while len(fields) > 1 and fields[-1] == "":
        fields.pop()
    check = fast_check(node, "*", ">")
    if check is not None and check(fields):
        assert segment_errors(node, fields, ">") == [], fields


def test_the_compiled_check_accepts_the_common_segments():
    """Otherwise every segment would take the thorough path: correct, but slow."""
    sdq = next(n for (_, path), n in SEGMENTS if path.endswith("/ZA/SDQ"))
    check = fast_check(sdq, "*", ">")
    assert check(["SDQ", "EA", "92", "S0001", "12", "S0002", "250"])
    assert not check(["SDQ", "EA", "92", "S0001", "12", "S0002"])  # a store without its quantity


# -- where pyx12 is wrong ----------------------------------------------------------------


def test_too_many_components_in_a_composite_is_an_error_where_pyx12_crashes():
    """pyx12 4.0.0 indexes past the composite's definition (``children[count + 1]``) and
    raises IndexError, so the whole set is only "could not be validated". We report the
    element: AK4 code 3, too many components, on N907 (whose C040 has six)."""
    body = [*REPORT_852[:4], "N9*IA*123*****IA>1>IA>2>IA>3>X", *REPORT_852[4:]]
    data = interchange([("852", body)])

    reference = validate(data, engine="pyx12")[0]
    ours = validate(data, engine="fast")[0]

    assert "IndexError" in reference.interchange_errors[0]
    assert reference.groups[0].sets[0].segment_errors == []
    fast_set = ours.groups[0].sets[0]
    assert fast_set.status is SetStatus.REJECTED
    assert [(e.segment_id, e.code) for e in fast_set.segment_errors] == [("N9", "8")]
    assert [(e.position, e.code) for e in fast_set.segment_errors[0].elements] == [(7, "3")]
    assert ours.interchange_errors == []


def test_a_999_loop_2100_with_both_ctx_forms_is_accepted_where_pyx12_rejects_it():
    """The 005010X231 guide's example (an IK3 followed by a segment-context CTX and a
    business-unit CTX) is accepted; pyx12 rejects it for exactly one reason: it counts both
    CTX forms against the business unit CTX's limit of one. Nothing else differs."""
    path = ROOT / "tests" / "fixtures" / "x12" / "999_x231_guide_both_ctx_forms.edi"

    ours, reference = verdict(path, "fast"), verdict(path, "pyx12")

    assert [s["status"] for s in ours[0]["groups"][0]["sets"]] == ["A"]
    assert ours[0]["groups"][0]["status"] == "A"
    errors = reference[0]["groups"][0]["sets"][0]["segment_errors"]
    assert [(e["segment_id"], e["position"], e["code"]) for e in errors] == [("CTX", 13, "5")]
    assert "(at most 1)" in errors[0]["message"]
    assert without_shared_ctx_count(reference) == ours


# -- streaming ----------------------------------------------------------------------------


def _big_852(items: int) -> bytes:
    rnd = random.Random(items)
    lines = []
    for n in range(items):
        segments = []
        for code in ("QA", "QS"):
            segments.append(f"ZA*{code}**EA")
            pairs = "*".join(f"S{s:04d}*{rnd.randint(0, 99)}" for s in range(10))
            segments += [f"SDQ*EA*92*{pairs}"] * 5
        lines.append((f"UP*{n:012d}", segments))
    body = [REPORT_852[0], REPORT_852[1]]
    for ids, segments in lines:
        body += [f"LIN**{ids}", *segments]
    body.append(f"CTT*{items}")
    return interchange([("852", body)])


def test_memory_stays_flat_as_the_file_grows():
    small, large = _big_852(300), _big_852(1500)
    peaks = []
    for data in (small, large):
        validate(small)  # compile the maps outside the measurement
        tracemalloc.start()
        result = validate(data)
        peaks.append(tracemalloc.get_traced_memory()[1] - len(data))
        tracemalloc.stop()
        assert result[0].groups[0].sets[0].status is SetStatus.ACCEPTED
    assert len(large) > 4 * len(small)
    # the input bytes themselves aside, validating 5x the data needs nowhere near 5x memory
    assert peaks[1] < peaks[0] * 2 + 1_000_000, peaks


# -- runs of like segments (checked as raw text, counted in one step) ---------------------


@pytest.mark.parametrize("repeats", [11, 12, 13, 30])
def test_a_run_of_like_segments_is_counted_against_its_maximum_as_pyx12_does(repeats):
    """REF may occur 12 times in an 855's N1 loop: runs are cut at the limit, so the 13th
    is reported (AK3 code 5) at the same position as pyx12 reports it."""
    body = [*ACK_855[:3], *[f"REF*VR*ACME{n}" for n in range(repeats)], *ACK_855[3:]]
    data = interchange([("855", body)], gs01="PR")

    assert_same_verdict(data)
    codes = [e.code for e in validate(data)[0].groups[0].sets[0].segment_errors]
    assert ("5" in codes) is (repeats > 12)


def test_a_bad_segment_in_the_middle_of_a_run_is_found_where_it_is():
    pairs = "*".join(f"S{s:04d}*{s}" for s in range(10))
    sdq = [f"SDQ*EA*92*{pairs}"] * 6
    sdq[3] = sdq[3].replace("*S0004*4", "*S0004*X")
    body = [*REPORT_852[:4], "ZA*QA**EA", *sdq, *REPORT_852[6:]]
    data = interchange([("852", body)])

    assert_same_verdict(data)
    (error,) = validate(data)[0].groups[0].sets[0].segment_errors
    assert (error.segment_id, error.position, error.elements[0].value) == ("SDQ", 10, "X")
