"""The 846 inventory advice: what its QTY qualifiers, N1 loops and SDQs mean as activity
records, writer -> our validator -> reader round trips in 004010 and 005010, and through
the real ingestion an 846 giving exactly the positions an 852 with the same stock gives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_core.models import InventoryPosition, ProductActivity
from smi_edi.models import Interchange
from smi_edi.services.partners import partner_add
from smi_edi.x12.results import SetStatus
from smi_edi.x12.ts846 import (
    Activity846,
    InventoryReport846,
    StockItem846,
    StockQuantity846,
    read_846,
    segments_846,
)
from smi_edi.x12.validation import validate
from tests.factories import ItemCrossReferenceFactory, ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.smi_edi.x12_sets import assert_accepted, body_of, one_set
from tests.x12_builders import interchange, report_852

D = Decimal
VERSIONS = ["004010", "005010"]


def rows(body: list[str]) -> tuple[list[tuple], Activity846]:
    mapper = Activity846()
    segments = ((s.split("*"), n) for n, s in enumerate(["ST*846*0001", *body], start=1))
    found = [
        (q.code, q.location_qualifier, q.location_id, q.quantity, q.unit, q.line.key, q.position)
        for q in mapper.quantities(segments)
    ]
    return found, mapper


HEAD = ["BIA*00*DD*R-1*20261115", "N1*BY*Demo Retail*92*DEMORETAIL", "N1*ST*DC*92*DC01"]


# -- what an 846 says ------------------------------------------------------------------


def test_qty_qualifiers_become_the_852_activity_codes_at_the_heading_place():
    found, mapper = rows(
        [
            *HEAD,
            "LIN*1*UP*012345678905",
            "QTY*17*12*EA",
            "QTY*63*24*EA",
            "QTY*27*2*EA",
            "QTY*IQ*5*EA",
            "LIN*2*UP*012345678912",  # the 852's codes, as VMI guides send them in QTY01
            "QTY*QA*1*EA",
            "QTY*QP*3*EA",
            "QTY*QC*4*EA",
            "QTY*QI*6*EA",
            "CTT*2",
        ]
    )

    assert [(code, place, quantity) for code, _, place, quantity, *_ in found] == [
        ("QA", "DC01", D(12)),
        ("QP", "DC01", D(24)),
        ("QC", "DC01", D(2)),
        ("QI", "DC01", D(5)),
        ("QA", "DC01", D(1)),
        ("QP", "DC01", D(3)),
        ("QC", "DC01", D(4)),
        ("QI", "DC01", D(6)),
    ]
    assert mapper.header.period_start == mapper.header.period_end == date(2026, 11, 15)
    assert mapper.problems == [] and mapper.lines == 2


def test_available_for_sale_is_on_hand_only_where_no_on_hand_is_given():
    found, _ = rows(
        [*HEAD, "LIN*1*VN*A", "QTY*33*9*EA", "LIN*2*VN*B", "QTY*17*10*EA", "QTY*33*7*EA"]
    )

    assert [(key, code, quantity) for code, _, _, quantity, _, key, _ in found] == [
        ("VN:A", "QA", D(9)),
        ("VN:B", "QA", D(10)),
    ]


def test_the_lines_own_n1_places_it_even_after_its_quantities_and_rl_beats_st():
    found, _ = rows(
        [
            "BIA*00*DD*R-1*20261115",
            "N1*ST*DC*92*DC01",
            "N1*RL*Store*92*S009",
            "LIN*1*VN*A",
            "QTY*17*3*EA",
            "N1*RL**92*S001",
            "LIN*2*VN*B",
            "QTY*17*4*EA",
        ]
    )

    assert [(key, place) for _, _, place, _, _, key, _ in found] == [
        ("VN:A", "S001"),
        ("VN:B", "S009"),
    ]


def test_sdq_gives_on_hand_by_location_with_its_unit_and_pair_position():
    found, _ = rows([*HEAD, "LIN*1*VN*A", "SDQ*CA*92*S001*15*S002*18"])

    assert found == [
        ("QA", "92", "S001", D(15), "CA", "VN:A", 1),
        ("QA", "92", "S002", D(18), "CA", "VN:A", 2),
    ]


def test_a_quantity_dtm_dates_it_and_a_composite_unit_is_read():
    mapper = Activity846()
    body = [*HEAD, "LIN*1*VN*A", "DTM*405*20261110", "QTY*17*3*EA>1", "DTM*514*20261114"]
    body += ["QTY*63*1*EA"]
    segments = ((s.split("*"), n) for n, s in enumerate(body, start=1))

    first, second = mapper.quantities(segments)

    assert (first.unit, first.date_qualifier, first.activity_date) == (
        "EA",
        "514",
        date(2026, 11, 14),
    )
    assert (second.date_qualifier, second.activity_date) == ("405", date(2026, 11, 10))


def test_what_cannot_be_placed_or_mapped_is_a_problem_once_per_qualifier():
    found, mapper = rows(
        [
            "BIA*00*DD*R-1*20261115",
            "LIN*1*VN*A",
            "QTY*17*3*EA",
            "QTY*63*1*EA",
            "LIN*4*VN*C",
            "QTY*17*2*EA",
            "LIN*2*VN*B",
            "N1*RL**92*S1",
            "QTY*02*5*EA",
            "QTY*02*6*EA",
            "QTY*17*x*EA",
            "LIN*3",
        ]
    )

    assert found == []
    messages = sorted(p.message for p in mapper.problems)
    assert messages == sorted(
        [
            "2 LIN loops give quantities but no place (no N1 in the LIN loop, and no N1*RL, "
            "N1*WH or N1*ST in the heading); their 3 quantities were not used",
            "QTY02 'x' is not a number",
            "LIN has no product id; its quantities have no item",
            "QTY01 '02' is not a stock quantity we map (17, 33, 63, 27, IQ, QA, QP, QC, QI); "
            "2 quantities with it were not used",
        ]
    )


def test_bad_reports_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="stock code 'QS'"):
        StockQuantity846("QS", D(1), "EA")
    with pytest.raises(ValueError, match="needs the report's location"):
        InventoryReport846(
            "R", date(2026, 1, 1), (StockItem846((("VN", "A"),), ()),), location=None
        )
    with pytest.raises(ValueError, match="no BIA"):
        read_846([["LIN", "1", "VN", "A"]])


# -- round trips ----------------------------------------------------------------------

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
PLACE = st.tuples(st.sampled_from(["92", "UL", "9"]), TEXT.filter(lambda s: len(s) >= 2))
QUANTITY = st.builds(
    StockQuantity846,
    code=st.sampled_from(["QA", "QP", "QC", "QI"]),
    quantity=st.decimals(min_value=-1000, max_value=10**6, places=3),
    unit=st.sampled_from(["EA", "CA", "PK"]),
)
ITEM = st.builds(
    StockItem846,
    product_ids=st.dictionaries(
        st.sampled_from(["UP", "VN", "IN", "EN"]), TEXT, min_size=1, max_size=3
    ).map(lambda d: tuple(d.items())),
    quantities=st.lists(QUANTITY, max_size=4).map(tuple),
    location=st.none() | PLACE,
)
REPORT = st.builds(
    InventoryReport846,
    report_number=TEXT,
    report_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    items=st.lists(ITEM, min_size=1, max_size=5).map(tuple),
    location=PLACE,
    supplier=st.none() | PLACE,
)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=REPORT)
def test_written_846s_pass_our_validator_and_read_back_to_the_same_report(version, report):
    data = one_set("846", segments_846(report, version=version), version)

    assert_accepted(data, "846")
    assert read_846(body_of(data)) == report


# -- through the ingestion: an 846 and an 852 with the same stock -----------------------


@pytest.fixture
def two_buyers(settings, tmp_path, db):
    """Our supplier and two buyers with the same store codes: one reports by 852, the
    other by 846."""
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", gtin="00614140010012")
    item2 = ItemFactory(supplier=supplier.party, vendor_item="ACME-1002", gtin="00614140010029")
    buyers = {}
    for code, isa in (("by-852", "BUYER852"), ("by-846", "BUYER846")):
        buyer, _ = partner_add(code=code, name=code, isa=f"ZZ:{isa}", role="buyer")
        for store in ("DC01", "S001", "S002"):
            LocationFactory(party=buyer.party, code=store)
        ItemCrossReferenceFactory(item=item2, buyer=buyer.party, buyer_item="DR-50002")
        buyers[code] = buyer
    return buyers


STOCK_852 = report_852(
    "20261115",
    "20261115",
    lines=[
        (
            "UP*614140010012*VN*ACME-1001",
            [
                "ZA*QA**EA",
                "SDQ*EA*92*S001*15*S002*18",
                "ZA*QP**EA",
                "SDQ*EA*92*S001*10",
                "ZA*QC**EA",
                "SDQ*EA*92*S001*3",
                "ZA*QI**EA",
                "SDQ*EA*92*S001*4",
                "ZA*QA*153*EA",
            ],
        ),
        ("IN*DR-50002", ["ZA*QA**EA", "SDQ*EA*92*S001*40*S002*7", "ZA*QI*6*EA"]),
    ],
)
STOCK_846 = [
    "846",
    "BIA*00*DD*WEEK46*20261115",
    "N1*BY*Demo Retail*92*BUYER846",
    "N1*ST*Ship to*92*DC01",
    # per store in the LIN loop's own N1, in the X12 qualifiers
    "LIN*1*UP*614140010012*VN*ACME-1001",
    "QTY*17*15*EA",
    "QTY*63*10*EA",
    "QTY*27*3*EA",  # committed
    "QTY*IQ*4*EA",  # in transit
    "N1*RL**92*S001",
    "LIN*2*UP*614140010012*VN*ACME-1001",
    "QTY*33*18*EA",  # available for sale, the on-hand figure when no 17 is given
    "N1*RL**92*S002",
    "LIN*3*UP*614140010012*VN*ACME-1001",
    "QTY*17*153*EA",  # the heading's ship-to
    "QTY*33*150*EA",  # left out: 17 gives on hand
    # by store in an SDQ
    "LIN*4*IN*DR-50002",
    "SDQ*EA*92*S001*40*S002*7",
    "QTY*QI*6*EA",
    "CTT*4",
]


def positions(buyer) -> dict[tuple[str, str], tuple]:
    return {
        (p.item.vendor_item, p.location.code): (
            p.on_hand,
            p.on_order,
            p.committed,
            p.in_transit,
            p.sold_last_period,
            p.as_of,
        )
        for p in InventoryPosition.objects.filter(location__party=buyer.party).select_related(
            "item", "location"
        )
    }


def test_an_846_and_an_852_with_the_same_stock_give_the_same_positions(two_buyers):
    by_852 = ingest(interchange([STOCK_852], sender="BUYER852"), name="week.852")
    by_846 = ingest(
        interchange([STOCK_846], sender="BUYER846", functional_id="IB", control=2),
        name="week.846",
    )

    for result in (by_852, by_846):
        assert result.status == Interchange.Status.APPLIED, result.status_reason
        assert (result.sets_accepted, result.sets_rejected) == (1, 0)
    # stored, validated and acknowledged like an 852: a 997 accepting the IB group
    assert "AK1*IB*2" in by_846.ack and "AK5*A" in by_846.ack
    expected = {
        ("ACME-1001", "S001"): (D(15), D(10), D(3), D(4), D(0), date(2026, 11, 15)),
        ("ACME-1001", "S002"): (D(18), D(0), D(0), D(0), D(0), date(2026, 11, 15)),
        ("ACME-1001", "DC01"): (D(153), D(0), D(0), D(0), D(0), date(2026, 11, 15)),
        ("ACME-1002", "S001"): (D(40), D(0), D(0), D(0), D(0), date(2026, 11, 15)),
        ("ACME-1002", "S002"): (D(7), D(0), D(0), D(0), D(0), date(2026, 11, 15)),
        ("ACME-1002", "DC01"): (D(0), D(0), D(0), D(6), D(0), date(2026, 11, 15)),
    }
    assert positions(two_buyers["by-852"]) == expected
    assert positions(two_buyers["by-846"]) == expected
    # the same activity records, each naming its set and segment
    assert by_846.activity_rows == by_852.activity_rows == 9
    rows_846 = ProductActivity.objects.filter(source_set__interchange=by_846)
    assert sorted(rows_846.values_list("activity_code", flat=True)) == sorted(
        ["QA"] * 5 + ["QP", "QC", "QI", "QI"]
    )
    on_hand_s002 = rows_846.get(item__vendor_item="ACME-1001", location__code="S002")
    assert (on_hand_s002.activity_code, on_hand_s002.segment_number) == ("QA", 14)


def test_the_sample_846_is_valid_and_every_quantity_maps():
    sample = Path(__file__).resolve().parents[2] / "samples" / "846" / "demo-retail-20261129.edi"
    data = sample.read_bytes()

    (result,) = validate(data)
    assert result.sets[0].status is SetStatus.ACCEPTED, result.sets[0].messages
    mapper = Activity846()
    segments = ((elements, n) for n, elements in enumerate(body_of(data), start=3))
    found = [(q.line.key, q.code, q.location_id, q.quantity) for q in mapper.quantities(segments)]
    assert mapper.problems == []
    assert len(found) == 8
    assert ("IN:DR-50001 UP:614140010012", "QC", "DC01", D(12)) in found


def test_the_sample_846_posted_to_the_api_is_applied_and_acknowledged(settings, tmp_path, db):
    from rest_framework.test import APIClient

    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, token = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    for store in ("DC01", "S001", "S002"):
        LocationFactory(party=buyer.party, code=store)
    soap = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", gtin="00614140010012")
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1002", gtin="00614140010029")
    ItemCrossReferenceFactory(item=soap, buyer=buyer.party, buyer_item="DR-50001")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    sample = Path(__file__).resolve().parents[2] / "samples" / "846" / "demo-retail-20261129.edi"

    response = client.post(
        "/api/v1/interchanges/", data=sample.read_bytes(), content_type="application/edi-x12"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["activity_rows"]) == ("applied", 8)
    detail = client.get(body["status_url"]).json()
    assert detail["sets"][0]["set_id"] == "846" and detail["sets"][0]["applied"] is True
    assert "AK1*IB*901" in detail["ack"] and "AK5*A" in detail["ack"]
    assert positions(buyer)[("ACME-1001", "DC01")][:3] == (D(118), D(48), D(12))
