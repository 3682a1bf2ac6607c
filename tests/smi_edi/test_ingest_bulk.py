"""The bulk 852 apply (segment by segment, COPY text, the ledger and positions from the
figures gathered while reading) gives what the stored activity rows say: the stock ledger
equals the one rebuilt from them, the positions equal the rebuilt ones, on PostgreSQL
and SQLite alike."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smi_core.models import ExceptionItem, InventoryPosition, ProductActivity, StockLevel
from smi_core.services.activity import activity_apply_852
from smi_core.services.positions import positions_rebuild
from smi_core.services.stock_ledger import stock_ledger_rebuild
from smi_edi.models import Interchange
from smi_edi.services.partners import partner_add
from smi_edi.x12.ts852 import Activity852
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
S = Interchange.Status

LEDGER = (
    "item_id", "location_id", "period_start", "period_end", "on_hand", "on_order",
    "in_transit", "committed", "sold", "received", "last_received", "first_reported",
    "source_set_id",
)  # fmt: skip
POSITION = (
    "item_id", "location_id", "on_hand", "on_order", "in_transit", "committed",
    "sold_last_period", "as_of", "source_set_id",
)  # fmt: skip


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    for code in ("DC01", "S001", "S002", "S003"):
        LocationFactory(party=buyer.party, code=code)
    ItemFactory(supplier=supplier.party, vendor_item="A", gtin="00614140010012")
    ItemFactory(supplier=supplier.party, vendor_item="B", gtin="00614140010029")
    return buyer


def ledger() -> list[tuple]:
    return sorted(StockLevel.objects.values_list(*LEDGER))


def positions() -> list[tuple]:
    return sorted(InventoryPosition.objects.values_list(*POSITION))


# One report with what the figures must get right: the same item in two LIN loops, dated
# and undated levels (the later ZA dated earlier), received (QR) and another code (QT),
# quantities in the wrong unit, a ZA02 for the header's location, numbers written in
# several ways, a store twice in one SDQ.
TRICKY = [
    (
        "VN*A",
        [
            "ZA*QA**EA*007*20261114",
            "SDQ*EA*92*S001*007*S002*5.5",
            "ZA*QA**EA*007*20261110",
            "SDQ*EA*92*S001*20*S002*21*S003*-3",
            "ZA*QS**EA",
            "SDQ*EA*92*S001*1.25*S002*2*S001*3",
            "ZA*QR**EA",
            "SDQ*EA*92*S001*12*S003*4",
            "ZA*QT**EA",
            "SDQ*EA*92*S003*9",
            "ZA*QP*40*EA",
        ],
    ),
    ("VN*B", ["ZA*QA**CA", "SDQ*CA*92*S001*2", "ZA*QS**EA", "SDQ*EA*92*S001*10.0"]),
    (
        "UP*614140010012",
        [
            "ZA*QA**EA",
            "SDQ*EA*92*S001*8*S003*6",
            "ZA*QS**EA",
            "SDQ*EA*92*S001*4*S003*1",
            "ZA*QI**EA",
            "SDQ*EA*92*S002*2.0000",
        ],
    ),
]


def test_the_ledger_and_positions_applied_equal_the_ones_rebuilt_from_activity(world):
    # a report, and a second one for the same period
    first = [
        report_852("20261109", "20261115", lines=TRICKY),
        report_852("20261109", "20261115", lines=[("VN*A", ["ZA*QA**EA", "SDQ*EA*92*S002*1"])]),
    ]
    # then a later week, and a late older one (the rows after it are recomputed)
    later = [
        report_852(
            "20261116",
            "20261122",
            lines=[
                ("VN*A", ["ZA*QS**EA", "SDQ*EA*92*S001*5*S003*2", "ZA*QR**EA", "SDQ*EA*92*S002*3"])
            ],
        ),
        report_852("20261102", "20261108", lines=TRICKY[:1]),
    ]
    for control, report in enumerate(first, start=1):
        result = ingest(interchange([report], control=control))
        assert result.status == S.APPLIED, result.status_reason
    applied_positions = positions()
    # (the rebuild takes each item-location's newest period alone, so it is compared
    # while there is one)
    positions_rebuild()
    assert positions() == applied_positions
    for control, report in enumerate(later, start=3):
        result = ingest(interchange([report], control=control))
        assert result.status == S.APPLIED, result.status_reason

    applied_ledger = ledger()
    s001 = StockLevel.objects.get(
        item__vendor_item="A", location__code="S001", period_end="2026-11-15"
    )
    # the dated 7 beats the later undated 8 and the 20 dated earlier; sales add up over
    # the two LIN loops (1.25 + 3 + 4); received 12
    assert (s001.on_hand, s001.sold, s001.received) == (Decimal(7), Decimal("8.25"), Decimal(12))
    assert len(applied_ledger) > 10

    stock_ledger_rebuild()

    assert ledger() == applied_ledger


def test_both_apply_paths_give_the_figures_worked_by_hand(world):
    # PostgreSQL's path (binary COPY, figures merged by SQL) and the portable one (bulk
    # INSERT, figures in Python) each compare with their own rebuild above; this pins both
    # to the same literal figures, so they cannot drift apart together.
    reports = [
        report_852("20261109", "20261115", lines=TRICKY),
        report_852("20261109", "20261115", lines=[("VN*A", ["ZA*QA**EA", "SDQ*EA*92*S002*1"])]),
    ]
    for control, report in enumerate(reports, start=1):
        result = ingest(interchange([report], control=control))
        assert result.status == S.APPLIED, result.status_reason

    fields = ("on_hand", "on_order", "in_transit", "committed", "sold_last_period")
    got = {
        (row[0], row[1]): tuple(row[2:])
        for row in InventoryPosition.objects.values_list(
            "item__vendor_item", "location__code", *fields
        )
    }
    d = Decimal
    assert got == {
        # QP 40 on the ZA02, at the header's location
        ("A", "DC01"): (d(0), d(40), d(0), d(0), d(0)),
        # the dated 7 over the undated 8 and the 20 dated earlier; sold 1.25 + 3 + 4
        ("A", "S001"): (d(7), d(0), d(0), d(0), d("8.25")),
        # the second report's 1 over the first's 5.5; QI 2.0000; sold 2
        ("A", "S002"): (d(1), d(0), d(2), d(0), d(2)),
        # the dated -3 over the undated 6; sold 1 (QT 9 is no position figure)
        ("A", "S003"): (d(-3), d(0), d(0), d(0), d(1)),
        # B's on hand came in cases (CA), not its unit: only the sales count
        ("B", "S001"): (d(0), d(0), d(0), d(0), d(10)),
    }
    received = dict(
        StockLevel.objects.filter(received__isnull=False).values_list("location__code", "received")
    )
    assert received == {"S001": d(12), "S003": d(4)}


def test_sales_finer_than_four_decimal_places_add_up_in_the_ledger_as_stored(
    world, require_postgres
):
    # Each 0.00006 is stored as 0.0001 (PostgreSQL rounds to the column's scale); the
    # ledger sums what is stored (as its rebuild does), not the finer figures as read.
    report = report_852(
        lines=[
            ("VN*A", ["ZA*QS**EA", "SDQ*EA*92*S001*0.00006", "ZA*QS**EA", "SDQ*EA*92*S001*0.00006"])
        ]
    )

    result = ingest(interchange([report]))

    assert result.status == S.APPLIED, result.status_reason
    assert (
        list(ProductActivity.objects.values_list("quantity", flat=True)) == [Decimal("0.0001")] * 2
    )
    assert StockLevel.objects.get().sold == Decimal("0.0002")
    written = ledger()
    stock_ledger_rebuild()
    assert ledger() == written


def test_the_ledger_is_written_without_reading_the_sets_activity_back(world, require_postgres):
    report = report_852(lines=TRICKY)

    with CaptureQueriesContext(connection) as queries:
        result = ingest(interchange([report]))

    assert result.status == S.APPLIED, result.status_reason
    activity = re.compile(rf"\b{ProductActivity._meta.db_table}\b")
    ledger_table = StockLevel._meta.db_table
    assert [
        q["sql"] for q in queries if ledger_table in q["sql"] and activity.search(q["sql"])
    ] == []
    assert any(ledger_table in q["sql"] for q in queries)
    written = ledger()
    stock_ledger_rebuild()
    assert ledger() == written


def test_a_set_without_a_period_stops_at_its_first_quantity_as_before(world):
    # A set that passed validation is needed to apply into; then the mapper is fed a body
    # without XQ whose first SDQ has a bad pair before and after its first quantity.
    applied = ingest(interchange([report_852(lines=TRICKY[1:2])]))
    inbound_set = applied.sets.get()
    sender = applied.sender
    segments = [
        "ST*852*0002",
        "N1*ST*Ship to*92*DC01",
        "LIN**VN*A",
        "ZA*QA**EA",
        "SDQ*EA*92*S001*x*S002*5*S003*y",
        "SE*6*0002",
    ]
    before = ProductActivity.objects.count()
    mapper = Activity852()

    outcome = activity_apply_852(
        inbound_set=inbound_set,
        segments=((s.split("*"), n) for n, s in enumerate(segments, start=1)),
        buyer_partner=sender,
        supplier=applied.receiver.party,
        mapper=mapper,
    )

    # what reading quantity by quantity found before the first one: pair 1, not pair 3
    assert (outcome.rows, ProductActivity.objects.count()) == (0, before)
    assert [(p.segment_number, p.message) for p in mapper.problems] == [
        (5, "SDQ pair 1 ('S001', 'x') needs a location id and a number"),
        (5, "the set has no XQ report period; nothing was applied"),
    ]
    assert ExceptionItem.objects.filter(kind=ExceptionItem.Kind.MAPPING_PROBLEM).exists()


def test_quantities_are_stored_as_written_whatever_their_form(world):
    # plain digits go as they are, the rest through Decimal; on PostgreSQL in COPY's
    # binary format, whose numeric digits are base 10000
    sent = ["007", "5.5", "-3", "1.25", "10.0", "2.0000", "12345678.5678", "-0.5", "10000"]
    sdq = "SDQ*EA*92*" + "*".join(f"S00{i % 3 + 1}*{q}" for i, q in enumerate(sent[:3]))
    report = report_852(
        lines=[
            ("VN*A", ["ZA*QA**EA", sdq]),
            *[("VN*B", [f"ZA*QS*{q}*EA"]) for q in sent[3:]],
        ]
    )

    result = ingest(interchange([report]))

    assert result.status == S.APPLIED, result.status_reason
    stored = ProductActivity.objects.order_by("segment_number", "position")
    assert [a.quantity for a in stored] == [Decimal(q) for q in sent]


def test_a_report_for_the_newest_week_is_not_probed_item_location_by_item_location_for_later_rows(
    world, require_postgres
):
    # Whether the set is late is first asked of the ledger as a whole (any row after its
    # period?); only then per item-location, which cost 4 s for 932,000 of them.
    with CaptureQueriesContext(connection) as queries:
        result = ingest(interchange([report_852(lines=TRICKY)]))

    assert result.status == S.APPLIED, result.status_reason
    probes = [q["sql"] for q in queries if "JOIN smi_core_stocklevel l" in q["sql"]]
    assert [sql for sql in probes if "l.period_end >" in sql] == []
