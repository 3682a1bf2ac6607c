"""The 852 mapper: from a set's segments to activity quantities."""

from datetime import date
from decimal import Decimal

import pytest

from smi_edi.x12.reader import X12Reader
from smi_edi.x12.ts852 import Activity852, normalise_gtin, parse_date


def quantities_of(body: str, element: str = "*", terminator: str = "~"):
    """Map an 852 body (ST..SE, written with '*' and '~') through the mapper."""
    segments = [s.strip() for s in body.split(terminator) if s.strip()]
    mapper = Activity852()
    rows = list(mapper.quantities((s.split(element), n) for n, s in enumerate(segments, start=3)))
    return mapper, rows


HEADER = "ST*852*0001~XQ*H*20261109*20261115~N1*BY*Demo Retail*92*DEMORETAIL~N1*ST*Main DC*92*DC01~"


def test_store_level_sdq_quantities_become_one_row_per_store():
    mapper, rows = quantities_of(
        HEADER
        + "LIN**UP*614140010012*VN*ACME-1001~ZA*QS**EA~SDQ*EA*92*S001*7*S002*14*S003*0~CTT*1~SE*8*0001~"
    )

    assert [
        (r.code, r.location_qualifier, r.location_id, r.quantity, r.unit, r.position) for r in rows
    ] == [
        ("QS", "92", "S001", Decimal("7"), "EA", 1),
        ("QS", "92", "S002", Decimal("14"), "EA", 2),
        ("QS", "92", "S003", Decimal("0"), "EA", 3),
    ]
    assert rows[0].line.ids == {"UP": "614140010012", "VN": "ACME-1001"}
    assert rows[0].line.gtin == "00614140010012"
    assert mapper.header.period_start == date(2026, 11, 9)
    assert mapper.header.period_end == date(2026, 11, 15)
    assert mapper.problems == []


def test_za02_without_sdq_belongs_to_the_header_location():
    _, rows = quantities_of(HEADER + "LIN**VN*ACME-1001~ZA*QA*153*EA~ZA*QP*12*EA~CTT*1~SE*7*0001~")

    assert [(r.code, r.location_id, r.quantity, r.position) for r in rows] == [
        ("QA", "DC01", Decimal("153"), 0),
        ("QP", "DC01", Decimal("12"), 0),
    ]


def test_reporting_location_wins_over_ship_to_and_can_change_between_lin_groups():
    # given location-grouped detail: N1*RL between LIN groups, as some partners send it
    body = (
        "ST*852*0001~XQ*H*20261109*20261115~N1*ST*Main DC*92*DC01~N1*RL*Store 1*92*S001~"
        "LIN**VN*A~ZA*QA*5*EA~N1*RL*Store 2*92*S002~LIN**VN*A~ZA*QA*9*EA~CTT*2~SE*10*0001~"
    )
    _, rows = quantities_of(body)

    assert [(r.location_id, r.quantity) for r in rows] == [
        ("S001", Decimal("5")),
        ("S002", Decimal("9")),
    ]


def test_unknown_activity_codes_are_kept():
    _, rows = quantities_of(HEADER + "LIN**VN*A~ZA*ZZ*3*EA~ZA*QX**EA~SDQ*EA*92*S001*2~SE*7*0001~")

    assert [(r.code, r.quantity) for r in rows] == [("ZZ", Decimal("3")), ("QX", Decimal("2"))]


def test_gln_identified_stores_and_za_dates_are_kept():
    _, rows = quantities_of(
        HEADER
        + "LIN**UK*00614140010012~ZA*QS**EA*002*20261110~SDQ*EA*UL*0614141000029*4*0614141000036*1.5~SE*6*0001~"
    )

    assert [(r.location_qualifier, r.location_id, r.quantity) for r in rows] == [
        ("UL", "0614141000029", Decimal("4")),
        ("UL", "0614141000036", Decimal("1.5")),
    ]
    assert rows[0].date_qualifier == "002"
    assert rows[0].activity_date == date(2026, 11, 10)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("LIN**VN*A~ZA*QA*abc*EA~", "ZA02 'abc' is not a number"),
        ("LIN**VN*A~ZA*QS**EA~SDQ*EA*92*S001~", "needs a location id and a number"),
        ("ZA*QA*5*EA~", "ZA before any LIN"),
        ("LIN**VN*A~SDQ*EA*92*S001*1~", "SDQ without a preceding ZA"),
    ],
    ids=["bad-quantity", "sdq-pair-without-quantity", "za-before-lin", "sdq-without-za"],
)
def test_what_cannot_be_mapped_is_reported_not_dropped(body, message):
    mapper, rows = quantities_of(HEADER + body + "SE*9*0001~")

    assert rows == []
    assert len(mapper.problems) == 1
    assert message in mapper.problems[0].message


def test_za02_with_no_location_anywhere_is_a_problem():
    mapper, rows = quantities_of("ST*852*0001~XQ*H*20261109~LIN**VN*A~ZA*QA*5*EA~SE*5*0001~")

    assert rows == []
    assert "no N1*RL or N1*ST location" in mapper.problems[0].message
    assert mapper.header.period_end == date(2026, 11, 9)  # one date: a one-day period


def test_mapper_streams_from_the_reader(tmp_path):
    path = tmp_path / "852.edi"
    path.write_text(
        "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261116*0600*U*00401*000000001*0*P*>~"
        "GS*PD*DEMORETAIL*ACMESUPPLY*20261116*0600*1*X*004010~"
        + HEADER
        + "LIN**VN*A~ZA*QS**EA~SDQ*EA*92*S001*7~CTT*1~SE*9*0001~GE*1*1~IEA*1*000000001~"
    )
    reader = X12Reader(path)
    mapper = Activity852()

    rows = list(
        mapper.quantities(
            (e, reader.segment_number) for e in reader.segments() if reader.current_set
        )
    )

    assert [(r.location_id, r.quantity, r.segment_number) for r in rows] == [
        ("S001", Decimal("7"), 9)
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("614140010012", "00614140010012"),
        ("0061414001001", "00061414001001"),
        ("96385074", "00000096385074"),
        ("ABC", "ABC"),
    ],
)
def test_gtins_are_normalised_to_14_digits(value, expected):
    assert normalise_gtin(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20261115", date(2026, 11, 15)),
        ("261115", date(2026, 11, 15)),
        ("991231", date(1999, 12, 31)),
        ("20261345", None),
        ("", None),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected
