"""The 855 for an order and the 856 for a shipment, built from the records and sent through
``outbound_create``. An order becomes *ordered* only when its 855 passed our validation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from smi_core.models import ProposalLine, ReplenishmentProposal, Shipment
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_core.services.orders import LineChange, order_lines_confirm, order_mark_ordered
from smi_core.services.proposals import ApprovalInvalid, approval_invalid_reason
from smi_core.services.shipments import (
    PackLine,
    PackSpec,
    ShipmentInvalid,
    ShipmentSpec,
    open_quantities,
    shipment_authorize,
    shipment_create,
)
from smi_edi.models import OutboundDocument
from smi_edi.services.outbound import outbound_create, partner_for
from smi_edi.x12.ts855 import AckLine, Acknowledgment855, segments_855
from smi_edi.x12.ts856 import Pack, ShipItem, Shipment856, ShipOrder, segments_856

D = OutboundDocument


def product_ids(line: ProposalLine) -> tuple[tuple[str, str], ...]:
    """The ids the buyer can match: our item number (VN), the GTIN (UP for a UPC-A, EN
    otherwise) and the buyer's own number (IN) where we know it."""
    item = line.item
    ids = [("VN", item.vendor_item)]
    if item.gtin:
        gtin = item.gtin.lstrip("0").zfill(12) if item.gtin.startswith("00") else item.gtin
        ids.append(("UP" if len(gtin) == 12 else "EN", gtin))
    buyer_item = getattr(line, "buyer_item", None)
    if buyer_item:
        ids.append(("IN", buyer_item))
    return tuple(ids)


def _buyer_items(order: ReplenishmentProposal) -> dict[int, str]:
    from smi_core.models import ItemCrossReference

    return dict(
        ItemCrossReference.objects.filter(
            buyer=order.buyer, item_id__in=order.lines.values("item_id")
        ).values_list("item_id", "buyer_item")
    )


def ship_to_id(location) -> tuple[str, str]:
    return ("UL", location.gln) if location.gln else ("92", location.code)


def acknowledgment_855(
    order: ReplenishmentProposal, lines: list[ProposalLine]
) -> Acknowledgment855:
    buyer_items = _buyer_items(order)
    ack_lines = []
    for line in lines:
        if line.ordered_quantity == 0 and not line.confirmed_quantity:
            continue  # proposed, but not on the buyer's PO
        line.buyer_item = buyer_items.get(line.item_id)
        ordered = line.ordered_quantity if line.ordered_quantity is not None else line.quantity
        ack_lines.append(
            AckLine(
                line_number=line.line_number,
                ordered_quantity=ordered,
                unit=line.item.unit or "EA",
                unit_price=line.unit_cost,
                product_ids=product_ids(line),
                ack_code=line.ack_code,
                ack_quantity=line.confirmed_quantity,
                ack_date=line.promised_date,
                backordered_quantity=getattr(line, "backordered_quantity", Decimal(0)),
            )
        )
    return Acknowledgment855(
        po_number=order.po_number,
        po_date=order.po_date or timezone.localdate(),
        ack_date=timezone.localdate(),
        lines=tuple(ack_lines),
        ship_to=ship_to_id(order.ship_to),
    )


def order_approval_lapsed(
    order: ReplenishmentProposal, *, actor: Actor, file: str = ""
) -> str | None:
    """Why an approved order's approval no longer binds it (its lines or the agreement
    changed since), recorded as ``order.acknowledge.refused``; None while it binds."""
    if order.status != ReplenishmentProposal.Status.APPROVED:
        return None
    invalid = approval_invalid_reason(order)
    if invalid:
        after = {"po_number": order.po_number, "reason": invalid}
        audit_record(
            actor=actor,
            action="order.acknowledge.refused",
            object_type="proposal",
            object_id=order.pk,
            after=after | ({"file": file} if file else {}),
        )
    return invalid


def order_acknowledge(
    *,
    order_id: int,
    actor: Actor,
    changes: Mapping[int, LineChange] | None = None,
    erp_reference: str = "",
) -> OutboundDocument:
    """Confirm an approved order's lines (as approved, or as the ERP changed them) and send
    the 855. When the 855 fails our validation nothing is sent, the order stays approved,
    and the document shows the errors. When the approval no longer binds the order (its
    lines or the agreement changed since), nothing is sent and the refusal is recorded."""
    with transaction.atomic():
        order = (
            ReplenishmentProposal.objects.select_for_update()
            .select_related("buyer", "supplier", "ship_to", "agreement")
            .get(pk=order_id)
        )
        invalid = order_approval_lapsed(order, actor=actor)
        if not invalid:
            lines = order_lines_confirm(
                order=order, changes=changes, erp_reference=erp_reference, actor=actor
            )
            document = outbound_create(
                sender=partner_for(order.supplier),
                partner=partner_for(order.buyer),
                set_id="855",
                segments=segments_855(
                    acknowledgment_855(order, lines),
                    version=partner_for(order.buyer).x12_version or "004010",
                ),
                actor=actor,
                order=order,
            )
            if document.status != D.Status.INVALID:
                order_mark_ordered(
                    order=order,
                    actor=actor,
                    reason=f"855 ISA13 {document.interchange_control_number} sent",
                )
    if invalid:  # the refusal is recorded (committed above); now refuse
        raise ApprovalInvalid(
            f"order {order.po_number or order.pk} is not acknowledged: {invalid}; "
            "it needs a new approval"
        )
    document.refresh_from_db()  # delivery may have run already (in-process tasks)
    return document


def ship_notice_856(shipment: Shipment) -> Shipment856:
    packs = shipment.packs.select_related("order").prefetch_related("lines__order_line__item")
    orders: dict[int, tuple[ReplenishmentProposal, list[Pack]]] = {}
    buyer_items: dict[int, dict[int, str]] = {}
    for pack in packs:
        order = pack.order
        if order.pk not in buyer_items:
            buyer_items[order.pk] = _buyer_items(order)
        items = []
        for line in pack.lines.all():
            order_line = line.order_line
            order_line.buyer_item = buyer_items[order.pk].get(order_line.item_id)
            items.append(
                ShipItem(
                    line_number=order_line.line_number,
                    product_ids=product_ids(order_line),
                    quantity=line.quantity,
                    unit=order_line.item.unit or "EA",
                )
            )
        orders.setdefault(order.pk, (order, []))[1].append(Pack(pack.sscc, tuple(items)))
    supplier, ship_to = shipment.supplier, shipment.ship_to
    return Shipment856(
        shipment_id=shipment.shipment_number,
        created=timezone.now(),
        ship_date=shipment.ship_date,
        estimated_delivery=shipment.estimated_delivery,
        carrier_scac=shipment.carrier_scac,
        transport_method=shipment.transport_method,
        bill_of_lading=shipment.bill_of_lading,
        pro_number=shipment.pro_number,
        ship_from=(
            supplier.name,
            *(("UL", supplier.gln) if supplier.gln else ("92", supplier.code)),
        ),
        ship_to=(ship_to.name or ship_to.code, *ship_to_id(ship_to)),
        orders=tuple(
            ShipOrder(po_number=o.po_number, po_date=o.po_date, packs=tuple(p))
            for o, p in orders.values()
        ),
    )


def shipment_notify(*, shipment: Shipment, actor: Actor) -> OutboundDocument:
    buyer = partner_for(shipment.buyer)
    return outbound_create(
        sender=partner_for(shipment.supplier),
        partner=buyer,
        set_id="856",
        segments=segments_856(ship_notice_856(shipment), version=buyer.x12_version or "004010"),
        actor=actor,
        shipment=shipment,
    )


def shipment_send(
    *, supplier, spec: ShipmentSpec, user, actor: Actor
) -> tuple[Shipment, OutboundDocument]:
    """Record the shipment and send its 856, in one transaction (an SoD denial is
    recorded before it opens)."""
    shipment_authorize(
        order_ids=sorted({pack.order_id for pack in spec.packs}), user=user, actor=actor
    )
    try:
        with transaction.atomic():
            shipment = shipment_create(supplier=supplier, spec=spec, user=user, actor=actor)
            document = shipment_notify(shipment=shipment, actor=actor)
            if document.status == D.Status.INVALID:
                raise _Invalid856(document.validation_errors)
    except _Invalid856 as exc:
        # Nothing ships without its 856: the shipment is rolled back; the orders say why.
        orders = ReplenishmentProposal.objects.filter(
            pk__in={pack.order_id for pack in spec.packs}
        ).select_related("buyer")
        for order in orders:
            exception_raise(
                kind="document_invalid",
                partner=order.buyer,
                subject=f"856 for PO {order.po_number}",
                message=f"The 856 for PO {order.po_number} failed our validation, so the "
                "shipment was not recorded or sent: " + "; ".join(exc.errors[:5]),
                action="Correct the shipment data (shipment number, carrier, references) "
                "and report the shipment again.",
                details={"errors": exc.errors},
            )
        raise ShipmentInvalid(
            "the 856 failed our validation; nothing was shipped: " + "; ".join(exc.errors[:3]),
            extra={"errors": exc.errors},
        ) from None
    document.refresh_from_db()
    return shipment, document


class _Invalid856(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("856 failed validation")
        self.errors = list(errors)


def order_ship(
    *, po_number: str, user, actor: Actor, ship_date: date | None = None, carrier_scac: str = ""
) -> tuple[Shipment, OutboundDocument]:
    """Ship every open line of one order, one pack per line (for scripts and demos)."""
    order = ReplenishmentProposal.objects.filter(po_number=po_number).first()
    if order is None:
        raise ShipmentInvalid(f"there is no order with PO number {po_number!r}")
    open_lines = {pk: q for pk, q in open_quantities(order).items() if q > 0}
    if not open_lines:
        raise ShipmentInvalid(f"order {po_number} has nothing open to ship ({order.status})")
    spec = ShipmentSpec(
        ship_date=ship_date or timezone.localdate(),
        carrier_scac=carrier_scac,
        packs=[
            PackSpec(order_id=order.pk, lines=(PackLine(order_line_id=pk, quantity=q),))
            for pk, q in sorted(open_lines.items())
        ],
    )
    return shipment_send(supplier=order.supplier, spec=spec, user=user, actor=actor)
