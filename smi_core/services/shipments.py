"""Shipments of confirmed orders: packs with SSCC-18 labels, partial shipments (the rest of a
line stays open), the shipper SoD check (SOD-03: whoever approved an order may not ship
it), and receipt at the buyer's location."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    Party,
    ProposalLine,
    ReplenishmentProposal,
    Shipment,
    ShipmentLine,
    ShipmentPack,
)
from smi_core.services.audit import Actor, audit_record
from smi_core.services.orders import shipped_quantities
from smi_core.services.proposals import proposal_transition
from smi_core.services.sod import SodViolation, shipping_breaches
from smi_edi.gs1 import sscc_make, sscc_valid

P = ReplenishmentProposal.Status
ZERO = Decimal(0)


class ShipmentInvalid(ApplicationError):
    code = "shipment_invalid"


@dataclass(frozen=True)
class PackLine:
    order_line_id: int
    quantity: Decimal


@dataclass(frozen=True)
class PackSpec:
    order_id: int
    lines: tuple[PackLine, ...]
    sscc: str = ""  # empty: labelled from our GS1 company prefix


@dataclass
class ShipmentSpec:
    ship_date: date
    packs: list[PackSpec] = field(default_factory=list)
    estimated_delivery: date | None = None
    carrier_scac: str = ""
    transport_method: str = "M"
    bill_of_lading: str = ""
    pro_number: str = ""
    shipment_number: str = ""


def open_quantities(order: ReplenishmentProposal) -> dict[int, Decimal]:
    """Per order line: confirmed (or ordered) minus shipped so far."""
    lines = list(order.lines.all())
    shipped = shipped_quantities(line.pk for line in lines)
    return {line.pk: _shippable(line) - shipped.get(line.pk, ZERO) for line in lines}


def _shippable(line: ProposalLine) -> Decimal:
    if line.confirmed_quantity is not None:
        return line.confirmed_quantity
    return line.ordered_quantity if line.ordered_quantity is not None else line.quantity


def sscc_next(count: int = 1) -> list[str]:
    """``count`` new SSCC-18s from our company prefix, never handed out before."""
    from smi_edi.services.control_numbers import control_number_next

    prefix = settings.SMI_GS1_COMPANY_PREFIX
    first = control_number_next(partner_key=f"gs1:{prefix}", kind="ssc", count=count)
    extension = settings.SMI_SSCC_EXTENSION
    return [
        sscc_make(extension=extension, company_prefix=prefix, serial=first + n)
        for n in range(count)
    ]


def shipment_authorize(*, order_ids: list[int], user, actor: Actor) -> None:
    """Refuse, and record the refusal, when ``user`` may not ship one of the orders (the
    shipper role, and SOD-03: not the order's approver). Superusers are not exempt."""
    denied = []
    for order in ReplenishmentProposal.objects.filter(pk__in=order_ids).order_by("pk"):
        breaches = shipping_breaches(proposal=order, user=user)
        if breaches:
            denied.append((order, breaches))
    if not denied:
        return
    with transaction.atomic():
        for order, breaches in denied:
            audit_record(
                actor=actor,
                action="shipment.denied",
                object_type="proposal",
                object_id=order.pk,
                rule_codes=[b.code for b in breaches],
                after={"reasons": [b.reason for b in breaches]},
            )
    codes = sorted({b.code for _, breaches in denied for b in breaches})
    reasons = " ".join(f"[{b.code}] {b.reason}" for _, bs in denied for b in bs)
    raise SodViolation(f"{user.get_username()} may not ship: {reasons}", codes)


def shipment_create(
    *, supplier: Party, spec: ShipmentSpec, user, actor: Actor | None = None
) -> Shipment:
    """Record a shipment of confirmed orders. Refuses (nothing written) when a pack names
    another supplier's order, an order not yet confirmed, a line of another order, more
    than is open, or orders for different ship-to locations; raises SodViolation when
    ``user`` may not ship one of the orders (the denial is recorded first, so call this
    outside a transaction that the violation would roll back, or call
    ``shipment_authorize`` before opening one)."""
    actor = actor or Actor.user(user)
    if not spec.packs:
        raise ShipmentInvalid("a shipment needs at least one pack")
    order_ids = sorted({pack.order_id for pack in spec.packs})
    shipment_authorize(order_ids=order_ids, user=user, actor=actor)
    with transaction.atomic():
        orders = {
            o.pk: o
            for o in ReplenishmentProposal.objects.select_for_update()
            .filter(pk__in=order_ids)
            .select_related("ship_to", "buyer")
        }
        for order_id in order_ids:
            order = orders.get(order_id)
            if order is None or order.supplier_id != supplier.pk:
                raise ShipmentInvalid(f"order {order_id} is not one of {supplier.code}'s orders")
            if order.status != P.ORDERED:
                raise ShipmentInvalid(
                    f"order {order.po_number or order.pk} is {order.status}; only orders whose "
                    "855 was sent (status ordered) can ship"
                )
        return _create(supplier, spec, orders, user, actor)


def _create(supplier, spec, orders, user, actor) -> Shipment:
    ship_tos = {o.ship_to_id for o in orders.values()}
    if len(ship_tos) != 1:
        raise ShipmentInvalid("one shipment goes to one ship-to location; split it per location")
    open_by_line: dict[int, Decimal] = {}
    line_order: dict[int, int] = {}
    for order in orders.values():
        open_by_line.update(open_quantities(order))
        line_order.update({pk: order.pk for pk in order.lines.values_list("pk", flat=True)})
    labels = [pack.sscc for pack in spec.packs if pack.sscc]
    for label in labels:
        if not sscc_valid(label):
            raise ShipmentInvalid(f"SSCC {label!r} is not 18 digits with a correct check digit")
    if len(set(labels)) != len(labels) or ShipmentPack.objects.filter(sscc__in=labels).exists():
        raise ShipmentInvalid("an SSCC is used twice; every pack needs a label of its own")
    for pack in spec.packs:
        if not pack.lines:
            raise ShipmentInvalid(f"a pack of order {pack.order_id} holds no lines")
        for line in pack.lines:
            if line_order.get(line.order_line_id) != pack.order_id:
                raise ShipmentInvalid(
                    f"line {line.order_line_id} is not a line of order {pack.order_id}"
                )
            if line.quantity <= 0:
                raise ShipmentInvalid(f"line {line.order_line_id}: ship a positive quantity")
            open_by_line[line.order_line_id] -= line.quantity
            if open_by_line[line.order_line_id] < 0:
                raise ShipmentInvalid(
                    f"line {line.order_line_id}: shipping more than is open "
                    f"({open_by_line[line.order_line_id] + line.quantity} left)",
                    extra={"line": line.order_line_id},
                )
    first = next(iter(orders.values()))
    shipment = Shipment.objects.create(
        shipment_number=spec.shipment_number or f"new-{uuid.uuid4().hex[:24]}",
        supplier=supplier,
        buyer=first.buyer,
        ship_to=first.ship_to,
        ship_date=spec.ship_date,
        estimated_delivery=spec.estimated_delivery,
        carrier_scac=spec.carrier_scac.upper()[:4],
        transport_method=spec.transport_method or "M",
        bill_of_lading=spec.bill_of_lading,
        pro_number=spec.pro_number,
        shipped_by=user,
        created_by=f"{actor.type}:{actor.name}",
    )
    if not spec.shipment_number:
        shipment.shipment_number = f"SH{shipment.pk:08d}"
        shipment.save(update_fields=["shipment_number"])
    fresh = iter(sscc_next(sum(1 for pack in spec.packs if not pack.sscc)))
    lines = []
    for pack in spec.packs:
        row = ShipmentPack.objects.create(
            shipment=shipment, order_id=pack.order_id, sscc=pack.sscc or next(fresh)
        )
        lines += [
            ShipmentLine(pack=row, order_line_id=line.order_line_id, quantity=line.quantity)
            for line in pack.lines
        ]
    ShipmentLine.objects.bulk_create(lines)
    for order in orders.values():
        left = {pk: q for pk, q in open_by_line.items() if line_order[pk] == order.pk}
        if all(q <= 0 for q in left.values()):
            proposal_transition(
                proposal=order,
                to=P.SHIPPED,
                actor=actor,
                reason=f"shipped complete in {shipment.shipment_number}",
            )
    audit_record(
        actor=actor,
        action="shipment.create",
        object_type="shipment",
        object_id=shipment.pk,
        after={
            "shipment": shipment.shipment_number,
            "orders": sorted(orders),
            "packs": len(spec.packs),
            "units": str(sum(line.quantity for line in lines)),
        },
    )
    return shipment


def shipment_receive(*, shipment_id: int, actor: Actor) -> Shipment:
    """The buyer received the shipment: its quantities leave in-transit, and each order all
    of whose shipments are received becomes received."""
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
        if shipment.status == Shipment.Status.RECEIVED:
            return shipment
        for line in ShipmentLine.objects.filter(pack__shipment=shipment):
            line.received_quantity = line.quantity
            line.save(update_fields=["received_quantity"])
        shipment.status = Shipment.Status.RECEIVED
        shipment.received_at = timezone.now()
        shipment.save(update_fields=["status", "received_at"])
        order_ids = set(shipment.packs.values_list("order_id", flat=True))
        for order in ReplenishmentProposal.objects.select_for_update().filter(pk__in=order_ids):
            waiting = Shipment.objects.filter(
                packs__order=order, status=Shipment.Status.SHIPPED
            ).exists()
            if order.status == P.SHIPPED and not waiting:
                proposal_transition(
                    proposal=order,
                    to=P.RECEIVED,
                    actor=actor,
                    reason=f"received with {shipment.shipment_number}",
                )
        audit_record(
            actor=actor,
            action="shipment.receive",
            object_type="shipment",
            object_id=shipment.pk,
            after={"shipment": shipment.shipment_number},
        )
    return shipment


def in_transit_by_item_location(
    *, buyer: Party | None = None, item_ids=None, location_ids=None
) -> dict[tuple[int, int], Decimal]:
    """Units shipped and not yet received, per (item, ship-to location); ``item_ids`` and
    ``location_ids`` narrow it to one page of positions."""
    from django.db.models import Sum

    rows = ShipmentLine.objects.filter(pack__shipment__status=Shipment.Status.SHIPPED)
    if buyer is not None:
        rows = rows.filter(pack__shipment__buyer=buyer)
    if item_ids is not None:
        rows = rows.filter(order_line__item_id__in=item_ids)
    if location_ids is not None:
        rows = rows.filter(pack__shipment__ship_to_id__in=location_ids)
    rows = rows.values(
        item_id=F("order_line__item_id"), location_id=F("pack__shipment__ship_to_id")
    ).annotate(units=Sum(F("quantity") - F("received_quantity")))
    return {(r["item_id"], r["location_id"]): r["units"] for r in rows if r["units"]}


def shipments_receive_from_852(*, item_location_pairs, source: str = "") -> int:
    """Allocate the buyer's reported receipts (852 QR, periods ending on or after the ship
    date) to our shipment lines for the same item and location, oldest shipment first; a
    shipment whose lines are all received becomes received. Recomputed from the activity
    each time, so applying the same 852 again changes nothing. Returns the shipments
    received."""
    from django.db.models import Min, Sum

    from smi_core.models import ProductActivity

    pairs = set(item_location_pairs)
    if not pairs:
        return 0
    items = {i for i, _ in pairs}
    locations = {loc for _, loc in pairs}
    lines = (
        ShipmentLine.objects.filter(
            order_line__item_id__in=items, pack__shipment__ship_to_id__in=locations
        )
        .select_related("pack__shipment", "order_line")
        .order_by("pack__shipment__ship_date", "pack__shipment_id", "pk")
    )
    per_key: dict[tuple[int, int], list[ShipmentLine]] = {}
    for line in lines:
        key = (line.order_line.item_id, line.pack.shipment.ship_to_id)
        if key in pairs:
            per_key.setdefault(key, []).append(line)
    touched: set[int] = set()
    for (item_id, location_id), key_lines in per_key.items():
        since = min(line.pack.shipment.ship_date for line in key_lines)
        received = (
            ProductActivity.objects.filter(
                item_id=item_id, location_id=location_id, activity_code="QR", period_end__gte=since
            ).aggregate(total=Sum("quantity"), first=Min("period_end"))["total"]
            or ZERO
        )
        for line in key_lines:
            if line.pack.shipment.status == Shipment.Status.RECEIVED:
                received -= line.quantity  # received by hand: it used its share
                continue
            share = max(min(line.quantity, received), ZERO)
            received -= share
            if share != line.received_quantity:
                line.received_quantity = share
                line.save(update_fields=["received_quantity"])
                touched.add(line.pack.shipment_id)
    done = 0
    for shipment_id in touched:
        complete = not ShipmentLine.objects.filter(
            pack__shipment_id=shipment_id, received_quantity__lt=F("quantity")
        ).exists()
        if complete:
            shipment_receive(
                shipment_id=shipment_id, actor=Actor.system(f"852 receipts {source}".strip())
            )
            done += 1
    return done
