"""The 852 activity history partitioned by month (PostgreSQL), archived past its retention.

Most tests need PostgreSQL (``require_postgres``: skipped on SQLite unless
SMI_REQUIRE_SERVICES=1); the stock ledger's keeping of archived months and the command's
refusal run on SQLite too."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from smi_core.models import (
    ActivityArchive,
    ActivitySegment,
    InventoryPosition,
    ProductActivity,
    Shipment,
    ShipmentLine,
    ShipmentPack,
    StockLevel,
)
from smi_core.services.partitions import (
    DEFAULT,
    PartitionError,
    _create_month,
    activity_archive_plan,
    activity_archive_verify,
    activity_is_partitioned,
    activity_partition_archive,
    activity_partitions,
    activity_partitions_ensure,
    partition_name,
)
from smi_core.services.stock_ledger import stock_ledger_rebuild, stock_ledger_record_set
from smi_edi.models import Interchange
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.orders import approved_order, build_world
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 8)


@pytest.fixture
def stock(require_postgres):
    """An item and two stores; the partitions of Jan. and Mar. 2024 exist."""
    item = ItemFactory(vendor_item="P-1", unit="EA")
    stores = [LocationFactory(code="S1"), LocationFactory(code="S2")]
    activity_partitions_ensure(today=TODAY, months=(date(2024, 1, 1), date(2024, 3, 1)))
    return item, stores


def add_rows(item, stores, end: date, *, set_id: int, quantities=(5, 7), code="QA"):
    """One set's rows: a quantity per store, period ``end``; the ledger records the set."""
    rows = ProductActivity.objects.bulk_create(
        [
            ProductActivity(
                item=item,
                location=store,
                period_start=end.replace(day=1),
                period_end=end,
                activity_code=code,
                quantity=Decimal(q),
                unit="EA",
                source_set_id=set_id,
                segment_number=10,
                position=n,
            )
            for n, (store, q) in enumerate(zip(stores, quantities, strict=False), start=1)
        ]
    )
    stock_ledger_record_set(set_id=set_id)
    return rows


def home(pk: int) -> str:
    """The partition holding the activity row ``pk`` (its segment's row: the view's id is
    the set id, the segment number and the position)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {ActivitySegment._meta.db_table} "
            "WHERE source_set_id = %s AND segment_number = %s AND %s = ANY (positions)",
            [pk >> 32, (pk >> 4) & 0xFFFFFFF, pk & 0xF],
        )
        return cursor.fetchone()[0]


def attached() -> set[str]:
    return {p.name for p in activity_partitions()}


def test_the_migration_partitions_the_table_by_month(require_postgres):
    assert activity_is_partitioned()
    names = attached()
    assert DEFAULT in names
    assert partition_name(date.today().replace(day=1)) in names


def test_rows_land_in_their_month_partition(stock):
    item, stores = stock
    activity_partitions_ensure(today=TODAY, months=(date(2030, 1, 1), date(2030, 2, 1)))
    january = add_rows(item, stores, date(2030, 1, 31), set_id=1)
    february = add_rows(item, stores, date(2030, 2, 1), set_id=2)
    assert {home(r.pk) for r in january} == {"smi_core_activity_segment_p2030_01"}
    assert {home(r.pk) for r in february} == {"smi_core_activity_segment_p2030_02"}


def test_a_new_month_goes_to_the_default_then_gets_its_partition(stock):
    item, stores = stock
    rows = add_rows(item, stores, date(2031, 7, 15), set_id=3)
    assert {home(r.pk) for r in rows} == {DEFAULT}
    result = activity_partitions_ensure(today=date(2031, 7, 1), ahead_months=0)
    assert result == {"created": ["smi_core_activity_segment_p2031_07"], "moved": 2}
    assert {home(r.pk) for r in rows} == {"smi_core_activity_segment_p2031_07"}
    assert sorted(ProductActivity.objects.values_list("quantity", flat=True)) == [5, 7]
    assert activity_partitions_ensure(today=date(2031, 7, 1), ahead_months=0)["created"] == []


def test_a_second_run_that_listed_the_partitions_before_the_first_made_the_month_skips_it(
    require_postgres,
):
    # Two ingests of a new month each queue the ensure task; the second listed the
    # partitions before the first committed the month's, then waited for the default's
    # lock. It finds the month made and leaves it, instead of failing on the overlap.
    month = date(2037, 3, 1)
    assert activity_partitions_ensure(today=month, ahead_months=0)["created"] == [
        "smi_core_activity_segment_p2037_03"
    ]
    before = attached()

    assert _create_month(month) == (None, 0)
    assert attached() == before


def test_ensure_creates_the_months_ahead(require_postgres):
    created = activity_partitions_ensure(today=date(2035, 11, 20), ahead_months=2)["created"]
    assert created == [
        "smi_core_activity_segment_p2035_11",
        "smi_core_activity_segment_p2035_12",
        "smi_core_activity_segment_p2036_01",
    ]


def test_an_852_for_a_month_without_partition_is_applied_exactly_and_partitioned(
    require_postgres, settings, tmp_path
):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    for code in ("DC01", "S001", "S002"):
        LocationFactory(party=buyer.party, code=code)
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", gtin="00614140010012")
    lines = [
        (
            "UP*614140010012*VN*ACME-1001",
            ["ZA*QA**EA", "SDQ*EA*92*S001*15*S002*18", "ZA*QS**EA", "SDQ*EA*92*S001*7*S002*4"],
        )
    ]
    assert partition_name(date(2032, 3, 1)) not in attached()
    done = ingest(interchange([report_852("20320301", "20320307", lines=lines)]))
    assert done.status == Interchange.Status.APPLIED
    rows = ProductActivity.objects.order_by("segment_number", "position")
    assert [(r.activity_code, r.location.code, r.quantity) for r in rows] == [
        ("QA", "S001", 15),
        ("QA", "S002", 18),
        ("QS", "S001", 7),
        ("QS", "S002", 4),
    ]
    # The hook queued the partition task (eager here): the month exists, the default is empty.
    assert {home(r.pk) for r in rows} == {"smi_core_activity_segment_p2032_03"}
    assert InventoryPosition.objects.get(location__code="S002").on_hand == 18


def test_archive_writes_verifies_then_detaches(stock, tmp_path):
    item, stores = stock
    old = add_rows(item, stores, date(2024, 1, 28), set_id=11, quantities=(5, 7))
    add_rows(item, stores, date(2024, 3, 3), set_id=12, quantities=(4, 6))
    recent = add_rows(item, stores, date(2026, 12, 6), set_id=13, quantities=(3, 2))
    for store, row in zip(stores, recent, strict=True):
        InventoryPosition.objects.create(
            item=item, location=store, on_hand=row.quantity, as_of=row.period_end
        )

    plan = {c.partition.name: c for c in activity_archive_plan(older_than_months=13, today=TODAY)}
    january = plan["smi_core_activity_segment_p2024_01"]
    assert january.ready and january.rows == 2
    assert partition_name(date(2026, 12, 1)) not in plan  # within the retention

    record = activity_partition_archive(january, tmp_path, progress=lambda n: None)

    path = Path(record.path)
    assert path.parent == tmp_path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(r.pk) for r in old]
    manifest = json.loads(path.with_suffix("").with_suffix(".manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["sha256"] == record.sha256
    assert manifest["quantity_total"] == "12.0000"
    assert (record.rows, record.quantity_total, record.period_from, record.period_to) == (
        2,
        Decimal(12),
        date(2024, 1, 1),
        date(2024, 2, 1),
    )
    assert "smi_core_activity_segment_p2024_01" not in attached()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('smi_core_activity_segment_p2024_01')")
        assert cursor.fetchone()[0] is None  # dropped after the verified archive
    # Every other row is still read through the table; the ledger keeps the month.
    assert ProductActivity.objects.count() == 4
    assert StockLevel.objects.filter(period_end=date(2024, 1, 28)).count() == 2
    assert activity_archive_verify(record) == []
    path.write_bytes(gzip.compress(b"1\t2\n"))
    assert activity_archive_verify(record)


def test_archive_can_keep_the_detached_table(stock, tmp_path):
    item, stores = stock
    add_rows(item, stores, date(2024, 3, 3), set_id=12)
    (march,) = [
        c
        for c in activity_archive_plan(older_than_months=13, today=TODAY)
        if c.partition.start == date(2024, 3, 1)
    ]
    activity_partition_archive(march, tmp_path, drop=False)
    assert "smi_core_activity_segment_p2024_03" not in attached()
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(cardinality(positions)) FROM smi_core_activity_segment_p2024_03")
        assert cursor.fetchone()[0] == 2
    # A late report for that month: its partition is made again beside the kept table.
    (late,) = add_rows(item, stores[:1], date(2024, 3, 10), set_id=14)
    assert activity_partitions_ensure(today=TODAY, ahead_months=0)["created"] == [
        "smi_core_activity_segment_p2024_03_2"
    ]
    assert home(late.pk) == "smi_core_activity_segment_p2024_03_2"


def blockers_of(month: date) -> list[str]:
    (candidate,) = [
        c
        for c in activity_archive_plan(older_than_months=13, today=TODAY)
        if c.partition.start == month
    ]
    return candidate.blockers


def test_archive_keeps_months_still_needed(stock, tmp_path):
    item, stores = stock
    add_rows(item, stores, date(2024, 1, 28), set_id=11)
    # A position whose newest period is in January: positions_rebuild reads it there.
    InventoryPosition.objects.create(item=item, location=stores[0], as_of=date(2024, 1, 28))
    # Rows the ledger never recorded (written without stock_ledger_record_set).
    ProductActivity.objects.create(
        item=item,
        location=stores[1],
        period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 3),
        activity_code="QA",
        quantity=Decimal(1),
        unit="EA",
        source_set_id=99,
        segment_number=1,
    )
    assert "positions_rebuild" in blockers_of(date(2024, 1, 1))[0]
    assert "stock ledger" in blockers_of(date(2024, 3, 1))[0]
    candidate = activity_archive_plan(older_than_months=13, today=TODAY)[0]
    with pytest.raises(PartitionError, match="still needed"):
        activity_partition_archive(candidate, tmp_path)
    assert "smi_core_activity_segment_p2024_01" in attached()
    assert not list(tmp_path.iterdir())


def test_archive_keeps_receipts_open_shipments_still_read(require_postgres, tmp_path):
    world = build_world()
    order = approved_order(world)
    activity_partitions_ensure(today=TODAY, months=(date(2024, 1, 1),))
    add_rows(world.items[0], [world.stores["S001"]], date(2024, 1, 28), set_id=21, code="QR")
    shipment = Shipment.objects.create(
        shipment_number="SH-1",
        supplier=world.supplier.party,
        buyer=world.buyer.party,
        ship_to=world.stores["S001"],
        ship_date=date(2024, 1, 10),
        created_by="user:shipper",
    )
    pack = ShipmentPack.objects.create(shipment=shipment, order=order, sscc="000000000000000001")
    ShipmentLine.objects.create(pack=pack, order_line=order.lines.first(), quantity=Decimal(24))
    assert any("open shipments" in b for b in blockers_of(date(2024, 1, 1)))
    Shipment.objects.filter(pk=shipment.pk).update(status=Shipment.Status.RECEIVED)
    assert blockers_of(date(2024, 1, 1)) == []


def test_retention_shorter_than_planning_history_is_refused(require_postgres):
    with pytest.raises(PartitionError, match="at least 13 months"):
        activity_archive_plan(older_than_months=12, today=TODAY)


def test_command_archive_is_a_dry_run_by_default(stock, tmp_path):
    item, stores = stock
    add_rows(item, stores, date(2024, 1, 28), set_id=11)
    out = StringIO()
    call_command(
        "activity_partitions",
        "archive",
        "--older-than-months",
        "13",
        "--dir",
        str(tmp_path),
        stdout=out,
    )
    assert "would archive smi_core_activity_segment_p2024_01" in out.getvalue()
    assert "dry run" in out.getvalue()
    assert "smi_core_activity_segment_p2024_01" in attached()
    assert not list(tmp_path.iterdir()) and not ActivityArchive.objects.exists()
    out = StringIO()
    call_command(
        "activity_partitions",
        "archive",
        "--older-than-months",
        "13",
        "--dir",
        str(tmp_path),
        "--execute",
        stdout=out,
    )
    assert "archived smi_core_activity_segment_p2024_01: 2 rows" in out.getvalue()
    assert "smi_core_activity_segment_p2024_01" not in attached()
    out = StringIO()
    call_command("activity_partitions", "verify", stdout=out)
    assert "smi_core_activity_segment_p2024_01: intact" in out.getvalue()
    assert "2 archived month(s) verified" in out.getvalue()  # March, empty, too


def test_command_says_partitions_are_postgresql_only():
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is SQLite's")
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("activity_partitions", "ensure")


def test_stock_ledger_rebuild_keeps_the_archived_months():
    item = ItemFactory(unit="EA")
    store = LocationFactory()
    StockLevel.objects.create(
        item=item,
        location=store,
        period_start=date(2024, 1, 22),
        period_end=date(2024, 1, 28),
        on_hand=Decimal(9),
        first_reported=date(2024, 1, 28),
    )
    ActivityArchive.objects.create(
        partition="smi_core_activity_segment_p2024_01",
        period_from=date(2024, 1, 1),
        period_to=date(2024, 2, 1),
        path="/archive/p2024_01.tsv.gz",
        sha256="0" * 64,
        bytes=1,
        rows=1,
        quantity_total=Decimal(9),
    )
    stock_ledger_rebuild()
    assert StockLevel.objects.get(period_end=date(2024, 1, 28)).on_hand == 9
