"""REST API for the supplier's order system: fetch approved orders, confirm or change their
lines (which sends the 855), report shipments (which sends the 856), and follow what was
sent. A supplier's API user sees and acts on its own orders only; staff need the
permissions of their role."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from smi_core.api import (
    PAGE_PARAMETERS,
    ApiView,
    StrictCharField,
    errors,
    operation,
    page_of,
    paginate,
)
from smi_core.models import ReplenishmentProposal
from smi_core.services.audit import Actor
from smi_core.services.orders import LineChange
from smi_core.services.shipments import PackLine, PackSpec, ShipmentSpec
from smi_edi.api import partner_of
from smi_edi.models import OutboundDocument
from smi_edi.selectors.orders import (
    document_summary,
    order_as_dict,
    orders_list,
    outbound_as_dict,
    shipment_as_dict,
    shipments_list,
)
from smi_edi.services.order_documents import order_acknowledge, shipment_send


def _supplier_scope(request, permission: str):
    """(supplier party or None for staff, actor). Partner users must be suppliers."""
    partner = partner_of(request.user)
    if partner is not None:
        if not partner.party.is_supplier:
            raise PermissionDenied("only a supplier's order system uses the orders API")
        return partner.party, Actor.partner(partner.code, request)
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"you need the {permission} permission")
    return None, Actor.user(request.user, request)


def _order(request, pk: int, permission: str) -> tuple[ReplenishmentProposal, Actor]:
    supplier, actor = _supplier_scope(request, permission)
    order = orders_list(supplier=supplier).filter(pk=pk).first()
    if order is None:
        raise NotFound(f"order {pk} does not exist or is not yours")
    return order, actor


class OrdersView(ApiView):
    @operation(
        operation_id="orders_list",
        summary="Orders (approved proposals with a PO number)",
        parameters=[
            OpenApiParameter(
                "status", str, description="approved, ordered, shipped, received, ..."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
    )
    def get(self, request):
        supplier, _ = _supplier_scope(request, "smi_core.view_replenishmentproposal")
        qs = orders_list(supplier=supplier, status=request.query_params.get("status"))
        return paginate(self, request, qs, order_as_dict)


class OrderDetailView(ApiView):
    @operation(
        operation_id="order_detail", responses={200: OpenApiTypes.OBJECT, **errors(403, 404)}
    )
    def get(self, request, pk: int):
        order, _ = _order(request, pk, "smi_core.view_replenishmentproposal")
        return Response(order_as_dict(order))


class LineConfirmationSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The order line id (lines[].id)")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)
    promised_date = serializers.DateField(required=False)
    backordered = serializers.BooleanField(default=False)
    note = StrictCharField(max_length=200, required=False, default="")


class OrderConfirmSerializer(serializers.Serializer):
    erp_reference = StrictCharField(max_length=30, required=False, default="")
    lines = LineConfirmationSerializer(many=True, required=False, default=list)


class OrderConfirmView(ApiView):
    @operation(
        operation_id="order_confirm",
        summary="Confirm or change an approved order's lines; sends the 855",
        request=OrderConfirmSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            422: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="the 855 built from these lines failed validation: `document` says why",
            ),
            **errors(400, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk: int):
        order, actor = _order(request, pk, "smi_core.ship_replenishmentproposal")
        body = OrderConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = {
            row["line"]: LineChange(
                quantity=row.get("quantity"),
                promised_date=row.get("promised_date"),
                backordered=row["backordered"],
                note=row["note"],
            )
            for row in body.validated_data["lines"]
        }
        document = order_acknowledge(
            order_id=order.pk,
            actor=actor,
            changes=changes,
            erp_reference=body.validated_data["erp_reference"],
        )
        fresh = orders_list().get(pk=order.pk)
        invalid = document.status == OutboundDocument.Status.INVALID
        return Response(
            {"order": order_as_dict(fresh), "document": document_summary(document)},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY if invalid else status.HTTP_200_OK,
        )


class ShipmentLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(required=False, help_text="Order line id")
    vendor_item = StrictCharField(required=False, help_text="Or the item number")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4)


class ShipmentPackSerializer(serializers.Serializer):
    po_number = StrictCharField()
    sscc = StrictCharField(required=False, default="", allow_blank=True)
    lines = ShipmentLineSerializer(many=True, min_length=1)


class ShipmentCreateSerializer(serializers.Serializer):
    shipment_number = StrictCharField(max_length=30, required=False, default="")
    ship_date = serializers.DateField()
    estimated_delivery = serializers.DateField(required=False, allow_null=True, default=None)
    carrier_scac = StrictCharField(max_length=4, required=False, default="")
    transport_method = StrictCharField(max_length=2, required=False, default="M")
    bill_of_lading = StrictCharField(max_length=30, required=False, default="")
    pro_number = StrictCharField(max_length=30, required=False, default="")
    packs = ShipmentPackSerializer(many=True, min_length=1)


def pack_specs(packs: list[dict], supplier) -> list[PackSpec]:
    """Resolve PO numbers and item numbers (or line ids) of reported packs to order lines."""
    from smi_core.services.shipments import ShipmentInvalid

    specs = []
    orders: dict[str, ReplenishmentProposal] = {}
    for pack in packs:
        po = pack["po_number"]
        if po not in orders:
            qs = ReplenishmentProposal.objects.filter(po_number=po)
            if supplier is not None:
                qs = qs.filter(supplier=supplier)
            order = qs.first()
            if order is None:
                raise ShipmentInvalid(f"there is no order with PO number {po!r} of yours")
            orders[po] = order
        order = orders[po]
        by_item = dict(order.lines.values_list("item__vendor_item", "pk"))
        lines = []
        for row in pack["lines"]:
            line_id = row.get("line") or by_item.get(row.get("vendor_item", ""))
            if line_id is None:
                raise ShipmentInvalid(
                    f"PO {po} has no line for {row.get('vendor_item') or row.get('line')!r}"
                )
            lines.append(PackLine(order_line_id=line_id, quantity=_decimal(row["quantity"])))
        specs.append(PackSpec(order_id=order.pk, lines=tuple(lines), sscc=pack.get("sscc", "")))
    return specs


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:  # pragma: no cover - the serializer checked it
        raise serializers.ValidationError(f"{value!r} is not a number") from exc


class ShipmentsView(ApiView):
    @operation(
        operation_id="shipments_list",
        parameters=PAGE_PARAMETERS,
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
    )
    def get(self, request):
        supplier, _ = _supplier_scope(request, "smi_core.view_shipment")
        return paginate(self, request, shipments_list(supplier=supplier), shipment_as_dict)

    @operation(
        operation_id="shipment_create",
        summary="Report a shipment (packs and lines); sends the 856",
        request=ShipmentCreateSerializer,
        responses={201: OpenApiTypes.OBJECT, **errors(400, 403, 409, 415)},
    )
    def post(self, request):
        supplier, actor = _supplier_scope(request, "smi_core.ship_replenishmentproposal")
        body = ShipmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        specs = pack_specs(data["packs"], supplier)
        if supplier is None:
            supplier = ReplenishmentProposal.objects.get(pk=specs[0].order_id).supplier
        spec = ShipmentSpec(
            ship_date=data["ship_date"],
            packs=specs,
            estimated_delivery=data["estimated_delivery"],
            carrier_scac=data["carrier_scac"],
            transport_method=data["transport_method"],
            bill_of_lading=data["bill_of_lading"],
            pro_number=data["pro_number"],
            shipment_number=data["shipment_number"],
        )
        shipment, _ = shipment_send(supplier=supplier, spec=spec, user=request.user, actor=actor)
        fresh = shipments_list().get(pk=shipment.pk)
        return Response(shipment_as_dict(fresh), status=status.HTTP_201_CREATED)


class OutboundView(ApiView):
    @operation(
        operation_id="outbound_list",
        summary="Documents we sent, with delivery and acknowledgment status",
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("ack_status", str),
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
    )
    def get(self, request):
        partner = partner_of(request.user)
        qs = OutboundDocument.objects.select_related("partner", "order", "shipment")
        if partner is not None:
            qs = (
                qs.filter(partner=partner)
                | qs.filter(order__supplier=partner.party)
                | qs.filter(shipment__supplier=partner.party)
            ).distinct()
        elif not request.user.has_perm("smi_edi.view_outbounddocument"):
            raise PermissionDenied("you need the smi_edi.view_outbounddocument permission")
        for name in ("status", "ack_status"):
            if request.query_params.get(name):
                qs = qs.filter(**{name: request.query_params[name]})
        return paginate(self, request, qs.order_by("-pk"), outbound_as_dict)
