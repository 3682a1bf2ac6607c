"""API plumbing shared by every app: ApplicationError becomes a 4xx JSON body."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from smi_core.exceptions import ApplicationError
from smi_core.models import ExceptionItem
from smi_core.selectors import position_as_dict, positions_list
from smi_core.selectors.planning_output import proposal_as_dict, proposals_list
from smi_core.services.audit import Actor
from smi_core.services.proposals import proposal_approve, proposal_reject
from smi_core.services.shipments import in_transit_by_item_location


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    return drf_exception_handler(exc, context)


# -- positions ---------------------------------------------------------------------------


class PositionsView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(
        operation_id="positions_list",
        responses={200: OpenApiTypes.OBJECT},
        summary="Current inventory positions",
        parameters=[
            OpenApiParameter("partner", str, description="buyer or supplier code"),
            OpenApiParameter("item", str, description="vendor item, GTIN or buyer item number"),
            OpenApiParameter("location", str, description="location code or GLN"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
    )
    def get(self, request):
        partner = getattr(request.user, "trading_partner", None)
        if partner is None and not request.user.has_perm("smi_core.view_inventoryposition"):
            raise PermissionDenied("you may not see inventory positions")
        qs = positions_list(
            partner=request.query_params.get("partner"),
            item=request.query_params.get("item"),
            location=request.query_params.get("location"),
            visible_to=partner.party if partner else None,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        shipped = in_transit_by_item_location()
        return paginator.get_paginated_response(
            [position_as_dict(p, shipped.get((p.item_id, p.location_id))) for p in page]
        )


# -- proposals and exceptions -------------------------------------------------------------


def _visible_party(request, permission: str):
    """The partner's party for partner users; None for staff holding ``permission``."""
    partner = getattr(request.user, "trading_partner", None)
    if partner is not None:
        return partner.party
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"you need the {permission} permission")
    return None


class ProposalsView(APIView):
    @extend_schema(
        operation_id="proposals_list",
        responses={200: OpenApiTypes.OBJECT},
        summary="Replenishment proposals",
        parameters=[
            OpenApiParameter(
                "status", str, description="proposed, approved, rejected, ordered, ..."
            ),
            OpenApiParameter("partner", str, description="buyer or supplier code"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
    )
    def get(self, request):
        party = _visible_party(request, "smi_core.view_replenishmentproposal")
        qs = proposals_list(
            status=request.query_params.get("status"),
            partner=request.query_params.get("partner"),
            visible_to=party,
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([proposal_as_dict(p) for p in page])


class ProposalDetailView(APIView):
    @extend_schema(
        operation_id="proposals_retrieve",
        responses={200: OpenApiTypes.OBJECT},
        summary="A proposal with its lines and the numbers behind each line",
    )
    def get(self, request, pk: int):
        party = _visible_party(request, "smi_core.view_replenishmentproposal")
        proposal = proposals_list(visible_to=party).filter(pk=pk).first()
        if proposal is None:
            raise NotFound(f"no proposal #{pk} that you may see")
        return Response(proposal_as_dict(proposal, lines=True))


class ExceptionsView(APIView):
    @extend_schema(
        operation_id="exceptions_list",
        responses={200: OpenApiTypes.OBJECT},
        summary="The exceptions queue",
        parameters=[
            OpenApiParameter("status", str, description="open (default) or resolved"),
            OpenApiParameter("kind", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
    )
    def get(self, request):
        party = _visible_party(request, "smi_core.view_exceptionitem")
        qs = ExceptionItem.objects.select_related("partner").filter(
            status=request.query_params.get("status", "open")
        )
        if request.query_params.get("kind"):
            qs = qs.filter(kind=request.query_params["kind"])
        if party is not None:
            qs = qs.filter(partner=party)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs.order_by("-last_seen", "-pk"), request, view=self)
        return paginator.get_paginated_response(
            [
                {
                    "id": e.pk,
                    "kind": e.kind,
                    "status": e.status,
                    "partner": e.partner.code if e.partner else None,
                    "subject": e.subject,
                    "message": e.message,
                    "action": e.action,
                    "details": e.details,
                    "occurrences": e.occurrences,
                    "first_seen": e.first_seen,
                    "last_seen": e.last_seen,
                }
                for e in page
            ]
        )


class ProposalApproveView(APIView):
    @extend_schema(
        operation_id="proposals_approve",
        responses={200: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        summary="Approve a proposal",
        description="Segregation of duties applies: 403 with `rule_codes` when the rules forbid it.",
        request=None,
    )
    def post(self, request, pk: int):
        approval = proposal_approve(
            proposal_id=pk, user=request.user, actor=Actor.user(request.user, request)
        )
        return Response(
            {
                "proposal": pk,
                "status": "approved",
                "approval": approval.pk,
                "lines_hash": approval.lines_hash,
            }
        )


class ProposalRejectView(APIView):
    @extend_schema(
        operation_id="proposals_reject",
        responses={200: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        summary="Reject a proposal",
        request=inline_serializer("Rejection", {"reason": serializers.CharField()}),
    )
    def post(self, request, pk: int):
        reason = str(request.data.get("reason", "")) if hasattr(request, "data") else ""
        rejection = proposal_reject(
            proposal_id=pk,
            user=request.user,
            reason=reason,
            actor=Actor.user(request.user, request),
        )
        return Response({"proposal": pk, "status": "rejected", "approval": rejection.pk})
