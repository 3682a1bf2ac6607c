"""read_document: an interchange read whole into its envelope tree, and its canonical JSON,
the one form the CLI, the admin and the tests show and compare documents in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smi_edi.x12.document import canonical_json, read_document
from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.reader import X12Reader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
ISA = "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261116*0600*U*00401*000000001*0*P*>"
GROUP = "GS*PD*DEMORETAIL*ACMESUPPLY*20261116*0600*1*X*004010"
ENVELOPE_IDS = {"ISA", "GS", "GE", "IEA"}


def x12(*segments: str) -> bytes:
    return "".join(s + "~\n" for s in (ISA, *segments)).encode()


def rewritten(data: bytes, *, element: str, terminator: str, indent: str = "") -> bytes:
    """The same interchange written with another element separator, terminator and layout
    (the component separator stays, so the ISA's elements stay the same)."""
    isa_line = data[: data.index(b"~")].decode().replace("*", element)
    segments = list(X12Reader(data).segments())[1:]
    body = [indent + element.join(elements) for elements in segments]
    return "".join(s + terminator for s in [isa_line, *body]).encode()


def test_read_document_builds_the_interchange_group_set_tree():
    data = (FIXTURES / "855_tilde_crlf_two_sets.edi").read_bytes()

    doc = read_document(data)

    [ix] = doc.interchanges
    [group] = ix.groups
    assert (ix.summary.control_number, group.summary.control_number) == ("000000101", "101")
    assert [(s.set_id, s.control_number) for s in doc.sets] == [("855", "1001"), ("855", "1002")]
    first = group.sets[0]
    assert [s.id for s in first.segments] == ["ST", "BAK", "PO1", "ACK", "CTT", "SE"]
    assert [s.id for s in first.body()] == ["BAK", "PO1", "ACK", "CTT"]
    bak = first.segments[1]
    assert (bak.number, bak.offset) == (4, data.find(b"BAK*00*AD"))
    assert (bak.get(2), bak.get(3), bak.get(9)) == ("AD", "PO-4471", "")
    assert doc.segment_count == 16
    assert doc.stray_segments == []
    assert doc.envelope_errors == []


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.glob("*.edi") if not p.name.startswith("bad_"))
)
def test_every_segment_the_reader_yields_is_in_the_document_once_at_its_position(name):
    reader = X12Reader(FIXTURES / name)
    yielded = [
        (reader.segment_number, reader.offset, elements)
        for elements in reader.segments()
        if elements[0] not in ENVELOPE_IDS
    ]

    doc = read_document(FIXTURES / name)

    kept = [(s.number, s.offset, s.elements) for ts in doc.sets for s in ts.segments]
    kept += [(s.number, s.offset, s.elements) for s in doc.stray_segments]
    assert sorted(kept) == yielded


def test_canonical_json_is_compact_sorted_utf8_and_holds_positions():
    data = (FIXTURES / "856_ellipsis_terminator.edi").read_bytes()

    text = read_document(data).canonical_json()

    parsed = json.loads(text)
    assert text == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "M\u00fcller Gro\u00dfhandel" in text  # not \u-escaped
    assert parsed["delimiters"] == {
        "element": "*",
        "component": ":",
        "segment": "\u2026",
        "repetition": None,
    }
    [ix] = parsed["interchanges"]
    assert (ix["sender"], ix["receiver"]) == (
        {"qualifier": "ZZ", "id": "DEMORETAIL"},
        {"qualifier": "ZZ", "id": "ACMESUPPLY"},
    )
    assert (ix["control_number"], ix["version"], ix["segment_number"], ix["offset"]) == (
        "000000025",
        "00401",
        1,
        3,
    )
    [ts] = ix["groups"][0]["sets"]
    assert ts["segments"][3] == {
        "number": 6,
        "offset": data.find(b"N1*ST"),
        "elements": ["N1", "ST", "M\u00fcller Gro\u00dfhandel", "92", "DC01"],
    }
    assert parsed["warnings"] == ["UTF-8 byte order mark removed"]
    assert parsed["segment_count"] == 10


def test_canonical_json_helper_sorts_keys_and_keeps_non_ascii():
    assert (
        canonical_json({"b": 1, "a": ["M\u00fcller", None]}) == '{"a":["M\u00fcller",null],"b":1}'
    )


def test_canonical_json_is_the_same_string_every_time_and_from_every_source():
    path = FIXTURES / "two_interchanges.edi"

    texts = {
        read_document(path).canonical_json(),
        read_document(path).canonical_json(),
        read_document(str(path)).canonical_json(),
        read_document(path.read_bytes()).canonical_json(),
    }

    assert len(texts) == 1


@pytest.mark.parametrize(
    ("element", "terminator", "indent"),
    [
        pytest.param("*", "~\r\n", "    ", id="tilde-crlf-indented"),
        pytest.param("|", "^", "", id="pipe-element-caret-terminator"),
        pytest.param("*", "\n", "", id="newline-terminator"),
        pytest.param("~", "!\n", "  ", id="tilde-element-bang-terminator"),
    ],
)
def test_without_positions_the_same_content_gives_the_same_json_however_it_was_written(
    element, terminator, indent
):
    original = (FIXTURES / "855_tilde_crlf_two_sets.edi").read_bytes()
    other = rewritten(original, element=element, terminator=terminator, indent=indent)
    assert other != original

    a, b = read_document(original), read_document(other)

    assert a.as_dict(positions=False)["interchanges"] == b.as_dict(positions=False)["interchanges"]
    assert a.as_dict()["interchanges"] != b.as_dict()["interchanges"]  # offsets differ
    assert b.delimiters.element == element
    assert '"offset"' not in a.canonical_json(positions=False)


def test_without_positions_envelope_errors_keep_their_code_and_message_only():
    doc = read_document(FIXTURES / "env_group_errors.edi")

    errors = doc.as_dict(positions=False)["envelope_errors"]

    assert errors[0] == {"code": "5", "message": "GE01 says 2 transaction sets but group 1 has 1"}
    assert [e["code"] for e in errors] == ["5", "4", "19", "3"]
    assert doc.as_dict()["envelope_errors"][0]["segment_number"] == 6


def test_a_set_closed_without_se_does_not_swallow_the_following_ge():
    data = x12(GROUP, "ST*852*0001", "XQ*H*20261109*20261115", "GE*1*1", "IEA*1*000000001")

    doc = read_document(data)

    [ts] = doc.sets
    assert [s.id for s in ts.segments] == ["ST", "XQ"]
    assert ts.summary.trailer is None
    assert doc.stray_segments == []
    assert doc.interchanges[0].groups[0].summary.trailer == ["GE", "1", "1"]
    assert ("set", "2") in [(e.level, e.code) for e in doc.envelope_errors]
    entry = doc.as_dict()["interchanges"][0]["groups"][0]["sets"][0]
    assert entry["trailer"] is None
    assert [e["code"] for e in entry["errors"]] == ["2"]


def test_a_set_closed_without_se_ends_where_the_next_set_starts():
    data = x12(
        GROUP,
        "ST*852*0001",
        "XQ*H*20261109*20261115",
        "ST*852*0002",
        "XQ*H*20261116*20261122",
        "SE*3*0002",
        "GE*2*1",
        "IEA*1*000000001",
    )

    doc = read_document(data)

    assert [[s.get(2) or s.id for s in ts.segments] for ts in doc.sets] == [
        ["0001", "20261109"],
        ["0002", "20261116", "0002"],
    ]


def test_segments_outside_any_set_are_kept_as_stray_segments():
    data = (FIXTURES / "env_outside_set.edi").read_bytes()

    doc = read_document(data)

    assert [(s.id, s.number, s.offset) for s in doc.stray_segments] == [
        ("REF", 2, data.find(b"REF*")),
        ("DTM", 4, data.find(b"DTM*")),
        ("N9", 9, data.find(b"N9*")),
    ]
    assert doc.as_dict(positions=False)["stray_segments"][0] == ["REF", "ZZ", "BEFORE-GROUP"]
    assert "stray_segments" not in read_document(FIXTURES / "two_groups.edi").as_dict()


def test_a_set_outside_any_group_keeps_its_segments_in_the_document():
    data = x12("ST*852*0001", "XQ*H*20261109*20261115", "SE*3*0001", "IEA*0*000000001")

    doc = read_document(data)

    kept = [s.id for ts in doc.sets for s in ts.segments] + [s.id for s in doc.stray_segments]
    assert "XQ" in kept


def test_two_interchanges_give_two_branches_and_sets_across_both():
    doc = read_document(FIXTURES / "two_interchanges.edi")

    assert [ix.summary.control_number for ix in doc.interchanges] == ["000000008", "000000009"]
    assert [s.body()[0].get(3) for s in doc.sets] == ["20261115", "20261122"]
    assert [s.body()[0].number for s in doc.sets] == [4, 11]


def test_warnings_and_envelope_errors_come_through_from_the_reader():
    doc = read_document(FIXTURES / "env_interchange_errors.edi")

    assert [(e.code, e.segment_number) for e in doc.envelope_errors] == [
        ("021", 7),
        ("001", 7),
        ("023", 14),
    ]
    assert read_document(FIXTURES / "855_crlf_terminator_bom_unterminated.edi").warnings == [
        "UTF-8 byte order mark removed",
        "segments are terminated by line breaks",
        "the last segment is not terminated by '\\n'",
    ]


def test_an_unreadable_file_raises_the_reader_syntax_error():
    with pytest.raises(X12SyntaxError) as caught:
        read_document(FIXTURES / "bad_bare_st_se.edi")

    assert (caught.value.offset, caught.value.segment_number) == (0, 1)
    assert "no ISA to declare its delimiters" in caught.value.message
