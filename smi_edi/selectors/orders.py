"""Orders, shipments and outbound documents as the API, the CSV export and the command
line show them (quantities as strings, never floats)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from smi_core.models import Party, ProposalLine, ReplenishmentProposal, Shipment
from smi_core.selectors import decimal_text
from smi_core.services.orders import shipped_quantities
from smi_edi.models import OutboundDocument

P = ReplenishmentProposal.Status
ORDER_STATUSES = (P.APPROVED, P.ORDERED, P.SHIPPED, P.RECEIVED, P.CLOSED, P.CANCELLED)


def orders_list(*, supplier: Party | None = None, status: str | None = None) -> QuerySet:
    """Approved proposals and everything after: the orders (``supplier`` limits them to
    one supplier's)."""
    qs = (
        ReplenishmentProposal.objects.filter(status__in=ORDER_STATUSES)
        .exclude(po_number="")
        .select_related("supplier", "buyer", "ship_to")
        .prefetch_related(
            Prefetch("lines", queryset=ProposalLine.objects.select_related("item")),
            "outbound_documents",
        )
        .order_by("-pk")
    )
    if supplier is not None:
        qs = qs.filter(supplier=supplier)
    if status:
        qs = qs.filter(status=status)
    return qs


def _q(value) -> str | None:
    return None if value is None else decimal_text(value)


def order_as_dict(order: ReplenishmentProposal) -> dict:
    lines = list(order.lines.all())
    shipped = shipped_quantities(line.pk for line in lines)
    return {
        "id": order.pk,
        "po_number": order.po_number,
        "po_source": order.po_source,
        "po_date": order.po_date.isoformat() if order.po_date else None,
        "status": order.status,
        "supplier": order.supplier.code,
        "buyer": order.buyer.code,
        "ship_to": order.ship_to.code,
        "ship_to_gln": order.ship_to.gln,
        "currency": order.currency,
        "value": str(order.value),
        "erp_reference": order.erp_reference,
        "requested_delivery": order.requested_delivery.isoformat()
        if order.requested_delivery
        else None,
        "lines": [
            {
                "id": line.pk,
                "line_number": line.line_number,
                "vendor_item": line.item.vendor_item,
                "gtin": line.item.gtin,
                "unit": line.item.unit,
                "unit_cost": str(line.unit_cost),
                "approved_quantity": _q(line.quantity),
                "ordered_quantity": _q(line.ordered_quantity),
                "confirmed_quantity": _q(line.confirmed_quantity),
                "ack_code": line.ack_code,
                "promised_date": line.promised_date.isoformat() if line.promised_date else None,
                "shipped_quantity": _q(shipped.get(line.pk, Decimal(0))),
            }
            for line in sorted(lines, key=lambda x: (x.line_number.zfill(6), x.pk))
        ],
        "documents": [document_summary(d) for d in order.outbound_documents.all()],
    }


def document_summary(document: OutboundDocument) -> dict:
    return {
        "id": document.pk,
        "type": document.set_id,
        "status": document.status,
        "ack_status": document.ack_status,
        "isa13": document.interchange_control_number,
        "gs06": document.group_control_number,
        "st02": document.set_control_number,
        "errors": document.validation_errors or document.ack_errors,
    }


def shipments_list(*, supplier: Party | None = None) -> QuerySet:
    qs = Shipment.objects.select_related("ship_to", "buyer", "supplier").prefetch_related(
        "packs__lines__order_line__item", "packs__order", "outbound_documents"
    )
    return qs.filter(supplier=supplier) if supplier is not None else qs


def shipment_as_dict(shipment: Shipment) -> dict:
    return {
        "id": shipment.pk,
        "shipment_number": shipment.shipment_number,
        "status": shipment.status,
        "supplier": shipment.supplier.code,
        "buyer": shipment.buyer.code,
        "ship_to": shipment.ship_to.code,
        "ship_date": shipment.ship_date.isoformat(),
        "estimated_delivery": shipment.estimated_delivery.isoformat()
        if shipment.estimated_delivery
        else None,
        "carrier_scac": shipment.carrier_scac,
        "bill_of_lading": shipment.bill_of_lading,
        "pro_number": shipment.pro_number,
        "packs": [
            {
                "sscc": pack.sscc,
                "po_number": pack.order.po_number,
                "lines": [
                    {
                        "order_line": line.order_line_id,
                        "vendor_item": line.order_line.item.vendor_item,
                        "quantity": decimal_text(line.quantity),
                    }
                    for line in pack.lines.all()
                ],
            }
            for pack in shipment.packs.all()
        ],
        "documents": [document_summary(d) for d in shipment.outbound_documents.all()],
    }


def outbound_as_dict(document: OutboundDocument, *, with_x12: bool = False) -> dict:
    from smi_edi.services.raw_store import raw_path

    row = {
        "id": document.pk,
        "type": document.set_id,
        "partner": document.partner.code,
        "interchange_control_number": document.interchange_control_number,
        "group_control_number": document.group_control_number,
        "set_control_number": document.set_control_number,
        "status": document.status,
        "ack_status": document.ack_status or None,
        "po_number": document.order.po_number if document.order_id else None,
        "shipment": document.shipment.shipment_number if document.shipment_id else None,
        "created_at": document.created_at.isoformat(),
        "sent_at": document.sent_at.isoformat() if document.sent_at else None,
        "attempts": document.attempts,
        "errors": document.validation_errors or document.ack_errors,
        "resent_from": document.resent_from_id,
        "acknowledges_interchange": document.acknowledges_id,
    }
    if with_x12:
        row["x12"] = raw_path(document.raw_file).read_bytes().decode("utf-8")
    return row
