"""Backorders in the 855: ACK*IB carries the backordered quantity, a line partly shipped
now and partly backordered has two ACKs (IA for what ships, IB for the rest), both pass
our 004010 and 005010 maps and read back to the same data, and the backordered quantity
stays open to ship on the order line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import ReplenishmentProposal
from smi_core.services.audit import Actor
from smi_core.services.orders import LineChange
from smi_core.services.shipments import open_quantities
from smi_edi.services.order_documents import order_acknowledge, order_ship
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.ts855 import AckLine, Acknowledgment855, read_855, segments_855
from smi_edi.x12.validation import validate
from tests.orders import approved_order, build_world
from tests.smi_edi.test_ts855 import assert_accepted, interchange, set_body

D = Decimal
NOV16, NOV17, NOV27 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 27)
VERSIONS = ["004010", "005010"]


def _line(number: str, code: str, quantity: str, backordered: str = "0") -> AckLine:
    return AckLine(
        line_number=number,
        ordered_quantity=D(10),
        unit="EA",
        unit_price=D("2.40"),
        product_ids=(("VN", f"A-{number}"),),
        ack_code=code,
        ack_quantity=D(quantity),
        ack_date=NOV27,
        backordered_quantity=D(backordered),
    )


def _855(*lines: AckLine) -> Acknowledgment855:
    return Acknowledgment855(po_number="PO-1001", po_date=NOV16, ack_date=NOV17, lines=lines)


def _acks(body: list[list]) -> list[list]:
    return [[str(e) if e is not None else "" for e in s[1:4]] for s in body if s[0] == "ACK"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("line", "acks"),
    [
        (_line("1", "IB", "0"), [["IB", "10", "EA"]]),
        (_line("1", "IB", "10"), [["IB", "10", "EA"]]),
        (_line("1", "IB", "10", "4"), [["IA", "6", "EA"], ["IB", "4", "EA"]]),
        (_line("1", "IA", "6", "4"), [["IA", "6", "EA"], ["IB", "4", "EA"]]),
    ],
    ids=[
        "all-backordered-given-as-confirmed-0",
        "all-backordered",
        "partial-given-as-the-order-line-holds-it",
        "partial",
    ],
)
def test_a_backorder_is_ack_ib_with_the_backordered_quantity(line, acks, version):
    ack = _855(line, _line("2", "IA", "10"))

    body = segments_855(ack, version=version)
    data = interchange(body, version)

    assert _acks(set_body(data)) == [*acks, ["IA", "10", "EA"]]
    assert ack.bak02 == "AC"  # a backorder is a change, never "accepted as ordered"
    assert ["CTT", "2", "20"] in body
    assert_accepted(data)
    assert read_855(set_body(data)) == ack


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def _document_acks(document) -> list[list[str]]:
    data = raw_path(document.raw_file).read_bytes()
    return [s[1:3] for s in X12Reader(data).segments() if s[0] == "ACK"]


@pytest.mark.django_db
def test_a_backordered_line_stays_open_to_ship(world):
    order = approved_order(world)  # lines of 24 and 12
    lines = list(order.lines.order_by("line_number"))
    shipper = world.users["shipper"]

    order_acknowledge(
        order_id=order.pk,
        actor=Actor.partner("acme-supply"),
        changes={
            lines[0].pk: LineChange(quantity=D(10), backordered=True),
            lines[1].pk: LineChange(quantity=D(0), backordered=True),
        },
    )

    order = ReplenishmentProposal.objects.get(pk=order.pk)
    stored = {line.pk: line for line in order.lines.all()}
    assert [(stored[line.pk].ack_code, stored[line.pk].confirmed_quantity) for line in lines] == [
        ("IB", D(24)),
        ("IB", D(12)),
    ]
    assert open_quantities(order) == {lines[0].pk: D(24), lines[1].pk: D(12)}

    order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))

    order.refresh_from_db()
    assert open_quantities(order) == {lines[0].pk: D(0), lines[1].pk: D(0)}
    assert order.status == ReplenishmentProposal.Status.SHIPPED


@pytest.mark.django_db
def test_an_order_with_a_full_backorder_sends_ack_ib_with_the_whole_quantity(world):
    order = approved_order(world)
    lines = list(order.lines.order_by("line_number"))

    document = order_acknowledge(
        order_id=order.pk,
        actor=Actor.partner("acme-supply"),
        changes={lines[1].pk: LineChange(backordered=True)},
    )

    assert _document_acks(document) == [["IA", "24"], ["IB", "12"]]
    assert validate(raw_path(document.raw_file))[0].all_accepted


@pytest.mark.django_db
def test_an_order_with_a_partial_backorder_sends_ia_and_ib_for_the_line(world):
    order = approved_order(world)
    lines = list(order.lines.order_by("line_number"))

    document = order_acknowledge(
        order_id=order.pk,
        actor=Actor.partner("acme-supply"),
        changes={lines[0].pk: LineChange(quantity=D(10), backordered=True)},
    )

    assert _document_acks(document) == [["IA", "10"], ["IB", "14"], ["IA", "12"]]
    assert validate(raw_path(document.raw_file))[0].all_accepted
