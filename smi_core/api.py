"""API plumbing shared by every app: ApplicationError becomes a 4xx JSON body."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from smi_core.exceptions import ApplicationError
from smi_core.selectors import position_as_dict, positions_list


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    return drf_exception_handler(exc, context)


# -- positions ---------------------------------------------------------------------------


class PositionsView(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(
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
        return paginator.get_paginated_response([position_as_dict(p) for p in page])
