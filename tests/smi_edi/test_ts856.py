"""The outbound 856 ship notice (S-O-P-I): the exact body with its HL numbers and parents,
CTT01 = number of HL segments and CTT02 = sum of SN102, whole interchanges our 004010
and 005010 maps accept, packs refused without a valid SSCC-18, and reading an 856 back
through the HL01/HL02 links to the data it was written from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.gs1 import sscc_make
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.ts855 import number
from smi_edi.x12.ts856 import (
    Pack,
    ShipItem,
    Shipment856,
    ShipOrder,
    hl_count,
    read_856,
    segments_856,
    total_quantity,
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
VERSIONS = ["004010", "005010"]
# Prefix 0614141, serials 1, 2, 3. Check digits by hand (weights 3, 1, 3, ... from the
# right of the 17-digit body): the prefix digits give 1 + 4*3 + 1 + 4*3 + 1 + 6*3 = 45,
# the serial's last digit s (weight 3) adds 3s: 48 -> 2, 51 -> 9, 54 -> 6.
SSCC_1, SSCC_2, SSCC_3 = "006141410000000012", "006141410000000029", "006141410000000036"


def interchange(body: list[list], version: str) -> bytes:
    group = GroupSpec("SH", "SENDER", "RECEIVER", version, [TransactionSetSpec("856", body)])
    return write_interchange(
        [group],
        sender=Party("ZZ", "SENDER"),
        receiver=Party("ZZ", "RECEIVER"),
        control_numbers=CountingControlNumbers(),
        now=datetime(2026, 11, 20, 14, 0),
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
    [interchange_result] = validate(data)
    [group] = interchange_result.groups
    [set_result] = group.sets
    assert set_result.set_id == "856"
    assert set_result.segment_errors == [] and set_result.set_errors == []
    assert set_result.status is SetStatus.ACCEPTED, set_result.messages


def small_856() -> Shipment856:
    """2 orders, 3 packs, 4 items."""
    return Shipment856(
        shipment_id="SHIP-1",
        created=datetime(2026, 11, 20, 13, 45),
        ship_date=date(2026, 11, 20),
        estimated_delivery=date(2026, 11, 23),
        carrier_scac="ABCD",
        transport_method="M",
        bill_of_lading="BOL1",
        pro_number="PRO1",
        ship_from=("Acme Supply", "92", "ACME"),
        ship_to=("Store 7", "92", "STORE-7"),
        orders=(
            ShipOrder(
                "PO-1001",
                date(2026, 11, 16),
                (
                    Pack(
                        SSCC_1,
                        (
                            ShipItem("1", (("VN", "A-1"), ("UP", "012345678905")), D("10")),
                            ShipItem("2", (("VN", "B-2"),), D("2.50"), "CA"),
                        ),
                    ),
                    Pack(SSCC_2, (ShipItem("1", (("VN", "A-1"),), D("4")),)),
                ),
            ),
            ShipOrder(
                "PO-1002", None, (Pack(SSCC_3, (ShipItem("1", (("IN", "9001"),), D("0.125")),)),)
            ),
        ),
    )


SMALL_BODY = [
    ["BSN", "00", "SHIP-1", "20261120", "1345", "0001"],
    ["HL", "1", None, "S", "1"],
    ["TD5", "B", "2", "ABCD", "M"],
    ["REF", "BM", "BOL1"],
    ["REF", "CN", "PRO1"],
    ["DTM", "011", "20261120"],
    ["DTM", "017", "20261123"],
    ["N1", "SF", "Acme Supply", "92", "ACME"],
    ["N1", "ST", "Store 7", "92", "STORE-7"],
    ["HL", "2", "1", "O", "1"],
    ["PRF", "PO-1001", None, None, "20261116"],
    ["HL", "3", "2", "P", "1"],
    ["MAN", "GM", SSCC_1],
    ["HL", "4", "3", "I", "0"],
    ["LIN", "1", "VN", "A-1", "UP", "012345678905"],
    ["SN1", None, "10", "EA"],
    ["HL", "5", "3", "I", "0"],
    ["LIN", "2", "VN", "B-2"],
    ["SN1", None, "2.5", "CA"],
    ["HL", "6", "2", "P", "1"],
    ["MAN", "GM", SSCC_2],
    ["HL", "7", "6", "I", "0"],
    ["LIN", "1", "VN", "A-1"],
    ["SN1", None, "4", "EA"],
    ["HL", "8", "1", "O", "1"],
    ["PRF", "PO-1002", None, None, None],
    ["HL", "9", "8", "P", "1"],
    ["MAN", "GM", SSCC_3],
    ["HL", "10", "9", "I", "0"],
    ["LIN", "1", "IN", "9001"],
    ["SN1", None, "0.125", "EA"],
    ["CTT", "10", "16.625"],  # 1 S + 2 O + 3 P + 4 I; 10 + 2.5 + 4 + 0.125
]


# -- the body --------------------------------------------------------------------------


def test_the_ssccs_of_the_small_856_are_the_ones_worked_by_hand():
    serials = [sscc_make(extension=0, company_prefix="0614141", serial=n) for n in (1, 2, 3)]
    assert serials == [SSCC_1, SSCC_2, SSCC_3]


def test_the_exact_segments_of_a_small_856():
    assert segments_856(small_856()) == SMALL_BODY


def test_counts_of_the_small_856():
    assert hl_count(small_856()) == 10
    assert total_quantity(small_856()) == D("16.625")
    assert hl_count(Shipment856("S1", datetime(2026, 1, 1), date(2026, 1, 1), None, "ABCD")) == 1
    assert total_quantity(Shipment856("S1", datetime(2026, 1, 1), date(2026, 1, 1), None, "X")) == 0


def test_a_bare_shipment_leaves_out_what_it_does_not_have():
    shipment = Shipment856(
        shipment_id="S1",
        created=datetime(2026, 11, 20, 7, 5),
        ship_date=date(2026, 11, 20),
        estimated_delivery=None,
        carrier_scac="UPSN",
        transport_method="",
        orders=(ShipOrder("PO9", None, ()),),
        purpose="06",
    )
    assert segments_856(shipment) == [
        ["BSN", "06", "S1", "20261120", "0705", "0001"],
        ["HL", "1", None, "S", "1"],
        ["TD5", "B", "2", "UPSN", None],
        ["DTM", "011", "20261120"],
        ["HL", "2", "1", "O", "0"],  # an order without packs has no children
        ["PRF", "PO9", None, None, None],
        ["CTT", "2", "0"],
    ]
    data = interchange(segments_856(shipment), "004010")
    assert_accepted(data)
    assert read_856(set_body(data)) == shipment


def test_an_empty_pack_has_no_children():
    order = ShipOrder("PO9", None, (Pack(SSCC_1, ()),))
    shipment = Shipment856(
        "S1", datetime(2026, 11, 20), date(2026, 11, 20), None, "UPSN", orders=(order,)
    )
    body = segments_856(shipment)
    assert ["HL", "3", "2", "P", "0"] in body and body[-1] == ["CTT", "3", "0"]
    data = interchange(body, "005010")
    assert_accepted(data)
    assert read_856(set_body(data)) == shipment


@pytest.mark.parametrize("version", VERSIONS)
def test_a_small_856_validates_and_reads_back(version):
    shipment = small_856()
    data = interchange(segments_856(shipment, version=version), version)
    assert_accepted(data)
    assert read_856(set_body(data)) == shipment


def test_the_small_856_on_the_wire():
    text = interchange(segments_856(small_856()), "004010").decode("ascii")
    assert "~HL*1**S*1~TD5*B*2*ABCD*M~" in text
    assert "~PRF*PO-1002~HL*9*8*P*1~MAN*GM*006141410000000036~" in text
    assert "~SN1**0.125*EA~CTT*10*16.625~SE*34*0001~" in text  # ST + 32 + SE


def test_read_follows_hl_parents_not_segment_order():
    # Levels moved (every parent still before its children): S, O2, P3, P6, I4, I5, I7,
    # O8, P9, I10; each HL keeps its own segments.
    body = [[e or "" for e in segment] for segment in SMALL_BODY]
    blocks: dict[str, list] = {}
    head, tail, current = [], [], None
    for segment in body:
        if segment[0] == "HL":
            current = blocks.setdefault(segment[1], [])
        if segment[0] == "CTT":
            current = tail
        (head if current is None else current).append(segment)
    moved = [*head]
    for hl in ["1", "2", "3", "6", "4", "5", "7", "8", "9", "10"]:
        moved += blocks[hl]
    assert moved + tail != body and sorted(map(tuple, moved + tail)) == sorted(map(tuple, body))
    assert read_856(moved + tail) == small_856()


def test_read_takes_st_and_se_too_and_refuses_another_set():
    data = interchange(segments_856(small_856()), "004010")
    envelopes = ("ISA", "GS", "GE", "IEA")
    with_envelope = [s for s in X12Reader(data).segments() if s[0] not in envelopes]
    assert with_envelope[0][0] == "ST" and with_envelope[-1][0] == "SE"
    assert read_856(with_envelope) == small_856()
    with pytest.raises(ValueError, match="not an 856"):
        read_856([["ST", "855", "0001"], *with_envelope[1:]])


@pytest.mark.parametrize(
    "sscc",
    ["006141410000000013", "00614141000000001", "0061414100000000120", "00614141000000001X", ""],
    ids=["check-digit", "17-digits", "19-digits", "letter", "empty"],
)
def test_a_pack_without_a_valid_sscc_is_refused_by_name(sscc):
    order = ShipOrder("PO-1001", None, (Pack(SSCC_1, ()), Pack(sscc, ())))
    shipment = Shipment856(
        "S1", datetime(2026, 11, 20), date(2026, 11, 20), None, "UPSN", orders=(order,)
    )
    with pytest.raises(ValueError, match="pack") as raised:
        segments_856(shipment)
    assert repr(sscc) in str(raised.value) and "PO-1001" in str(raised.value)


# -- properties ------------------------------------------------------------------------

SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./"
QUALIFIERS = ["VN", "UP", "IN", "BP", "EN", "SK", "UK", "ND"]
UNITS = ["EA", "CA", "BX", "PK", "LB"]
dates = st.dates(date(2000, 1, 1), date(2099, 12, 31))
# SN102 is R 1/10 and CTT02 R 1/10: up to 240 items of at most 999.999 keep the sum in 10.
quantities = st.decimals(min_value=D("0.001"), max_value=D("999.999"), places=3)


def safe_text(min_size: int, max_size: int):
    return st.text(SAFE, min_size=min_size, max_size=max_size)


ssccs = st.builds(
    lambda extension, serial: sscc_make(
        extension=extension, company_prefix="0614141", serial=serial
    ),
    st.integers(0, 9),
    st.integers(0, 10**9 - 1),
)
items = st.builds(
    ShipItem,
    line_number=safe_text(0, 20),
    product_ids=st.lists(
        st.tuples(st.sampled_from(QUALIFIERS), safe_text(1, 48)), min_size=1, max_size=4
    ).map(tuple),
    quantity=quantities,
    unit=st.sampled_from(UNITS),
)
packs = st.builds(Pack, sscc=ssccs, items=st.lists(items, max_size=4).map(tuple))
orders = st.builds(
    ShipOrder,
    po_number=safe_text(1, 22),
    po_date=st.none() | dates,
    packs=st.lists(packs, max_size=6).map(tuple),
)
parties = st.none() | st.tuples(
    safe_text(0, 30), st.sampled_from(["92", "UL", "1", "9"]), safe_text(2, 30)
)
shipments = st.builds(
    Shipment856,
    shipment_id=safe_text(2, 30),
    created=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda moment: moment.replace(second=0, microsecond=0)  # BSN04 is HHMM
    ),
    ship_date=dates,
    estimated_delivery=st.none() | dates,
    carrier_scac=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=4),
    transport_method=st.sampled_from(["M", "A", "H", "R", "LT", ""]),
    bill_of_lading=st.just("") | safe_text(1, 30),
    pro_number=st.just("") | safe_text(1, 30),
    ship_from=parties,
    ship_to=parties,
    orders=st.lists(orders, max_size=10).map(tuple),
    purpose=st.sampled_from(["00", "06"]),
)


def hl_tree(body: list[list]) -> list[tuple[str, str, str]]:
    return [(s[1], s[2] or "", s[3]) for s in body if s[0] == "HL"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipment=shipments, version=st.sampled_from(VERSIONS))
def test_any_856_validates_and_reads_back(shipment, version):
    body = segments_856(shipment, version=version)
    tree = hl_tree(body)
    assert [int(hl) for hl, _parent, _code in tree] == list(range(1, len(tree) + 1))
    seen: dict[str, str] = {}
    for hl, parent, code in tree:  # every parent comes first and is one level up
        assert (seen.get(parent), code) in {(None, "S"), ("S", "O"), ("O", "P"), ("P", "I")}
        seen[hl] = code
    assert body[-1] == ["CTT", str(hl_count(shipment)), number(total_quantity(shipment))]
    assert hl_count(shipment) == len(tree)
    data = interchange(body, version)
    assert_accepted(data)
    assert read_856(set_body(data)) == shipment
