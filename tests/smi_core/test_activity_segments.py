"""PostgreSQL stores the 852 activity one row per segment (migration 0022) and reads it one
row per quantity through the ProductActivity view: what a reader sees is what the table
held before, and rows written through the view (the ORM, a restore) keep the old rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from smi_core.models import ActivitySegment, ProductActivity
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
END = date(2026, 11, 14)


def segments() -> list[tuple]:
    return list(
        ActivitySegment.objects.order_by("segment_number").values_list(
            "segment_number", "activity_code", "locations", "quantities", "positions"
        )
    )


def test_an_sdq_is_one_row_of_the_segment_table_and_one_row_per_quantity_in_the_view(
    require_postgres, settings, tmp_path
):
    from smi_edi.services.partners import partner_add

    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    stores = {c: LocationFactory(party=buyer.party, code=c) for c in ("DC01", "S1", "S2", "S3")}
    item = ItemFactory(supplier=supplier.party, vendor_item="A", unit="EA")
    # S9 is unknown to the hub: its quantity is not stored, and S3 keeps its position (4).
    lines = [
        ("VN*A", ["ZA*QA**EA", "SDQ*EA*92*S1*7*S2*5.5*S9*1*S3*2", "ZA*QS**EA", "SDQ*EA*92*S2*3"])
    ]
    result = ingest(interchange([report_852(lines=lines)]))
    assert result.activity_rows == 4

    (qa_segment, qa_code, qa_locations, qa_quantities, qa_positions), qs = segments()
    assert (qa_code, qa_positions) == ("QA", [1, 2, 4])
    assert qa_locations == [stores["S1"].pk, stores["S2"].pk, stores["S3"].pk]
    assert qa_quantities == [Decimal("7"), Decimal("5.5"), Decimal("2")]
    assert qs[1:] == ("QS", [stores["S2"].pk], [Decimal("3")], [1])

    rows = ProductActivity.objects.order_by("segment_number", "position")
    assert [(r.activity_code, r.location.code, r.quantity, r.position) for r in rows] == [
        ("QA", "S1", Decimal("7"), 1),
        ("QA", "S2", Decimal("5.5"), 2),
        ("QA", "S3", Decimal("2"), 4),
        ("QS", "S2", Decimal("3"), 1),
    ]
    first = rows[0]
    assert first.item_id == item.pk and first.period_end == result.sets.get().period_end
    # The id says where the row came from, and finds it again.
    assert first.pk == (first.source_set_id << 32) | (qa_segment << 4) | 1
    assert ProductActivity.objects.get(pk=first.pk).quantity == Decimal("7")


def _row(item, store, position: int, quantity: str, *, segment: int = 5, code: str = "QA"):
    return ProductActivity(
        item=item,
        location=store,
        period_start=date(2026, 11, 8),
        period_end=END,
        activity_code=code,
        quantity=Decimal(quantity),
        unit="EA",
        source_set_id=99,
        segment_number=segment,
        position=position,
    )


def test_rows_written_through_the_view_join_their_segment_and_keep_the_unique_rule(
    require_postgres,
):
    item = ItemFactory(unit="EA")
    s1, s2 = LocationFactory(code="S1"), LocationFactory(code="S2")
    made = ProductActivity.objects.bulk_create([_row(item, s1, 1, "4"), _row(item, s2, 2, "6")])
    assert [m.pk & 0xF for m in made] == [1, 2]
    assert segments() == [(5, "QA", [s1.pk, s2.pk], [Decimal("4"), Decimal("6")], [1, 2])]

    # The same set, segment and position again: refused, as the table's unique key did.
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductActivity.objects.create(**_fields(_row(item, s1, 1, "9")))
    # The same set and segment number for another code: refused too (one segment, one code).
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductActivity.objects.create(**_fields(_row(item, s1, 3, "9", code="QS")))

    # Deleting one row leaves the segment's others; deleting the last removes the segment.
    ProductActivity.objects.filter(location=s1).delete()
    assert segments() == [(5, "QA", [s2.pk], [Decimal("6")], [2])]
    ProductActivity.objects.all().delete()
    assert segments() == [] and not ProductActivity.objects.exists()


def _fields(row: ProductActivity) -> dict:
    return {
        f.attname: getattr(row, f.attname)
        for f in ProductActivity._meta.concrete_fields
        if not f.primary_key
    }


def test_sqlite_keeps_one_plain_table_and_no_segment_table(db):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite layout")
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert ProductActivity._meta.db_table in tables
    assert ActivitySegment._meta.db_table not in tables


def test_the_admin_lists_activity_newest_set_first_counts_it_and_filters_by_code(
    admin_client,
):
    item = ItemFactory(unit="EA")
    s1, s2 = LocationFactory(code="S1"), LocationFactory(code="S2")
    first, second = _inbound_set(), _inbound_set()  # the admin lists rows with their set
    rows = [
        (first, _row(item, s1, 1, "4")),
        (first, _row(item, s2, 2, "6")),
        (second, _row(item, s1, 1, "8", segment=3, code="QS")),
        (second, _row(item, s1, 1, "1", segment=4, code="ZZ")),
    ]
    for inbound_set, row in rows:
        row.source_set_id = inbound_set.pk
    ProductActivity.objects.bulk_create([row for _, row in rows])

    page = admin_client.get("/admin/smi_core/productactivity/")
    assert page.status_code == 200
    listed = list(page.context["cl"].result_list)
    assert [(r.source_set_id, r.segment_number, r.position) for r in listed] == [
        (second.pk, 4, 1), (second.pk, 3, 1), (first.pk, 5, 1), (first.pk, 5, 2),
    ]  # fmt: skip
    assert page.context["cl"].result_count == 4
    sold = admin_client.get("/admin/smi_core/productactivity/?code=QS").context["cl"]
    assert [r.quantity for r in sold.result_list] == [Decimal("8")]
    other = admin_client.get("/admin/smi_core/productactivity/?code=other").context["cl"]
    assert [r.activity_code for r in other.result_list] == ["ZZ"]


def _inbound_set():
    from smi_edi.models import InboundSet, Interchange

    received = Interchange.objects.create(
        transport="cli", sha256="test", size=0, raw_file="test", status="applied"
    )
    return InboundSet.objects.create(
        interchange=received,
        functional_id="PD",
        group_control_number="1",
        version="004010",
        set_id="852",
        control_number="1",
        first_segment=3,
        status="accepted",
    )
