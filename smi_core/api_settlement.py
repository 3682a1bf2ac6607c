"""Settlement API: list and read settlements, prepare a cycle's invoice, approve, issue,
and correct with a memo. The same services as the admin and the ``settle`` command; who
may see what is the finance scope (finance users their granted parties, auditors and
superusers everything); SoD refusals answer 403 with their rule codes."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from smi_core.api import (
    PAGE_PARAMETERS,
    ApiView,
    StrictCharField,
    TextField,
    _message,
    errors,
    operation,
    page_of,
    paginate,
)
from smi_core.exceptions import ApplicationError
from smi_core.models import Item, Location, SettlementInvoice, SupplyAgreement
from smi_core.selectors.finance.base import FinanceScope
from smi_core.selectors.finance.settlement import settlement_as_dict, settlements_list
from smi_core.services.audit import Actor
from smi_core.services.settlement import (
    MemoLine,
    settlement_approve,
    settlement_issue,
    settlement_memo_create,
    settlement_prepare,
)

MAX = Decimal(10**6)


def _bad(body: serializers.Serializer, what: str):
    raise ApplicationError(
        f"{what}: {_message(body.errors)}", code="invalid", extra={"fields": body.errors}
    )


def _visible(request, pk: int) -> SettlementInvoice:
    """404 alike for a missing settlement and one outside the caller's scope."""
    scope = FinanceScope.for_user(request.user)
    invoice = settlements_list(scope=scope).filter(pk=pk).first()
    if invoice is None:
        raise NotFound(f"no settlement #{pk} that you may see")
    return invoice


class SettlementsView(ApiView):
    @operation(
        operation_id="settlements_list",
        summary="Settlements (consumption invoices and memos), newest cycle first",
        parameters=[
            OpenApiParameter("status", str, enum=list(SettlementInvoice.Status.values)),
            OpenApiParameter("buyer", str, description="buyer code"),
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
    )
    def get(self, request):
        scope = FinanceScope.for_user(request.user)
        qs = settlements_list(
            scope=scope,
            status=request.query_params.get("status"),
            buyer=request.query_params.get("buyer"),
        )
        return paginate(self, request, qs, settlement_as_dict)


class SettlementDetailView(ApiView):
    @operation(
        operation_id="settlements_retrieve",
        summary="A settlement with its lines (and the 852 sets each came from) and payments",
        responses={200: OpenApiTypes.OBJECT, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        return Response(settlement_as_dict(_visible(request, pk), lines=True))


class PrepareSerializer(serializers.Serializer):
    agreement = StrictCharField(min_length=1, max_length=40, help_text="the agreement's code")
    day = serializers.DateField(help_text="any day of the billing cycle (YYYY-MM-DD)")


class SettlementPrepareView(ApiView):
    parser_classes = [JSONParser]

    @operation(
        operation_id="settlements_prepare",
        summary="Propose the invoice of an agreement's billing cycle (again: no double bill)",
        request=PrepareSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            201: OpenApiTypes.OBJECT,
            **errors(400, 403, 404, 409, 415),
        },
    )
    def post(self, request):
        scope = FinanceScope.for_user(request.user)
        body = PrepareSerializer(data=request.data)
        if not body.is_valid():
            _bad(body, "prepare takes an agreement code and a day")
        agreement = SupplyAgreement.objects.filter(code=body.validated_data["agreement"]).first()
        if agreement is None or not scope.allows(agreement.buyer_id, agreement.supplier_id):
            raise NotFound(f"no agreement {body.validated_data['agreement']!r} that you may see")
        invoice, created = settlement_prepare(
            agreement_id=agreement.pk,
            day=body.validated_data["day"],
            user=request.user,
            actor=Actor.user(request.user, request),
        )
        return Response(settlement_as_dict(invoice, lines=True), status=201 if created else 200)


class SettlementApproveView(ApiView):
    @operation(
        operation_id="settlements_approve",
        summary="Approve a proposed settlement (not by whoever prepared it: SOD-06)",
        request=None,
        responses={200: OpenApiTypes.OBJECT, **errors(403, 404, 409)},
    )
    def post(self, request, pk: int):
        _visible(request, pk)
        invoice = settlement_approve(
            invoice_id=pk, user=request.user, actor=Actor.user(request.user, request)
        )
        return Response(settlement_as_dict(invoice))


class SettlementIssueView(ApiView):
    @operation(
        operation_id="settlements_issue",
        summary="Issue an approved settlement: its 810 is validated and sent (none under ERS)",
        request=None,
        responses={200: OpenApiTypes.OBJECT, **errors(403, 404, 409, 422)},
    )
    def post(self, request, pk: int):
        _visible(request, pk)
        invoice = settlement_issue(
            invoice_id=pk, user=request.user, actor=Actor.user(request.user, request)
        )
        return Response(settlement_as_dict(invoice))


class MemoLineSerializer(serializers.Serializer):
    item = StrictCharField(min_length=1, max_length=40, help_text="our item number")
    location = StrictCharField(min_length=1, max_length=40, help_text="the buyer's location")
    # Bounded so that quantity x price fits the amount's column (16 digits before the point).
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal("0.0001"), max_value=MAX
    )
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal(0), max_value=MAX
    )


class MemoSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["credit_memo", "debit_memo"])
    reason = TextField(max_length=2000)
    lines = MemoLineSerializer(many=True, allow_empty=False)


class SettlementMemoView(ApiView):
    parser_classes = [JSONParser]

    @operation(
        operation_id="settlements_memo",
        summary="Correct an issued invoice with a credit or debit memo (proposed; approve "
        "and issue it like an invoice)",
        request=MemoSerializer,
        responses={201: OpenApiTypes.OBJECT, **errors(400, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        original = _visible(request, pk)
        body = MemoSerializer(data=request.data)
        if not body.is_valid():
            _bad(body, "a memo takes kind, reason and lines")
        lines = []
        for n, line in enumerate(body.validated_data["lines"], start=1):
            item = Item.objects.filter(
                supplier_id=original.supplier_id, vendor_item=line["item"]
            ).first()
            location = Location.objects.filter(
                party_id=original.buyer_id, code=line["location"]
            ).first()
            if item is None or location is None:
                raise ApplicationError(
                    f"line {n}: "
                    + (
                        f"{original.supplier.code} has no item {line['item']!r}"
                        if item is None
                        else f"{original.buyer.code} has no location {line['location']!r}"
                    ),
                    code="invalid",
                )
            lines.append(
                MemoLine(
                    item_id=item.pk,
                    location_id=location.pk,
                    quantity=line["quantity"],
                    unit_price=line["unit_price"],
                    unit=item.unit or "EA",
                )
            )
        memo = settlement_memo_create(
            original_id=original.pk,
            kind=body.validated_data["kind"],
            lines=lines,
            reason=body.validated_data["reason"],
            user=request.user,
            actor=Actor.user(request.user, request),
        )
        return Response(settlement_as_dict(memo, lines=True), status=201)
