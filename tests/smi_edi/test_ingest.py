"""Inbound 852: from a partner's file to inventory positions, through the real pipeline."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from smi_core.models import ExceptionItem, InventoryPosition, Item, Location, ProductActivity
from smi_core.services.audit import Actor
from smi_core.services.hooks import _listeners, on_positions_changed
from smi_edi.models import Interchange, OutboundDocument
from smi_edi.services.acknowledgments import acknowledgments_send
from smi_edi.services.interchanges import (
    interchange_process,
    interchange_receive,
)
from smi_edi.services.outbound import ResendRefused, outbound_resend
from smi_edi.services.partners import partner_add
from tests.factories import ItemCrossReferenceFactory, ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
S = Interchange.Status


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, token = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", role="buyer"
    )
    for code in ("DC01", "S001", "S002"):
        LocationFactory(party=buyer.party, code=code)
    item1 = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", gtin="00614140010012")
    item2 = ItemFactory(supplier=supplier.party, vendor_item="ACME-1002", gtin="00614140010029")
    ItemCrossReferenceFactory(item=item2, buyer=buyer.party, buyer_item="DR-50002")
    return {"supplier": supplier, "buyer": buyer, "token": token, "items": (item1, item2)}


def position(vendor_item: str, location: str) -> InventoryPosition:
    return InventoryPosition.objects.get(item__vendor_item=vendor_item, location__code=location)


WEEK = report_852(
    lines=[
        (
            "UP*614140010012*VN*ACME-1001",
            [
                "ZA*QA**EA",
                "SDQ*EA*92*S001*15*S002*18",
                "ZA*QS**EA",
                "SDQ*EA*92*S001*7*S002*4",
                "ZA*QA*153*EA",
            ],
        ),
        (
            "IN*DR-50002",
            ["ZA*QA**EA", "SDQ*EA*92*S001*40", "ZA*QP**EA", "SDQ*EA*92*S001*12", "ZA*QI*6*EA"],
        ),
    ]
)


def test_an_852_becomes_activity_rows_and_positions(world):
    result = ingest(interchange([WEEK]))

    assert result.status == S.APPLIED, result.status_reason
    assert (result.sets_accepted, result.sets_rejected) == (1, 0)
    assert result.activity_rows == 8
    assert ProductActivity.objects.count() == 8
    assert result.positions_changed == 5
    s001 = position("ACME-1001", "S001")
    assert (s001.on_hand, s001.sold_last_period, str(s001.as_of)) == (
        Decimal(15),
        Decimal(7),
        "2026-11-15",
    )
    assert position("ACME-1001", "DC01").on_hand == Decimal(153)  # ZA02 without SDQ: the ship-to
    by_buyer_item = position("ACME-1002", "S001")
    assert (by_buyer_item.on_hand, by_buyer_item.on_order) == (Decimal(40), Decimal(12))
    assert position("ACME-1002", "DC01").in_transit == Decimal(6)
    row = ProductActivity.objects.get(
        item__vendor_item="ACME-1001", location__code="S002", activity_code="QS"
    )
    assert (
        row.quantity,
        row.unit,
        row.source_set.control_number,
        row.segment_number,
        row.position,
    ) == (Decimal(4), "EA", "0001", 11, 2)
    assert result.ack.startswith("ISA*")
    assert "AK5*A" in result.ack


def test_processing_again_changes_nothing(world):
    result = ingest(interchange([WEEK]))
    before = list(InventoryPosition.objects.order_by("pk").values())

    again = interchange_process(interchange_id=result.pk, actor="test")

    assert again.activity_rows == 8
    assert ProductActivity.objects.count() == 8
    assert list(InventoryPosition.objects.order_by("pk").values()) == before


def test_the_same_file_twice_is_a_duplicate_and_not_applied(world):
    data = interchange([WEEK])
    first = ingest(data)

    second = ingest(data, name="again.edi")

    assert second.duplicate_of_id == first.pk
    assert second.status == S.REJECTED
    assert "duplicate of interchange" in second.status_reason
    assert ProductActivity.objects.count() == 8


def test_an_old_control_number_with_new_content_is_a_duplicate(world):
    ingest(interchange([WEEK], control=5))

    replay = ingest(
        interchange([report_852("20261116", "20261122", lines=WEEK_LINES_SMALL)], control=5)
    )

    assert replay.duplicate_of is not None
    assert "ISA13 000000005" in replay.status_reason
    assert ProductActivity.objects.count() == 8


WEEK_LINES_SMALL = [("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*99"])]


def test_an_older_report_does_not_overwrite_newer_positions(world):
    ingest(interchange([report_852("20261116", "20261122", lines=WEEK_LINES_SMALL)], control=2))

    older = ingest(
        interchange(
            [
                report_852(
                    "20261109",
                    "20261115",
                    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*5"])],
                )
            ],
            control=3,
        )
    )

    assert older.status == S.APPLIED
    kept = position("ACME-1001", "S001")
    assert (kept.on_hand, str(kept.as_of)) == (Decimal(99), "2026-11-22")
    stale = ExceptionItem.objects.get(kind="stale_report")
    assert "older than positions already applied" in stale.message
    assert ProductActivity.objects.filter(quantity=5).count() == 1  # the activity itself is kept


def test_a_newer_report_keeps_levels_it_does_not_state(world):
    ingest(interchange([WEEK], control=1))

    ingest(
        interchange(
            [
                report_852(
                    "20261116",
                    "20261122",
                    lines=[("VN*ACME-1002", ["ZA*QA**EA", "SDQ*EA*92*S001*30"])],
                )
            ],
            control=2,
        )
    )

    moved = position("ACME-1002", "S001")
    assert (moved.on_hand, moved.on_order, str(moved.as_of)) == (
        Decimal(30),
        Decimal(12),
        "2026-11-22",
    )


def test_unknown_items_and_locations_go_to_the_exceptions_queue(world):
    lines = [
        ("UP*061414999998", ["ZA*QA**EA", "SDQ*EA*92*S001*4*S002*7"]),
        ("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*3*S999*8"]),
    ]

    result = ingest(interchange([report_852(lines=lines)]))

    assert result.status == S.APPLIED
    assert result.activity_rows == 1
    item_exc = ExceptionItem.objects.get(kind="unknown_item")
    assert (item_exc.subject, item_exc.occurrences, item_exc.partner.code) == (
        "UP:061414999998",
        2,
        "demo-retail",
    )
    assert "items_import" in item_exc.action
    location_exc = ExceptionItem.objects.get(kind="unknown_location")
    assert (location_exc.subject, location_exc.occurrences) == ("92:S999", 1)


def test_auto_register_creates_items_and_locations_flagged_for_review(world):
    partner_add(
        code="demo-retail",
        name="Demo Retail",
        isa="ZZ:DEMORETAIL",
        role="buyer",
        auto_register=True,
    )

    ingest(
        interchange(
            [report_852(lines=[("UP*061414999991*VN*NEW-1", ["ZA*QA**EA", "SDQ*EA*92*S777*4"])])]
        )
    )

    item = Item.objects.get(vendor_item="NEW-1")
    location = Location.objects.get(code="S777")
    assert item.needs_review and location.needs_review
    assert item.gtin == "00061414999991"
    assert position("NEW-1", "S777").on_hand == Decimal(4)
    assert ExceptionItem.objects.filter(kind="auto_registered").count() == 2
    assert not ExceptionItem.objects.filter(kind="unknown_item").exists()


def test_auto_register_does_not_store_a_upc_with_a_wrong_check_digit_as_gtin(world):
    partner_add(
        code="demo-retail",
        name="Demo Retail",
        isa="ZZ:DEMORETAIL",
        role="buyer",
        auto_register=True,
    )

    # 061414999991 is a valid UPC-A; ...999998 has a wrong check digit (1 expected).
    ingest(
        interchange(
            [report_852(lines=[("UP*061414999998*VN*NEW-2", ["ZA*QA**EA", "SDQ*EA*92*S777*4"])])]
        )
    )

    item = Item.objects.get(vendor_item="NEW-2")
    assert item.gtin == ""
    assert "not stored as GTIN" in item.description
    assert "give 1" in item.description
    assert item.needs_review
    assert position("NEW-2", "S777").on_hand == Decimal(4)


def test_a_quantity_in_an_unexpected_unit_is_kept_but_not_used_for_positions(world):
    ingest(interchange([report_852(lines=[("VN*ACME-1001", ["ZA*QA**CA", "SDQ*CA*92*S001*2"])])]))

    assert ProductActivity.objects.get().unit == "CA"
    assert not InventoryPosition.objects.exists()
    exc = ExceptionItem.objects.get(kind="unexpected_unit")
    assert exc.details["unit"] == "CA" and exc.details["item_unit"] == "EA"


def test_negative_on_hand_and_sudden_jumps_are_flagged(world):
    ingest(
        interchange(
            [
                report_852(
                    "20261102",
                    "20261108",
                    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*5*S002*20"])],
                )
            ],
            control=1,
        )
    )

    ingest(
        interchange(
            [report_852(lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*-3*S002*900"])])],
            control=2,
        )
    )

    negative = ExceptionItem.objects.get(kind="negative_on_hand")
    assert negative.details == {"on_hand": "-3"}
    jump = ExceptionItem.objects.get(kind="sudden_jump")
    assert jump.details == {"before": "20", "after": "900"}
    assert (jump.item.vendor_item, jump.location.code, jump.source_set.control_number) == (
        "ACME-1001",
        "S002",
        "0001",
    )
    assert (negative.location.code, negative.status, negative.occurrences) == ("S001", "open", 1)
    assert position("ACME-1001", "S002").on_hand == Decimal(900)


def test_a_rejected_set_does_not_stop_the_accepted_one(world):
    bad = [
        "XQ*H*20261109*20261115",
        "N1*BY*Demo Retail*92*DEMORETAIL",
        "LIN**VN*ACME-1002",
        "ZA*QA*NOTANUMBER*EA",
        "CTT*1",
    ]

    result = ingest(interchange([WEEK, bad]))

    assert result.status == S.APPLIED
    assert (result.sets_accepted, result.sets_rejected) == (1, 1)
    assert result.activity_rows == 8
    sets = {s.control_number: s for s in result.sets.all()}
    assert sets["0001"].applied_at is not None
    assert sets["0002"].applied_at is None and sets["0002"].status == "rejected"
    assert "AK5*R" in result.ack


def test_an_interchange_for_someone_else_is_rejected(world):
    result = ingest(interchange([WEEK], receiver="NOTOURS"))

    assert result.status == S.REJECTED
    assert "ZZ:NOTOURS is none of our suppliers" in result.status_reason
    assert not ProductActivity.objects.exists()


def test_an_unknown_sender_is_rejected(world):
    result = ingest(interchange([WEEK], sender="STRANGER"))

    assert result.status == S.REJECTED
    assert "not a registered trading partner" in result.status_reason


def test_planning_hears_which_item_locations_changed(world):
    heard = []
    listener = on_positions_changed(lambda **kw: heard.append(kw))
    try:
        result = ingest(interchange([WEEK]))
    finally:
        _listeners.remove(listener)

    assert len(heard) == 1
    assert len(heard[0]["item_location_pairs"]) == 5
    assert heard[0]["source"] == f"interchange:{result.pk}"


def test_every_status_change_is_recorded(world):
    result = ingest(interchange([WEEK]))

    assert list(result.status_changes.values_list("from_status", "to_status")) == [
        ("", "received"),
        ("received", "validated"),
        ("validated", "accepted"),
        ("accepted", "applied"),
    ]


def test_positions_rebuilt_from_activity_equal_the_applied_ones(world):
    # given several reports: two periods, a second report for the same period, an old one,
    # and a quantity in the wrong unit
    ingest(interchange([WEEK], control=1))
    ingest(interchange([report_852("20261116", "20261122", lines=WEEK_LINES_SMALL)], control=2))
    ingest(
        interchange(
            [
                report_852(
                    "20261116",
                    "20261122",
                    lines=[("VN*ACME-1001", ["ZA*QS**EA", "SDQ*EA*92*S001*3"])],
                )
            ],
            control=3,
        )
    )
    ingest(
        interchange(
            [
                report_852(
                    "20261102",
                    "20261108",
                    lines=[("VN*ACME-1002", ["ZA*QA**EA", "SDQ*EA*92*S001*1"])],
                )
            ],
            control=4,
        )
    )
    ingest(
        interchange(
            [
                report_852(
                    "20261123",
                    "20261129",
                    lines=[("VN*ACME-1002", ["ZA*QA**CA", "SDQ*CA*92*S001*2"])],
                )
            ],
            control=5,
        )
    )
    fields = (
        "item_id",
        "location_id",
        "on_hand",
        "on_order",
        "in_transit",
        "committed",
        "sold_last_period",
        "as_of",
        "source_set_id",
    )
    applied = sorted(InventoryPosition.objects.values_list(*fields))

    from smi_core.services.positions import positions_rebuild

    count = positions_rebuild()

    assert count == len(applied)
    assert sorted(InventoryPosition.objects.values_list(*fields)) == applied
    s001 = position("ACME-1001", "S001")
    assert (s001.on_hand, s001.sold_last_period, str(s001.as_of)) == (
        Decimal(99),
        Decimal(3),
        "2026-11-22",
    )


def test_an_interchange_left_waiting_is_queued_again(world):
    from datetime import timedelta

    from django.utils import timezone

    from smi_edi.tasks import requeue_waiting_interchanges

    # given a file stored by a process that died before queueing it
    stored = interchange_receive(source=interchange([WEEK]), transport="api", actor="test")
    Interchange.objects.filter(pk=stored.pk).update(
        received_at=timezone.now() - timedelta(minutes=30)
    )
    stored.status_changes.update(at=timezone.now() - timedelta(minutes=30))
    fresh = interchange_receive(
        source=interchange([WEEK], control=9), transport="api", actor="test"
    )

    queued = requeue_waiting_interchanges(older_than_minutes=10)

    assert queued == 1
    assert Interchange.objects.get(pk=stored.pk).status == S.APPLIED
    assert Interchange.objects.get(pk=fresh.pk).status == S.RECEIVED


def test_a_test_interchange_is_answered_with_a_test_acknowledgment(world):
    data = interchange([WEEK], control=77).replace(b"*0*P*>", b"*0*T*>", 1)

    ix = ingest(data)

    assert ix.ack.split("*")[15] == "T"
    assert ingest(interchange([WEEK], control=78)).ack.split("*")[15] == "P"


def test_the_newest_dated_level_wins_and_sales_add_up(world):
    # given one report stating on hand twice (the later ZA dated earlier), on order twice
    # with no dates, and sales in two ZA groups
    report = report_852(
        lines=[
            (
                "VN*ACME-1001",
                [
                    "ZA*QA**EA*007*20261114",
                    "SDQ*EA*92*S001*10",
                    "ZA*QA**EA*007*20261110",
                    "SDQ*EA*92*S001*20",
                    "ZA*QP**EA",
                    "SDQ*EA*92*S001*3",
                    "ZA*QP**EA",
                    "SDQ*EA*92*S001*4",
                    "ZA*QS**EA",
                    "SDQ*EA*92*S001*5",
                    "ZA*QS**EA",
                    "SDQ*EA*92*S001*6",
                ],
            )
        ]
    )

    result = ingest(interchange([report]))

    assert result.status == S.APPLIED, result.status_reason
    s001 = position("ACME-1001", "S001")
    # the newest date, the last of the undated, the sum of the sales
    assert (s001.on_hand, s001.on_order, s001.sold_last_period) == (
        Decimal(10),
        Decimal(4),
        Decimal(11),
    )


def test_a_failure_while_applying_rolls_the_whole_set_back(world, monkeypatch):
    import smi_core.services.shipments as shipments

    received = interchange_receive(
        source=interchange([WEEK]), transport="cli", source_name="week.edi", actor="test"
    )

    def broken(**kwargs):
        raise RuntimeError("disk full")

    # when the last step of the set fails, after its rows and positions were written
    monkeypatch.setattr(shipments, "shipments_receive_from_852", broken)
    with pytest.raises(RuntimeError):
        interchange_process(interchange_id=received.pk, actor="test")

    # then nothing of the set is left, and it is not marked applied
    assert ProductActivity.objects.count() == 0
    assert InventoryPosition.objects.count() == 0
    assert not received.sets.filter(applied_at__isnull=False).exists()

    # and processing it again once fixed applies it exactly once
    monkeypatch.undo()
    again = interchange_process(interchange_id=received.pk, actor="test")
    assert (again.status, again.activity_rows, again.positions_changed) == (S.APPLIED, 8, 5)
    assert ProductActivity.objects.count() == 8
    assert position("ACME-1001", "S001").on_hand == Decimal(15)


def test_an_item_reported_in_two_lin_loops_is_merged_as_one(world):
    # given the same item twice in one report (by vendor item, then by GTIN)
    report = report_852(
        lines=[
            (
                "VN*ACME-1001",
                [
                    "ZA*QA**EA*007*20261114",
                    "SDQ*EA*92*S001*5",
                    "ZA*QI**EA",
                    "SDQ*EA*92*S001*1",
                    "ZA*QS**EA",
                    "SDQ*EA*92*S001*2",
                ],
            ),
            (
                "UP*614140010012",
                [
                    "ZA*QA**EA",
                    "SDQ*EA*92*S001*7*S002*8",
                    "ZA*QI**EA",
                    "SDQ*EA*92*S001*4",
                    "ZA*QP**EA",
                    "SDQ*EA*92*S001*9",
                    "ZA*QS**EA",
                    "SDQ*EA*92*S001*3",
                ],
            ),
        ]
    )

    result = ingest(interchange([report]))

    # then the dated level beats the undated one, the later of two undated ones wins, the
    # levels stated once are kept, and the sales add up
    assert (result.status, result.positions_changed) == (S.APPLIED, 2)
    s001 = position("ACME-1001", "S001")
    assert (s001.on_hand, s001.in_transit, s001.on_order, s001.sold_last_period) == (
        Decimal(5),
        Decimal(4),
        Decimal(9),
        Decimal(5),
    )
    assert position("ACME-1001", "S002").on_hand == Decimal(8)


def test_the_997_is_stored_as_an_outbound_document_and_delivered_once(world, settings, tmp_path):
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    received = ingest(interchange([WEEK], control=41))

    (ack,) = OutboundDocument.objects.filter(acknowledges=received)
    assert (ack.set_id, ack.functional_id, ack.status) == ("997", "FA", "sent")
    assert ack.ack_status == ""  # acknowledgments are not acknowledged
    assert ack.partner == world["buyer"]
    delivered = list((tmp_path / "outbox" / "demo-retail").iterdir())
    assert [p.read_text() for p in delivered] == [received.ack]
    assert "AK1*PD*41" in received.ack and "AK9*A*1*1*1" in received.ack
    assert ack.delivery_attempts.filter(ok=True).count() == 1

    interchange_process(interchange_id=received.pk, actor="test")
    again = acknowledgments_send(
        interchange=received, documents=[received.ack], actor=Actor.system("test")
    )

    assert again == []
    assert OutboundDocument.objects.filter(acknowledges=received).count() == 1
    assert len(list((tmp_path / "outbox" / "demo-retail").iterdir())) == 1


def test_a_partner_that_asks_for_999_gets_one_and_a_997_is_not_resent(world):
    buyer = world["buyer"]
    buyer.ack_type = "999"
    buyer.x12_version = "005010"
    buyer.save()
    received = ingest(interchange([WEEK], control=42))

    (ack,) = OutboundDocument.objects.filter(acknowledges=received)
    assert (ack.set_id, ack.status) == ("999", "sent")
    with pytest.raises(ResendRefused):
        outbound_resend(document_id=ack.pk, actor=Actor.system("test"))


def test_a_file_from_an_unknown_sender_is_answered_by_no_one(world):
    data = interchange([WEEK], control=43, sender="STRANGER")

    received = ingest(data)

    assert received.status == S.REJECTED
    assert not OutboundDocument.objects.filter(acknowledges=received).exists()


def test_x12_outbox_lists_the_997_with_the_interchange_it_answers(world):
    received = ingest(interchange([WEEK], control=44))
    text, data = StringIO(), StringIO()

    call_command("x12_outbox", "--type", "997", stdout=text)
    call_command("x12_outbox", "--type", "997", "--json", stdout=data)

    (line,) = [row for row in text.getvalue().splitlines()[1:] if "997" in row]
    assert f"interchange {received.pk}" in line and "sent" in line
    (row,) = json.loads(data.getvalue())
    assert (row["acknowledges_interchange"], row["po_number"]) == (received.pk, None)
    assert "AK1*PD*44" in row["x12"]


def test_an_audit_event_made_inside_a_task_names_the_task(world):
    from smi_core.models import AuditEvent
    from smi_core.services.audit import audit_record

    ingest(interchange([WEEK], control=45))
    outside = audit_record(
        actor=Actor.system("test"), action="test.outside", object_type="test", object_id=1
    )

    event = AuditEvent.objects.get(action="outbound.create")  # the 997, made by the task
    assert event.actor_type == "system" and len(event.task_id) == 36  # the task's uuid
    assert outside.task_id == ""
