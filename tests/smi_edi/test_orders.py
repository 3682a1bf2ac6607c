"""Orders, 855s and 856s from records: PO numbers, ACK codes driven by the ERP's changes,
partial shipments, SOD-03 at ship time, in-transit quantities, and documents that fail our
validation staying unsent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from smi_core.models import AuditEvent, ReplenishmentProposal, Shipment
from smi_core.services.audit import Actor
from smi_core.services.orders import LineChange
from smi_core.services.proposals import TransitionRefused
from smi_core.services.shipments import (
    PackLine,
    PackSpec,
    ShipmentInvalid,
    ShipmentSpec,
    in_transit_by_item_location,
    shipment_receive,
)
from smi_core.services.sod import SodViolation
from smi_edi.gs1 import sscc_valid
from smi_edi.models import OutboundDocument
from smi_edi.services.order_documents import order_acknowledge, order_ship, shipment_send
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.validation import validate
from tests.factories import LocationFactory
from tests.orders import approved_order, build_world

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status
D = OutboundDocument


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def segments_of(document: OutboundDocument) -> list[list[str]]:
    return list(X12Reader(raw_path(document.raw_file).read_bytes()).segments())


def body(document: OutboundDocument, segment_id: str) -> list[list[str]]:
    return [s for s in segments_of(document) if s[0] == segment_id]


def test_approval_gives_the_order_a_po_number_and_numbered_lines(world):
    order = approved_order(world)

    assert order.status == P.APPROVED
    assert order.po_number == f"SMI{order.pk:07d}"
    assert order.po_source == "smi"
    lines = list(order.lines.order_by("line_number"))
    assert [(line.line_number, line.ordered_quantity) for line in lines] == [
        ("1", Decimal(24)),
        ("2", Decimal(12)),
    ]


def test_confirming_as_approved_sends_an_855_accepting_every_line(world):
    order = approved_order(world)

    document = order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    order.refresh_from_db()
    assert order.status == P.ORDERED and order.confirmed_at is not None
    assert document.status == D.Status.SENT and document.ack_status == D.AckStatus.AWAITING
    bak = body(document, "BAK")[0]
    assert bak[1:4] == ["00", "AD", order.po_number]
    assert [a[1:4] for a in body(document, "ACK")] == [["IA", "24", "EA"], ["IA", "12", "EA"]]
    assert body(document, "CTT")[0][1] == "2"
    assert validate(raw_path(document.raw_file))[0].all_accepted
    delivered = world.buyer.code
    outbox = list((Path(settings.SMI_OUTBOX_DIR) / delivered).glob("855-*.x12"))
    assert [p.read_bytes() for p in outbox] == [raw_path(document.raw_file).read_bytes()]


def test_the_erps_changes_decide_each_lines_ack_code(world):
    order = approved_order(world, (Decimal(24), Decimal(12), Decimal(6)))
    lines = {line.item.vendor_item: line for line in order.lines.select_related("item")}

    document = order_acknowledge(
        order_id=order.pk,
        actor=Actor.partner("acme-supply"),
        erp_reference="SO-7781",
        changes={
            lines["ACME-1001"].pk: LineChange(quantity=Decimal(20), note="capacity"),
            lines["ACME-1002"].pk: LineChange(quantity=Decimal(0), backordered=True),
            lines["ACME-1003"].pk: LineChange(promised_date=date(2026, 12, 9)),
        },
    )

    acks = {line.item.vendor_item: line.ack_code for line in order.lines.select_related("item")}
    assert acks == {"ACME-1001": "IQ", "ACME-1002": "IB", "ACME-1003": "DR"}
    assert body(document, "BAK")[0][2] == "AC"
    # ACK02 of IB is the backordered quantity: all 12 of the line
    assert [a[1:3] for a in body(document, "ACK")] == [["IQ", "20"], ["IB", "12"], ["DR", "6"]]
    assert body(document, "ACK")[2][4:6] == ["068", "20261209"]
    event = AuditEvent.objects.filter(action="order.confirm", object_id=str(order.pk)).get()
    assert event.actor == "acme-supply" and event.after["erp_reference"] == "SO-7781"


def test_an_order_is_confirmed_once(world):
    order = approved_order(world)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    with pytest.raises(TransitionRefused, match="only approved orders are confirmed"):
        order_acknowledge(order_id=order.pk, actor=Actor.system("test"))


def test_an_855_that_fails_our_validation_is_not_sent_and_the_order_says_why(world):
    # N104 takes 2 to 80 characters: a buyer's one-character store code cannot be sent.
    world.stores["7"] = LocationFactory(party=world.buyer.party, code="7", gln="")
    order = approved_order(world, store="7")

    document = order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    order.refresh_from_db()
    assert document.status == D.Status.INVALID
    assert any("N104" in error for error in document.validation_errors)
    assert not document.delivery_attempts.exists()
    assert order.status == P.APPROVED
    assert not list(Path(settings.SMI_OUTBOX_DIR).glob("**/*.x12"))


def _ordered(world, quantities=(Decimal(24), Decimal(12))):
    order = approved_order(world, quantities)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    return ReplenishmentProposal.objects.get(pk=order.pk)


def test_a_partial_shipment_leaves_the_rest_open_and_the_last_one_ships_the_order(world):
    order = _ordered(world)
    first = order.lines.order_by("line_number").first()
    shipper = world.users["shipper"]

    shipment, document = shipment_send(
        supplier=world.supplier.party,
        spec=ShipmentSpec(
            ship_date=date(2026, 11, 26),
            estimated_delivery=date(2026, 11, 28),
            carrier_scac="ABFS",
            bill_of_lading="BOL123",
            pro_number="PRO9",
            packs=[PackSpec(order.pk, (PackLine(first.pk, Decimal(10)),))],
        ),
        user=shipper,
        actor=Actor.user(shipper),
    )

    order.refresh_from_db()
    assert order.status == P.ORDERED
    assert document.status == D.Status.SENT
    assert sscc_valid(shipment.packs.get().sscc)
    assert in_transit_by_item_location() == {(first.item_id, order.ship_to_id): Decimal(10)}
    assert [s[3] for s in body(document, "HL")] == ["S", "O", "P", "I"]
    assert body(document, "CTT")[0][1:3] == ["4", "10"]
    assert ["REF", "BM", "BOL123"] in segments_of(document)

    _, last = order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))

    order.refresh_from_db()
    assert order.status == P.SHIPPED
    assert [s[1] for s in body(last, "SN1")] == ["", ""]
    assert sorted(s[2] for s in body(last, "SN1")) == ["12", "14"]


def test_receiving_the_shipment_clears_in_transit_and_receives_the_order(world):
    order = _ordered(world)
    shipper = world.users["shipper"]
    shipment, _ = order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))

    shipment_receive(shipment_id=shipment.pk, actor=Actor.system("test"))

    order.refresh_from_db()
    assert order.status == P.RECEIVED
    assert Shipment.objects.get(pk=shipment.pk).status == Shipment.Status.RECEIVED
    assert in_transit_by_item_location() == {}


def test_the_approver_may_not_ship_the_order_sod_03(world):
    order = _ordered(world)
    approver = world.users["approver"]
    from smi_core.services.roles import user_roles_set

    user_roles_set(user=approver, roles=["approver", "shipper"], actor=Actor.system("test"))

    with pytest.raises(SodViolation) as denied:
        order_ship(po_number=order.po_number, user=approver, actor=Actor.user(approver))

    assert "SOD-03" in denied.value.rule_codes
    assert not Shipment.objects.exists()
    assert AuditEvent.objects.filter(action="shipment.denied", object_id=str(order.pk)).exists()


def test_a_superuser_without_the_shipper_role_may_not_ship(world):
    from tests.orders import person

    order = _ordered(world)
    root = person("root", superuser=True)

    with pytest.raises(SodViolation) as denied:
        order_ship(po_number=order.po_number, user=root, actor=Actor.user(root))

    assert denied.value.rule_codes == ["ROLE"]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (Decimal(25), "shipping more than is open"),
        (Decimal(0), "positive quantity"),
    ],
    ids=["more-than-open", "zero"],
)
def test_a_shipment_that_does_not_fit_the_order_is_refused_whole(world, quantity, message):
    order = _ordered(world)
    first = order.lines.order_by("line_number").first()
    shipper = world.users["shipper"]

    with pytest.raises(ShipmentInvalid, match=message):
        shipment_send(
            supplier=world.supplier.party,
            spec=ShipmentSpec(
                ship_date=date(2026, 11, 26),
                packs=[PackSpec(order.pk, (PackLine(first.pk, quantity),))],
            ),
            user=shipper,
            actor=Actor.user(shipper),
        )

    assert not Shipment.objects.exists() and not OutboundDocument.objects.filter(set_id="856")


def test_an_order_not_yet_confirmed_cannot_ship(world):
    order = approved_order(world)
    shipper = world.users["shipper"]

    with pytest.raises(ShipmentInvalid, match="only orders whose 855 was sent"):
        order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))


def test_one_shipment_carries_several_orders_for_one_store(world):
    a, b = _ordered(world), _ordered(world, (Decimal(5),))
    shipper = world.users["shipper"]
    packs = [
        PackSpec(order.pk, (PackLine(line.pk, line.quantity),))
        for order in (a, b)
        for line in order.lines.all()
    ]

    _, document = shipment_send(
        supplier=world.supplier.party,
        spec=ShipmentSpec(ship_date=date(2026, 11, 26), packs=packs),
        user=shipper,
        actor=Actor.user(shipper),
    )

    hl = body(document, "HL")
    assert [s[3] for s in hl].count("O") == 2 and [s[3] for s in hl].count("P") == 3
    assert body(document, "CTT")[0][1:3] == [str(len(hl)), "41"]
    assert {p[1] for p in body(document, "PRF")} == {a.po_number, b.po_number}
    assert ReplenishmentProposal.objects.filter(status=P.SHIPPED).count() == 2
    assert validate(raw_path(document.raw_file))[0].all_accepted


def test_the_buyers_852_receipts_close_the_shipment(world):
    from tests.pipeline import ingest
    from tests.x12_builders import interchange, report_852

    order = _ordered(world)
    shipper = world.users["shipper"]
    shipment, _ = order_ship(
        po_number=order.po_number,
        user=shipper,
        actor=Actor.user(shipper),
        ship_date=date(2026, 11, 25),
    )
    received = report_852(
        "20261123",
        "20261129",
        ship_to="S001",
        lines=[("VN*ACME-1001", ["ZA*QR*24*EA"]), ("VN*ACME-1002", ["ZA*QR*5*EA"])],
    )

    ingest(interchange([received], control=31))

    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED  # 7 of ACME-1002 still on the way
    second = order.lines.order_by("line_number").last()
    assert in_transit_by_item_location() == {(second.item_id, order.ship_to_id): Decimal(7)}

    rest = report_852(
        "20261130", "20261206", ship_to="S001", lines=[("VN*ACME-1002", ["ZA*QR*7*EA"])]
    )
    ingest(interchange([rest], control=32))

    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == Shipment.Status.RECEIVED and order.status == P.RECEIVED
    assert in_transit_by_item_location() == {}


SAMPLE_850 = Path(__file__).resolve().parents[2] / "samples" / "850" / "demo-retail-po-1001.edi"


def test_the_buyers_850_gives_the_approved_order_its_po_number_and_quantities(world):
    from tests.pipeline import ingest

    order = approved_order(world, (Decimal(24), Decimal(50), Decimal(12)))

    interchange = ingest(SAMPLE_850.read_bytes(), name="po.edi")

    order.refresh_from_db()
    assert interchange.status == "applied" and "AK5*A" in interchange.ack
    assert (order.po_number, order.po_source, order.po_date) == (
        "PO-1001",
        "850",
        date(2026, 11, 23),
    )
    lines = {line.item.vendor_item: line for line in order.lines.select_related("item")}
    assert {k: line.ordered_quantity for k, line in lines.items()} == {
        "ACME-1001": Decimal(24),
        "ACME-1002": Decimal(48),
        "ACME-1003": Decimal(12),
    }
    assert lines["ACME-1002"].requested_date == date(2026, 11, 30)

    document = order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    # Our approved 50 against the buyer's 48 (pack rounding): IQ; the rest as ordered.
    assert body(document, "BAK")[0][3] == "PO-1001"
    assert [a[1:3] for a in body(document, "ACK")] == [["IA", "24"], ["IQ", "50"], ["IA", "12"]]


def test_an_850_for_no_approved_order_opens_an_exception(world):
    from smi_core.models import ExceptionItem
    from tests.pipeline import ingest

    approved_order(world)  # two items only: the 850 names a third

    ingest(SAMPLE_850.read_bytes(), name="po.edi")

    exception = ExceptionItem.objects.get(kind="unmatched_850")
    assert exception.subject == "PO PO-1001" and "matches no approved order" in exception.message
    assert not ReplenishmentProposal.objects.filter(po_number="PO-1001").exists()


def test_a_shipment_whose_856_fails_validation_is_not_recorded_and_the_order_says_why(world):
    from smi_core.models import ExceptionItem

    order = _ordered(world)
    first = order.lines.order_by("line_number").first()
    shipper = world.users["shipper"]

    with pytest.raises(ShipmentInvalid, match="the 856 failed our validation") as refused:
        shipment_send(
            supplier=world.supplier.party,
            spec=ShipmentSpec(
                ship_date=date(2026, 11, 26),
                shipment_number="X",  # BSN02 takes 2 to 30 characters
                packs=[PackSpec(order.pk, (PackLine(first.pk, Decimal(5)),))],
            ),
            user=shipper,
            actor=Actor.user(shipper),
        )

    order.refresh_from_db()
    assert any("BSN02" in e for e in refused.value.extra["errors"])
    assert order.status == P.ORDERED and not Shipment.objects.exists()
    assert not OutboundDocument.objects.filter(set_id="856").exists()
    exception = ExceptionItem.objects.get(kind="document_invalid")
    assert exception.subject == f"856 for PO {order.po_number}" and "BSN02" in exception.message
