"""The X12 writer: exact bytes, envelopes counted, values refused rather than altered."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest

from smi_edi.x12.errors import X12WriteError
from smi_edi.x12.reader import Delimiters, X12Reader
from smi_edi.x12.writer import (
    ControlNumberSource,
    CountingControlNumbers,
    GroupSpec,
    InterchangeWriter,
    Party,
    Repeated,
    TransactionSetSpec,
    reserved_characters,
    resolve_delimiters,
    write_interchange,
)

NOW = datetime(2026, 11, 25, 8, 30)
STAR = Delimiters(element="*", component=">", segment="~", repetition="^")
US = Party("ZZ", "ACMESUPPLY")
THEM = Party("ZZ", "DEMORETAIL")


def write(segments, *, delimiters=STAR, version="004010", isa12=None, **kw) -> bytes:
    """One 855 set holding ``segments`` in one PR group."""
    return write_interchange(
        [
            GroupSpec(
                "PR", "ACMESUPPLY", "DEMORETAIL", version, [TransactionSetSpec("855", segments)]
            )
        ],
        sender=US,
        receiver=THEM,
        control_numbers=kw.pop("control_numbers", CountingControlNumbers(interchange=41, group=6)),
        delimiters=delimiters,
        version=isa12,
        now=NOW,
        **kw,
    )


def body(data: bytes) -> list[list[str]]:
    return [
        e for e in X12Reader(data).segments() if e[0] not in {"ISA", "GS", "ST", "SE", "GE", "IEA"}
    ]


PO_ACK = [
    ["BAK", "00", "AC", "PO1234", "20261125"],
    ["PO1", "1", "10", "EA", "4.5", "", "VN", "WIDGET-1"],
    ["ACK", "IA", "10", "EA"],
    ["CTT", "1"],
]


def test_a_small_855_is_written_byte_for_byte():
    data = write(PO_ACK)

    assert data == (
        b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*DEMORETAIL     *261125*0830*U*00401*000000042*0*P*>~"
        b"GS*PR*ACMESUPPLY*DEMORETAIL*20261125*0830*7*X*004010~"
        b"ST*855*0001~BAK*00*AC*PO1234*20261125~PO1*1*10*EA*4.5**VN*WIDGET-1~ACK*IA*10*EA~CTT*1~SE*6*0001~"
        b"GE*1*7~IEA*1*000000042~"
    )


def test_the_isa_is_106_characters_whatever_the_ids():
    data = write_interchange(
        [GroupSpec("PR", "A", "B", "004010", [TransactionSetSpec("855", [["CTT", "0"]])])],
        sender=Party("01", "1"),
        receiver=Party("14", "123456789012345"),
        control_numbers=CountingControlNumbers(),
        now=NOW,
    )

    isa = data[: data.index(b"GS")]
    assert len(isa) == 106
    assert isa[3:4] == b"*" and isa[-2:] == b">~"
    assert X12Reader(data).isa[6] == "1" and X12Reader(data).isa[8] == "123456789012345"


def test_control_numbers_come_from_the_source_and_are_padded():
    class Fixed:
        def next_interchange(self) -> int:
            return 12345

        def next_group(self) -> int:
            return 77

        def next_set(self) -> int:
            return 5

    source = Fixed()
    data = write([["CTT", "1"]], control_numbers=source)

    assert isinstance(source, ControlNumberSource)
    assert b"*000012345*0*P*>~" in data
    assert b"*7*X*004010~" not in data and b"*77*X*004010~" in data
    assert b"ST*855*0005~" in data and b"SE*3*0005~" in data
    assert data.endswith(b"GE*1*77~IEA*1*000012345~")


@pytest.mark.parametrize(
    ("number", "message"),
    [(0, "outside 1..999999999"), (1_000_000_000, "outside 1..999999999"), ("7", "not a whole")],
    ids=["zero", "ten-digits", "text"],
)
def test_a_control_number_that_does_not_fit_is_refused(number, message):
    class Broken(CountingControlNumbers):
        def next_interchange(self):
            return number

    with pytest.raises(X12WriteError, match=message):
        write([["CTT", "1"]], control_numbers=Broken())


def test_every_envelope_is_counted_across_groups_and_sets():
    numbers = CountingControlNumbers(interchange=8, group=20, set=100)
    writer = InterchangeWriter(
        sender=US, receiver=THEM, control_numbers=numbers, version="00401", now=NOW
    )
    writer.begin_group("PR", sender_id="ACMESUPPLY", receiver_id="DEMORETAIL", version="004010")
    writer.add_set("855", PO_ACK)
    writer.add_set("855", [["BAK", "00", "AK", "PO9", "20261125"]])
    writer.begin_group("SH", sender_id="ACMESUPPLY", receiver_id="DEMORETAIL", version="004010")
    writer.begin_set("856")
    writer.segment(["BSN", "00", "SHIP1", "20261125", "0830", "0001"])
    data = writer.finish()  # closes the open set and group

    reader = X12Reader(data)
    reader.read_all()
    (ix,) = reader.interchanges
    assert reader.envelope_errors == []
    assert ix.trailer == ["IEA", "2", "000000009"]
    assert [(g.control_number, g.trailer) for g in ix.groups] == [
        ("21", ["GE", "2", "21"]),
        ("22", ["GE", "1", "22"]),
    ]
    assert [s.trailer for g in ix.groups for s in g.sets] == [
        ["SE", "6", "0101"],
        ["SE", "3", "0102"],
        ["SE", "3", "0103"],
    ]
    assert writer.interchange_control_number == "000000009"
    assert writer.control_numbers_used == [
        ("21", "855", "0101"),
        ("21", "855", "0102"),
        ("22", "856", "0103"),
    ]


def test_a_finished_writer_and_misplaced_segments_are_refused():
    writer = InterchangeWriter(sender=US, receiver=THEM, control_numbers=CountingControlNumbers())
    with pytest.raises(X12WriteError, match="outside ST/SE"):
        writer.segment(["CTT", "1"])
    with pytest.raises(X12WriteError, match="must be inside a functional group"):
        writer.begin_set("855")
    with pytest.raises(X12WriteError, match="at least one functional group"):
        writer.finish()
    writer.begin_group("PR", sender_id="A", receiver_id="B", version="004010")
    writer.add_set("855", [["CTT", "0"]])
    writer.finish()
    with pytest.raises(X12WriteError, match="is finished"):
        writer.begin_group("PR", sender_id="A", receiver_id="B", version="004010")


def test_from_00402_on_isa11_is_the_repetition_separator():
    data = write([["CTT", "1"]], version="005010")

    assert data[82:83] == b"^" and data[84:89] == b"00501"
    assert X12Reader(data).delimiters == STAR


def test_a_5010_partner_without_a_repetition_separator_gets_one_that_is_free():
    caret_taken = Delimiters(element="^", component=":", segment="~", repetition=None)

    assert resolve_delimiters(Delimiters("*", ":", "~", None), "00501").repetition == "^"
    assert resolve_delimiters(caret_taken, "00501").repetition == "{"
    assert resolve_delimiters(STAR, "00401").repetition is None
    data = write([["CTT", "1"]], delimiters=caret_taken, version="005010")
    assert X12Reader(data).delimiters == Delimiters("^", ":", "~", "{")


def test_before_00402_the_caret_is_data_and_isa11_is_u():
    data = write([["N1", "ST", "A^B"]])

    assert data[82:83] == b"U"
    assert body(data) == [["N1", "ST", "A^B"]]
    assert "^" not in reserved_characters(STAR, "00401")
    assert "^" in reserved_characters(STAR, "00501")


def test_repeated_elements_use_the_repetition_separator():
    data = write(
        [["REF", "ZZ", Repeated(["A", "B", ""])], ["CTX", Repeated([["X", "1"], ["Y", ""]])]],
        version="005010",
    )

    assert b"~REF*ZZ*A^B~CTX*X>1^Y~" in data


def test_gs04_is_ccyymmdd_from_004010_and_yymmdd_before():
    assert b"*20261125*0830*7*X*004010~" in write([["CTT", "1"]])
    assert b"*261125*0830*7*X*003040~" in write([["CTT", "1"]], version="003040", isa12="00304")


@pytest.mark.parametrize(
    ("segment", "version", "message"),
    [
        (["N1", "ST", "Smith*Jones"], "004010", "N102 'Smith*Jones' contains the delimiter '*'"),
        (["REF", "ZZ", "a~b"], "004010", "REF02 'a~b' contains the delimiter '~'"),
        (["PO1", "1", ["EA", "a>b"]], "004010", "PO102-02 'a>b' contains the delimiter '>'"),
        (["REF", "ZZ", "A^B"], "005010", "REF02 'A^B' contains the delimiter '^'"),
        (["N1", "ST", "Caf\u00e9"], "004010", "N102 'Café' has characters X12 cannot carry"),
        (["N1", "ST", "Caf\u00e9"], "005010", "'é' is not ASCII, and ISA12 00501"),
        (["MSG", "line\nbreak"], "004010", "MSG01 'line\\nbreak' has characters X12 cannot carry"),
        (["MSG", "tab\there"], "004010", "unprintable character '\\t'"),
        (["QTY", "01", Decimal("5")], "004010", "QTY02 Decimal('5') is not text"),
        (["REF", "ZZ", Repeated(["A", "B"])], "004010", "REF02 repeats, but version 00401"),
        (["ZA", "QA", "1", "EA~"], "005010", None),  # '~' is the terminator: a delimiter
        (["lin", "1"], "004010", "'lin' is not a segment id"),
        (["SE", "1", "0001"], "004010", "SE is an envelope segment"),
    ],
    ids=[
        "element-separator",
        "terminator",
        "component-separator-in-a-component",
        "repetition-separator-5010",
        "non-ascii-4010",
        "non-ascii-5010",
        "newline",
        "tab",
        "not-text",
        "repeats-before-00402",
        "terminator-at-the-end",
        "lower-case-id",
        "envelope-id",
    ],
)
def test_values_that_cannot_be_written_are_refused_with_their_place(segment, version, message):
    with pytest.raises(X12WriteError, match=re.escape(message or "contains the delimiter '~'")):
        write([segment], version=version)


def test_a_tilde_that_would_end_a_segment_is_refused_where_it_is_no_delimiter():
    bars = Delimiters(element="|", component=":", segment="!", repetition=None)

    assert body(write([["MSG", "A~B"]], delimiters=bars)) == [["MSG", "A~B"]]
    with pytest.raises(X12WriteError, match=r"MSG01 'AB~' would end the segment with '~'"):
        write([["MSG", "AB~"]], delimiters=bars)


def test_non_ascii_is_written_as_utf8_from_00704_on():
    data = write([["N1", "ST", "Caf\u00e9 M\u00fcller"]], version="007040")

    assert "Café Müller".encode() in data
    assert body(data) == [["N1", "ST", "Café Müller"]]


def test_trailing_empty_elements_components_and_spaces_are_left_out():
    data = write(
        [
            ["PO1", "1", "10", "EA", "", ""],
            ["AK4", ["2", "1", ""], "373", "8"],
            ["N1", "ST", "Ship to   ", None, ""],
            ["REF", "ZZ", "", "  lead"],
            ["MEA", "", "", ["", "", ""]],
        ]
    )

    assert b"~PO1*1*10*EA~AK4*2>1*373*8~N1*ST*Ship to~REF*ZZ**  lead~MEA~" in data
    assert body(data)[3] == ["REF", "ZZ", "", "  lead"]


@pytest.mark.parametrize(
    ("suffix", "expected_lines"),
    [("\n", 10), ("\r\n", 10), ("", 1)],
    ids=["lf", "crlf", "none"],
)
def test_a_segment_suffix_puts_each_segment_on_its_own_line(suffix, expected_lines):
    data = write(PO_ACK, segment_suffix=suffix)

    assert len(data.decode().splitlines()) == expected_lines
    assert data.replace(suffix.encode(), b"") == write(PO_ACK)
    reader = X12Reader(data)
    assert reader.read_all() == 10 and reader.envelope_errors == []


@pytest.mark.parametrize(
    ("delimiters", "message"),
    [
        (Delimiters("*", "*", "~", None), "are not all different"),
        (Delimiters("*", ":", "~", "*"), "are not all different"),
        (Delimiters("A", ":", "~", None), "element separator 'A' cannot be written"),
        (Delimiters("*", " ", "~", None), "component separator ' ' cannot be written"),
        (Delimiters("*", ":", "X", None), "segment terminator 'X' cannot be written"),
        (Delimiters("*", ":", "~", "ab"), "repetition separator 'ab' cannot be written"),
    ],
    ids=[
        "element-is-component",
        "repetition-is-element",
        "letter",
        "space",
        "letter-terminator",
        "two-chars",
    ],
)
def test_delimiters_a_reader_could_not_split_are_refused(delimiters, message):
    with pytest.raises(X12WriteError, match=re.escape(message)):
        write([["CTT", "1"]], delimiters=delimiters, version="005010")


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters("*", ":", "\n", None),
        Delimiters("|", "^", "!", None),
        Delimiters("~", "`", "*", None),
        Delimiters("*", "\x1f", "~", None),
        Delimiters("*", ">", "\u2026", None),
    ],
    ids=["newline-terminator", "bar-caret-bang", "tilde-element", "unit-separator", "ellipsis"],
)
def test_partners_delimiters_read_back_as_written(delimiters):
    data = write(PO_ACK, delimiters=delimiters)
    reader = X12Reader(data)

    assert reader.delimiters == delimiters
    assert body(data) == [
        ["BAK", "00", "AC", "PO1234", "20261125"],
        ["PO1", "1", "10", "EA", "4.5", "", "VN", "WIDGET-1"],
        ["ACK", "IA", "10", "EA"],
        ["CTT", "1"],
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"usage": "X"}, "ISA15 usage 'X' must be P"),
        ({"ack_requested": "2"}, "ISA14 '2' must be 0 or 1"),
        ({"segment_suffix": "  "}, "segment suffix '  '"),
        ({"version": "4010"}, "ISA12 version '4010' is not a 5-digit version"),
        (
            {"sender": Party("ZZ", "A-VERY-LONG-SENDER-ID")},
            "ISA06 'A-VERY-LONG-SENDER-ID' is longer",
        ),
        (
            {"receiver": Party("ZZ", "DEMO*RETAIL")},
            "ISA08 'DEMO*RETAIL' contains the delimiter '*'",
        ),
    ],
    ids=["usage", "ack-requested", "suffix", "isa12", "long-id", "delimiter-in-id"],
)
def test_interchange_header_values_are_checked(kwargs, message):
    arguments = {
        "sender": US,
        "receiver": THEM,
        "control_numbers": CountingControlNumbers(),
        "now": NOW,
    } | kwargs
    with pytest.raises(X12WriteError, match=re.escape(message)):
        InterchangeWriter(**arguments)


def test_a_test_interchange_says_so_in_isa15():
    data = write([["CTT", "1"]], usage="T")

    assert X12Reader(data).isa[15] == "T"
    assert data[101:106] == b"*T*>~"
