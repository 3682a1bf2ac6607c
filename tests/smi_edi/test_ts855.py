"""The outbound 855 purchase order acknowledgment: line ACK codes and the BAK02 type from
plain rules, the exact body segments, whole interchanges our 004010 and 005010 maps
accept, and reading an 855 back to the data it was written from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.ts855 import (
    ACK_CODES,
    AckLine,
    Acknowledgment855,
    ack_code_for,
    ack_type_for,
    number,
    read_855,
    segments_855,
)
from smi_edi.x12.validation import validate
from smi_edi.x12.writer import (
    CountingControlNumbers,
    GroupSpec,
    Party,
    TransactionSetSpec,
    write_interchange,
)

D = Decimal
NOV16, NOV17, NOV20 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 20)
VERSIONS = ["004010", "005010"]


def interchange(body: list[list], version: str) -> bytes:
    group = GroupSpec("PR", "SENDER", "RECEIVER", version, [TransactionSetSpec("855", body)])
    return write_interchange(
        [group],
        sender=Party("ZZ", "SENDER"),
        receiver=Party("ZZ", "RECEIVER"),
        control_numbers=CountingControlNumbers(),
        now=datetime(2026, 11, 17, 9, 30),
    )


def set_body(data: bytes) -> list[list[str]]:
    """The segments between ST and SE of the only set in ``data``, as the reader gives them."""
    body: list[list[str]] = []
    inside = False
    for elements in X12Reader(data).segments():
        if elements[0] == "SE":
            break
        if inside:
            body.append(elements)
        inside = inside or elements[0] == "ST"
    return body


def assert_accepted(data: bytes) -> None:
    results = validate(data)
    [interchange_result] = results
    [group] = interchange_result.groups
    [set_result] = group.sets
    assert set_result.set_id == "855"
    assert set_result.segment_errors == [] and set_result.set_errors == []
    assert set_result.status is SetStatus.ACCEPTED, set_result.messages


def small_855() -> Acknowledgment855:
    return Acknowledgment855(
        po_number="PO-1001",
        po_date=NOV16,
        ack_date=NOV17,
        ship_to=("92", "STORE-7"),
        lines=(
            AckLine(
                "1",
                D("10"),
                "EA",
                D("2.50"),
                (("UP", "012345678905"), ("VN", "A-1")),
                "IA",
                D("10"),
                NOV20,
            ),
            AckLine("2", D("2.5"), "CA", None, (("VN", "B-2"),), "IQ", D("1.250"), None),
            AckLine("3", D("4"), "EA", D("12.00"), (("IN", "9001"),), "IR", D("0"), None),
        ),
    )


# -- rules -------------------------------------------------------------------------------


def test_ack_codes_are_the_five_we_send_each_described():
    assert set(ACK_CODES) == {"IA", "IQ", "IB", "IR", "DR"}
    assert all(isinstance(text, str) and text for text in ACK_CODES.values())


@pytest.mark.parametrize(
    ("ordered", "confirmed", "requested", "promised", "backordered", "code"),
    [
        ("10", "10", NOV20, NOV20, False, "IA"),
        ("10", "10", None, None, False, "IA"),
        ("10", "10", NOV20, None, False, "IA"),  # no promise: nothing rescheduled
        ("10", "10", None, NOV20, False, "IA"),  # nothing requested: nothing rescheduled
        ("10", "10.000", NOV20, NOV20, False, "IA"),  # 10 and 10.000 are the same quantity
        ("10", "10", NOV17, NOV20, False, "DR"),
        ("10", "6", NOV20, NOV20, False, "IQ"),
        ("10", "12", NOV20, NOV20, False, "IQ"),  # more than ordered is a change too
        ("10", "6", NOV17, NOV20, False, "IQ"),  # quantity change wins over date change
        ("10", "0", NOV20, NOV20, False, "IR"),
        ("10", "0", NOV20, NOV20, True, "IB"),
        ("10", "0", NOV17, NOV20, True, "IB"),
        ("10", "6", NOV20, NOV20, True, "IQ"),  # backordered only matters for nothing confirmed
    ],
    ids=[
        "as-ordered",
        "no-dates",
        "no-promise",
        "no-request",
        "same-qty-other-scale",
        "date-moved",
        "less",
        "more",
        "qty-beats-date",
        "none-rejected",
        "none-backordered",
        "none-backordered-date-moved",
        "part-with-backorder-flag",
    ],
)
def test_ack_code_for(ordered, confirmed, requested, promised, backordered, code):
    assert (
        ack_code_for(
            ordered=D(ordered),
            confirmed=D(confirmed),
            requested=requested,
            promised=promised,
            backordered=backordered,
        )
        == code
    )


@pytest.mark.parametrize(
    ("codes", "bak02"),
    [
        (["IA"], "AD"),
        (["IA", "IA", "IA"], "AD"),
        (["IR"], "RJ"),
        (["IR", "IR"], "RJ"),
        (["IA", "IQ"], "AC"),
        (["IA", "IR"], "AC"),
        (["IB"], "AC"),
        (["DR", "IA"], "AC"),
        ([], "AC"),  # no lines is neither "accepted as ordered" nor "rejected"
    ],
    ids=["one-ia", "all-ia", "one-ir", "all-ir", "ia-iq", "ia-ir", "ib", "dr-ia", "none"],
)
def test_ack_type_for(codes, bak02):
    assert ack_type_for(codes) == bak02
    assert ack_type_for(iter(codes)) == bak02  # any iterable, read once


def test_the_type_is_derived_unless_given():
    ack = small_855()
    assert ack.ack_type == "AC" and ack.bak02 == "AC"
    all_ia = Acknowledgment855("P", NOV16, NOV17, (small_855().lines[0],))
    assert all_ia.ack_type == "AD"
    assert Acknowledgment855("P", NOV16, NOV17, (), ack_type="AK").bak02 == "AK"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("10", "10"),
        ("10.000", "10"),
        ("2.50", "2.5"),
        ("0.125", "0.125"),
        ("1E+3", "1000"),
        ("0", "0"),
        ("0.000", "0"),
        ("100", "100"),
    ],
)
def test_quantities_are_written_without_exponent_or_trailing_zeros(value, text):
    assert number(D(value)) == text


# -- the body --------------------------------------------------------------------------


def test_the_exact_segments_of_a_small_855():
    assert segments_855(small_855()) == [
        ["BAK", "00", "AC", "PO-1001", "20261116", None, None, None, None, "20261117"],
        ["N1", "ST", None, "92", "STORE-7"],
        ["PO1", "1", "10", "EA", "2.5", None, "UP", "012345678905", "VN", "A-1"],
        ["ACK", "IA", "10", "EA", "068", "20261120"],
        ["PO1", "2", "2.5", "CA", None, None, "VN", "B-2"],
        ["ACK", "IQ", "1.25", "CA"],
        ["PO1", "3", "4", "EA", "12", None, "IN", "9001"],
        ["ACK", "IR", "0", "EA"],
        ["CTT", "3", "16.5"],  # 3 PO1 lines; 10 + 2.5 + 4
    ]


def test_the_small_855_on_the_wire():
    text = interchange(segments_855(small_855()), "004010").decode("ascii")
    body = text[text.index("BAK") : text.index("~SE*")]
    assert body.split("~") == [
        "BAK*00*AC*PO-1001*20261116*****20261117",
        "N1*ST**92*STORE-7",
        "PO1*1*10*EA*2.5**UP*012345678905*VN*A-1",
        "ACK*IA*10*EA*068*20261120",
        "PO1*2*2.5*CA***VN*B-2",
        "ACK*IQ*1.25*CA",
        "PO1*3*4*EA*12**IN*9001",
        "ACK*IR*0*EA",
        "CTT*3*16.5",
    ]
    assert "~SE*11*0001~" in text  # ST + 9 + SE


def test_no_ship_to_no_n1_and_purpose_and_type_as_given():
    ack = Acknowledgment855("PO9", NOV16, NOV17, (), purpose="06", ack_type="AK")
    assert segments_855(ack) == [
        ["BAK", "06", "AK", "PO9", "20261116", None, None, None, None, "20261117"],
        ["CTT", "0", "0"],
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_small_855_validates_and_reads_back(version):
    ack = small_855()
    data = interchange(segments_855(ack, version=version), version)
    assert_accepted(data)
    assert read_855(set_body(data)) == ack


def test_read_takes_st_and_se_too_and_refuses_another_set():
    data = interchange(segments_855(small_855()), "004010")
    envelopes = ("ISA", "GS", "GE", "IEA")
    with_envelope = [s for s in X12Reader(data).segments() if s[0] not in envelopes]
    assert with_envelope[0][0] == "ST" and with_envelope[-1][0] == "SE"
    assert read_855(with_envelope) == small_855()
    with pytest.raises(ValueError, match="not an 855"):
        read_855([["ST", "856", "0001"], *with_envelope[1:]])
    with pytest.raises(ValueError, match="no BAK"):
        read_855([["CTT", "0"]])


# -- properties ------------------------------------------------------------------------

SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./"
QUALIFIERS = ["VN", "UP", "IN", "BP", "EN", "SK", "UK", "ND"]
UNITS = ["EA", "CA", "BX", "PK", "LB"]
dates = st.dates(date(2000, 1, 1), date(2099, 12, 31))
quantities = st.decimals(min_value=D("0.001"), max_value=D("99999.999"), places=3)


def safe_text(min_size: int, max_size: int):
    return st.text(SAFE, min_size=min_size, max_size=max_size)


ack_lines = st.builds(
    AckLine,
    line_number=safe_text(1, 20),
    ordered_quantity=quantities,
    unit=st.sampled_from(UNITS),
    unit_price=st.none() | st.decimals(min_value=D("0"), max_value=D("99999.99"), places=2),
    product_ids=st.lists(st.tuples(st.sampled_from(QUALIFIERS), safe_text(1, 48)), max_size=4).map(
        tuple
    ),
    ack_code=st.sampled_from(sorted(ACK_CODES)),
    ack_quantity=st.just(D(0)) | quantities,
    ack_date=st.none() | dates,
)
acknowledgments = st.builds(
    Acknowledgment855,
    po_number=safe_text(1, 22),
    po_date=dates,
    ack_date=dates,
    lines=st.lists(ack_lines, min_size=1, max_size=30).map(tuple),
    ship_to=st.none() | st.tuples(st.sampled_from(["92", "UL", "1", "9"]), safe_text(2, 30)),
    purpose=st.sampled_from(["00", "06"]),
    ack_type=st.none() | st.sampled_from(["AC", "AD", "AK", "RJ"]),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ack=acknowledgments, version=st.sampled_from(VERSIONS))
def test_any_855_validates_and_reads_back(ack, version):
    body = segments_855(ack, version=version)
    assert body[-1] == [
        "CTT",
        str(len(ack.lines)),
        number(sum((line.ordered_quantity for line in ack.lines), D(0))),
    ]
    data = interchange(body, version)
    assert_accepted(data)
    assert read_855(set_body(data)) == ack
