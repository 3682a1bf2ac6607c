"""The 850 purchase order: our 004010 and 005010 maps accept partner POs and reject broken
ones with the AK3/AK4 codes a 997 needs; read_850 turns a set into plain data."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.reader import X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.ts850 import OrderLine850, PurchaseOrder850, product_id, read_850
from smi_edi.x12.validation import validate
from smi_edi.x12.writer import CountingControlNumbers, GroupSpec, Party, TransactionSetSpec
from smi_edi.x12.writer import write_interchange as _write_interchange

NOW = datetime(2026, 11, 16, 6, 0)
BUYER = Party("ZZ", "DEMORETAIL")
SUPPLIER = Party("ZZ", "ACMESUPPLY")
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "850" / "demo-retail-po-1001.edi"
VERSIONS = {"4010": "004010", "5010": "005010"}


def write_850(body: list[list[str]], version: str = "004010") -> bytes:
    group = GroupSpec("PO", BUYER.id, SUPPLIER.id, version, [TransactionSetSpec("850", body)])
    return _write_interchange(
        [group],
        sender=BUYER,
        receiver=SUPPLIER,
        control_numbers=CountingControlNumbers(interchange=6, group=6, set=1000),
        now=NOW,
    )


def segments_of(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def set_segments(data: bytes) -> list[list[str]]:
    """ST..SE of the (only) set in ``data``, as the reader gives them."""
    out: list[list[str]] = []
    for elements in X12Reader(data).segments():
        if elements[0] == "ST" or out:
            out.append(elements)
        if elements[0] == "SE":
            break
    return out


def only_set(data: bytes):
    (result,) = validate(data)
    (set_result,) = result.sets
    return result, set_result


def errors(set_result) -> list[tuple]:
    """(segment, position in set, AK304, [(element, AK403, element number, bad value)])."""
    return [
        (
            s.segment_id,
            s.position,
            s.code,
            [(e.position, e.code, e.data_element, e.value) for e in s.elements],
        )
        for s in set_result.segment_errors
    ]


# A partner PO with the segments retailers commonly send.
PARTNER_PO = segments_of(
    "BEG*00*SA*PO-1001**20261116~"
    "CUR*BY*USD~"
    "REF*DP*042~"
    "REF*IA*ACME01~"
    "PER*BD*Jane Buyer*TE*5551234567~"
    "FOB*PP~"
    "SAC*C*D240***2500~"
    "ITD*01*3*2**10**30~"
    "DTM*002*20261201~"
    "DTM*010*20261125~"
    "TD5****M*UPS GROUND~"
    "N9*L1*NOTES~"
    "MSG*Deliver to dock 4~"
    "N1*BY*Demo Retail*92*DEMORETAIL~"
    "N1*ST*Store 1 Main Street*92*S001~"
    "N3*1 Main Street~"
    "N4*Springfield*IL*62701*US~"
    "PER*DC*Store manager*TE*5559876543~"
    "N1*SU*Acme Supply*92*ACMESUPPLY~"
    "PO1*1*120*EA*4.50*PE*VN*ACME-1001*UP*614140010012~"
    "CTP**RES*5.99~"
    "PID*F****Hand soap 250 ml~"
    "PO4*12~"
    "SAC*A*C310***1500~"
    "DTM*002*20261203~"
    "SCH*60*EA***002*20261205~"
    "PO1*2*24*EA*3.10**VN*ACME-1002*UP*614140010029*IN*DR-50002~"
    "PID*F****Dish liquid 500 ml~"
    "SCH*24*EA***002*20261204~"
    "N9*L1*LINE NOTE~"
    "DTM*002*20270101~"
    "N1*ST*Store 2 Harbour*92*S002~"
    "CTT*2*144~"
    "AMT*TT*614.40"
)

EXPECTED = PurchaseOrder850(
    purpose="00",
    order_type="SA",
    po_number="PO-1001",
    po_date=date(2026, 11, 16),
    ship_to=("92", "S001"),
    buyer=("92", "DEMORETAIL"),
    requested_delivery=date(2026, 12, 1),
    lines=(
        OrderLine850(
            line_number="1",
            quantity=Decimal("120"),
            unit="EA",
            unit_price=Decimal("4.50"),
            product_ids=(("VN", "ACME-1001"), ("UP", "614140010012")),
            requested_date=date(2026, 12, 3),  # the line's DTM*002 wins over its SCH
        ),
        OrderLine850(
            line_number="2",
            quantity=Decimal("24"),
            unit="EA",
            unit_price=Decimal("3.10"),
            product_ids=(("VN", "ACME-1002"), ("UP", "614140010029"), ("IN", "DR-50002")),
            requested_date=date(2026, 12, 4),  # from SCH; the N9 loop's DTM is not the line's
        ),
    ),
    problems=(),
)


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("family", VERSIONS)
def test_a_partner_po_is_accepted_in_4010_and_5010(family):
    result, set_result = only_set(write_850(PARTNER_PO, VERSIONS[family]))

    assert (set_result.set_id, set_result.status) == ("850", SetStatus.ACCEPTED), (
        set_result.messages
    )
    assert set_result.segment_errors == []
    assert set_result.set_errors == []
    assert result.all_accepted


def test_5010_takes_its_mtx_text_and_the_lead_time_loop():
    body = segments_of(
        "BEG*00*SA*PO-2001**20261116~TXI*ST*1.25~LDT*AA*5*CD~QTY*01*5~"
        "N9*L1*NOTES~MTX**Call before delivery~N1*ST*Store 1*92*S001~IN2*01*Jane~"
        "PO1*1*6*EA***VN*ACME-1001~MTX**Gift wrap~CTT*1"
    )

    _, set_result = only_set(write_850(body, "005010"))

    assert set_result.status is SetStatus.ACCEPTED, set_result.messages


def test_a_po_without_beg_is_rejected_with_mandatory_segment_missing():
    _, set_result = only_set(write_850(PARTNER_PO[1:]))

    assert set_result.status is SetStatus.REJECTED
    assert set_result.set_errors == ["5"]
    assert errors(set_result) == [("BEG", 2, "3", [])]


def test_a_non_numeric_quantity_is_an_invalid_character_in_po102():
    body = [list(s) for s in PARTNER_PO]
    po1 = next(i for i, s in enumerate(body) if s[0] == "PO1")
    body[po1][2] = "12X"

    _, set_result = only_set(write_850(body))

    assert set_result.status is SetStatus.REJECTED
    assert errors(set_result) == [("PO1", po1 + 2, "8", [(2, "6", "330", "12X")])]


def test_a_po_without_lines_is_rejected_the_po1_loop_is_mandatory():
    _, set_result = only_set(write_850(segments_of("BEG*00*SA*PO-1**20261116~CTT*0")))

    assert set_result.status is SetStatus.REJECTED
    assert errors(set_result) == [("PO1", 3, "3", [])]


def test_po_type_and_purpose_codes_are_open_but_their_length_is_checked():
    body = segments_of("BEG*00*ZZZ*PO-1**20261116~PO1*1*1*EA***VN*A~CTT*1")

    _, set_result = only_set(write_850(body))

    assert errors(set_result) == [("BEG", 2, "8", [(2, "5", "92", "ZZZ")])]


# -- read_850 ------------------------------------------------------------------------------


def test_read_850_known_answer():
    assert read_850(PARTNER_PO) == EXPECTED


def test_read_850_takes_st_to_se_as_the_reader_gives_it():
    assert read_850(set_segments(write_850(PARTNER_PO, "005010"))) == EXPECTED


def test_product_id_prefers_the_qualifiers_in_the_order_given():
    first, second = EXPECTED.lines

    assert product_id(first, "VN") == "ACME-1001"
    assert product_id(first, "UP", "VN") == "614140010012"
    assert product_id(first, "IN", "BP") is None
    assert product_id(second, "IN", "VN") == "DR-50002"
    assert product_id(second) == "ACME-1002"


def test_problems_are_sentences_not_exceptions():
    po = read_850(
        segments_of(
            "ST*850*0001~BEG*00*SA***2026111~N1*ST*Somewhere~"
            "PO1*1*ten*EA***VN*A~PO1**5*EA*x.5~PO1*3*2*CA*1.5*PE*UP*614140010012~"
            "DTM*002*20261399~CTT*4*9~SE*10*0001"
        )
    )

    assert (po.po_number, po.po_date, po.ship_to) == ("", None, None)
    assert po.lines == (
        OrderLine850("2", Decimal("5"), "EA", None, (), None),
        OrderLine850("3", Decimal("2"), "CA", Decimal("1.5"), (("UP", "614140010012"),), None),
    )
    assert po.problems == (
        "N1*ST 'Somewhere' has no N104 id code, so it cannot be matched to a known party "
        "or location.",
        "Line 1: PO102 (quantity) 'ten' is not a number; the line was not read.",
        "Line 2: PO104 (unit price) 'x.5' is not a number.",
        "Line 2: PO1 has no product id.",
        "DTM*002 of line 3: '20261399' is not a date; the requested delivery date was not read.",
        "BEG03 (purchase order number) is empty.",
        "BEG05 (purchase order date) '2026111' is not a date.",
        "CTT01 says 4 line items; the set has 3 PO1 lines.",
    )


def test_a_missing_beg_and_a_wrong_hash_total_are_problems():
    po = read_850(segments_of("PO1*1*5*EA***VN*A~PO1*2*7*EA***VN*B~CTT*2*13"))

    assert [line.quantity for line in po.lines] == [Decimal("5"), Decimal("7")]
    assert po.problems == (
        "The set has no BEG segment, so no PO number, type or date.",
        "CTT02 hash total '13' does not match the sum of the PO1 quantities (12).",
    )


def test_a_set_that_is_not_an_850_is_refused():
    with pytest.raises(ValueError, match="855 is not an 850"):
        read_850(segments_of("ST*855*0001~BAK*00*AC*PO-1*20261116~SE*3*0001"))
    with pytest.raises(ValueError, match="transaction set 852"):
        read_850(segments_of("XQ*H*20261109~LIN**VN*A~ZA*QA*5*EA"))
    with pytest.raises(ValueError, match="neither BEG nor PO1"):
        read_850([])


# -- the demo file ---------------------------------------------------------------------


def test_the_demo_po_validates_and_names_demo_items_and_a_demo_store():
    result, set_result = only_set(SAMPLE.read_bytes())
    po = read_850(set_segments(SAMPLE.read_bytes()))

    assert set_result.status is SetStatus.ACCEPTED, set_result.messages
    assert (result.sender_id.strip(), result.receiver_id.strip()) == ("DEMORETAIL", "ACMESUPPLY")
    assert po.problems == ()
    assert po.ship_to == ("92", "S001")
    assert [product_id(line, "VN") for line in po.lines] == ["ACME-1001", "ACME-1002", "ACME-1003"]
    assert [product_id(line, "UP") for line in po.lines] == [
        "614140010012",
        "614140010029",
        "614140010036",
    ]


# -- round trip ----------------------------------------------------------------------------

ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20).filter(
    lambda s: s.strip("-") == s
)
party_ids = ids.filter(lambda s: len(s) >= 2)  # N104 is 2/80
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2039, 12, 31))
amounts = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(min_value=1, max_value=9_999_999),
    st.integers(min_value=0, max_value=2),
)
lines = st.builds(
    OrderLine850,
    line_number=st.from_regex(r"\A[1-9][0-9]{0,5}\Z", fullmatch=True),
    quantity=amounts,
    unit=st.sampled_from(["EA", "CA", "BX", "PK", "DZ"]),
    unit_price=st.none() | amounts,
    product_ids=st.lists(
        st.tuples(st.sampled_from(["VN", "UP", "IN", "BP", "EN"]), ids),
        min_size=1,
        max_size=4,
        unique_by=lambda pair: pair[0],
    ).map(tuple),
    requested_date=st.none() | days,
)
orders = st.builds(
    PurchaseOrder850,
    purpose=st.sampled_from(["00", "05", "06"]),
    order_type=st.sampled_from(["SA", "DS", "RL", "NE"]),
    po_number=ids,
    po_date=days,
    ship_to=st.none() | st.tuples(st.sampled_from(["92", "UL"]), party_ids),
    buyer=st.none() | st.tuples(st.just("92"), party_ids),
    requested_delivery=st.none() | days,
    lines=st.lists(lines, min_size=1, max_size=5, unique_by=lambda line: line.line_number).map(
        tuple
    ),
    problems=st.just(()),
)


def body_of(po: PurchaseOrder850) -> list[list[str]]:
    body = [["BEG", po.purpose, po.order_type, po.po_number, "", f"{po.po_date:%Y%m%d}"]]
    if po.requested_delivery:
        body.append(["DTM", "002", f"{po.requested_delivery:%Y%m%d}"])
    for role, party in (("BY", po.buyer), ("ST", po.ship_to)):
        if party:
            body.append(["N1", role, f"Party {role}", *party])
    for line in po.lines:
        price = "" if line.unit_price is None else str(line.unit_price)
        pairs = [value for pair in line.product_ids for value in pair]
        body.append(["PO1", line.line_number, str(line.quantity), line.unit, price, "", *pairs])
        if line.requested_date:
            body.append(["DTM", "002", f"{line.requested_date:%Y%m%d}"])
    total = sum((line.quantity for line in po.lines), Decimal(0))
    body.append(["CTT", str(len(po.lines)), str(total)])
    return body


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(po=orders, family=st.sampled_from(sorted(VERSIONS)))
def test_round_trip_build_write_validate_read(po, family):
    data = write_850(body_of(po), VERSIONS[family])

    _, set_result = only_set(data)
    assert set_result.status is SetStatus.ACCEPTED, set_result.messages
    assert read_850(set_segments(data)) == po
