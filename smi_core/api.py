"""API plumbing shared by every app: one JSON error shape for every 4xx (ApplicationError
and DRF's own errors alike), strict limit/offset pagination, and the schema pieces that
document both."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.validators import RegexValidator
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from smi_core.api_pagination import MAX_LIMIT, MAX_OFFSET, Pagination, int_param
from smi_core.exceptions import ApplicationError
from smi_core.models import ExceptionItem, ReplenishmentProposal
from smi_core.selectors.planning_output import proposal_as_dict, proposals_list
from smi_core.selectors.positions import positions_page
from smi_core.services.audit import Actor
from smi_core.services.proposals import proposal_approve, proposal_reject

# -- errors ------------------------------------------------------------------------------

ERROR_BODY = {
    "type": "object",
    "description": "Every error: a machine name, a sentence a person understands, and any "
    "details (`fields` for invalid input, `rule_codes` for segregation of duties).",
    "properties": {
        "error": {"type": "string", "example": "not_found"},
        "message": {"type": "string", "example": "no proposal #7 that you may see"},
        "fields": {"type": "object", "description": "invalid input: messages per field"},
        "rule_codes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["error", "message"],
    "additionalProperties": True,
}
ERROR_MEANINGS = {
    400: "invalid input (a parameter, a body field or the file); see `fields`",
    401: "no or an unknown token (`Authorization: Token ...`)",
    403: "authenticated, but the role or segregation of duties forbids it",
    404: "no such object, or none that you may see",
    405: "method not allowed",
    409: "the object's state does not allow it (already decided, a conflict)",
    413: "the body is larger than the limit",
    415: "unsupported content type",
    422: "accepted, but the document built from it failed validation",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema responses for the error statuses an operation can answer; 400 (a query
    parameter the operation does not take) and 401 always."""
    return {
        status: OpenApiResponse(ERROR_BODY, description=ERROR_MEANINGS[status])
        for status in sorted({400, 401, *statuses})
    }


NO_NUL = r"^[^\u0000]*$"  # PostgreSQL text holds no NUL character: refused, documented


class StrictCharField(serializers.CharField):
    """A string and only a string (12 or true is refused, not turned into "12"), without
    NUL characters (which the schema says, as a pattern)."""

    pattern, problem = NO_NUL, "must not contain NUL characters"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(self.pattern, self.problem))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(f"send a string, not {type(data).__name__}")
        return super().to_internal_value(data)


class TextField(StrictCharField):
    """Free text that must say something: a strict string with a non-space character."""

    pattern, problem = r"^[^\u0000]*\S[^\u0000]*$", "may not be blank or contain NUL"


def _query_schema(parameter: OpenApiParameter) -> dict:
    """The JSON schema a query parameter is documented with (the parts checked here)."""
    if isinstance(parameter.type, dict):
        schema = dict(parameter.type)
    elif parameter.type in (int, OpenApiTypes.INT):
        schema = {"type": "integer"}
    elif parameter.type == OpenApiTypes.DATE:
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string"}
        if not parameter.enum and not parameter.pattern:
            parameter.pattern = NO_NUL  # documented too: the schema is built from it
    if parameter.enum:
        schema["enum"] = list(parameter.enum)
    if parameter.pattern:
        schema["pattern"] = parameter.pattern
    return schema


def _query_problem(raw: str, schema: dict) -> str | None:
    """Why ``raw`` does not fit ``schema``; None when it does."""
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?[0-9]{1,18}", raw):
            return f"{raw!r} is not a whole number"
        value = int(raw)
        if "minimum" in schema and value < schema["minimum"]:
            return f"must be at least {schema['minimum']}, not {value}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"must be at most {schema['maximum']}, not {value}"
        return None
    if "enum" in schema and raw not in schema["enum"]:
        return f"{raw!r} is not one of {', '.join(map(str, schema['enum']))}"
    if "pattern" in schema and not re.search(schema["pattern"], raw):
        return f"{raw!r} is not of the documented form {schema['pattern']}"
    if schema.get("format") == "date":
        try:
            date.fromisoformat(raw)
        except ValueError:
            return f"{raw!r} is not a date (YYYY-MM-DD)"
    return None


def operation(**kwargs):
    """``extend_schema`` that also remembers the query parameters it documents, so that
    ``ApiView`` checks them against what the schema says and refuses the others."""
    schemas = {
        p.name: _query_schema(p)
        for p in kwargs.get("parameters", [])
        if isinstance(p, OpenApiParameter) and p.location == OpenApiParameter.QUERY
    }
    document = extend_schema(**kwargs)

    def decorate(method):
        method = document(method)
        method.query_schemas = schemas
        return method

    return decorate


class ApiView(APIView):
    """An API view whose query parameters are held to its schema: one it does not document
    (a misspelt `ofset`, an object sent as `offset[x]=1`) or a value the schema does not
    allow (a word for a number, an owner that is neither supplier nor buyer) is a 400
    naming the parameter, never silently ignored."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # 401 and 403 come first
        handler = getattr(self, request.method.lower(), None)
        schemas = getattr(handler, "query_schemas", {})
        takes = ", ".join(sorted(schemas)) or "none"
        problems = {}
        for name in request.query_params:
            if name not in schemas:
                problems[name] = f"not a parameter of this operation (it takes: {takes})"
                continue
            for raw in request.query_params.getlist(name):
                problem = _query_problem(raw, schemas[name])
                if problem:
                    problems[name] = problem
        if problems:
            raise exceptions.ValidationError(problems)


def _message(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(value) for value in detail)
    return str(detail)


def exception_handler(exc, context):
    """ApplicationError and every DRF error answer ``{"error", "message", ...}``."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django answers 500 and logs it
    body = {"error": exc.default_code, "message": _message(exc.detail)}
    if isinstance(exc, exceptions.ValidationError):
        body["error"] = "invalid"
        if isinstance(exc.detail, dict):
            body["fields"] = exc.detail
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(body, status=exc.status_code, headers=headers)


# -- pagination --------------------------------------------------------------------------

LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    description=f"rows per page (default 100, at most {MAX_LIMIT})",
)
OFFSET = OpenApiParameter(
    "offset",
    {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    description="rows to skip",
)
PAGE_PARAMETERS = [LIMIT, OFFSET]


def page_of(item_schema=None) -> dict:
    """The schema of one page: ``count``, ``next``, ``previous``, ``results``."""
    return {
        "type": "object",
        "required": ["count", "results"],
        "properties": {
            "count": {"type": "integer", "example": 123},
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
            "results": {"type": "array", "items": item_schema or {"type": "object"}},
        },
    }


def paginate(view, request, qs, as_dict) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response([as_dict(row) for row in page])


# -- positions ---------------------------------------------------------------------------

POSITION = {
    "type": "object",
    "properties": {
        name: {"type": "string"}
        for name in (
            "partner",
            "supplier",
            "gtin",
            "vendor_item",
            "description",
            "location",
            "location_name",
            "on_hand",
            "on_order",
            "in_transit",
            "in_transit_shipped",
            "committed",
            "sold_last_period",
            "unit",
            "as_of",
        )
    },
}


def _cursor_encode(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}.{key[1]}".encode()).decode().rstrip("=")


def _cursor_decode(raw: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        item, location = (int(part) for part in text.split("."))
        if not (0 <= item < 2**63 and 0 <= location < 2**63):
            raise ValueError(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        # As DRF's own cursor pages: a cursor we did not give out names no page.
        raise NotFound("no such page: follow `next` from the first page") from None
    return item, location


class PositionsView(ApiView):
    @operation(
        operation_id="positions_list",
        responses={
            200: OpenApiResponse(
                {
                    "type": "object",
                    "required": ["next", "results"],
                    "properties": {
                        "next": {"type": "string", "format": "uri", "nullable": True},
                        "results": {"type": "array", "items": POSITION},
                    },
                },
                description="one page; `next` is the URL of the following page (null: last)",
            ),
            **errors(400, 403, 404),
        },
        summary="Current inventory positions",
        description="Pages by cursor in a stable order (item, then location): follow `next`. "
        "No total count: a partner may hold hundreds of thousands of positions.",
        parameters=[
            OpenApiParameter("partner", str, description="buyer or supplier code"),
            OpenApiParameter("item", str, description="vendor item, GTIN or buyer item number"),
            OpenApiParameter("location", str, description="location code or GLN"),
            LIMIT,
            OpenApiParameter(
                "cursor", str, description="from the previous page's `next` (else 404)"
            ),
        ],
    )
    def get(self, request):
        partner = getattr(request.user, "trading_partner", None)
        if partner is None and not request.user.has_perm("smi_core.view_inventoryposition"):
            raise PermissionDenied("you may not see inventory positions")
        limit = int_param(request, "limit", 100, 1, MAX_LIMIT)
        cursor = request.query_params.get("cursor")
        rows = positions_page(
            after=_cursor_decode(cursor) if cursor else None,
            limit=limit + 1,
            partner=request.query_params.get("partner"),
            item=request.query_params.get("item"),
            location=request.query_params.get("location"),
            visible_to=partner.party if partner else None,
        )
        keys = [row.pop("key") for row in rows]
        following = None
        if len(rows) > limit:
            rows = rows[:limit]
            url = replace_query_param(
                request.build_absolute_uri(), "cursor", _cursor_encode(keys[limit - 1])
            )
            following = url
        return Response({"next": following, "results": rows})


# -- proposals and exceptions -------------------------------------------------------------


def _visible_party(request, permission: str):
    """The partner's party for partner users; None for staff holding ``permission``."""
    partner = getattr(request.user, "trading_partner", None)
    if partner is not None:
        return partner.party
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"you need the {permission} permission")
    return None


class ProposalsView(ApiView):
    @operation(
        operation_id="proposals_list",
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
        summary="Replenishment proposals",
        parameters=[
            OpenApiParameter(
                "status", str, description="proposed, approved, rejected, ordered, ..."
            ),
            OpenApiParameter("partner", str, description="buyer or supplier code"),
            *PAGE_PARAMETERS,
        ],
    )
    def get(self, request):
        party = _visible_party(request, "smi_core.view_replenishmentproposal")
        qs = proposals_list(
            status=request.query_params.get("status"),
            partner=request.query_params.get("partner"),
            visible_to=party,
        )
        return paginate(self, request, qs, proposal_as_dict)


class ProposalDetailView(ApiView):
    @operation(
        operation_id="proposals_retrieve",
        responses={200: OpenApiTypes.OBJECT, **errors(403, 404)},
        summary="A proposal with its lines and the numbers behind each line",
    )
    def get(self, request, pk: int):
        party = _visible_party(request, "smi_core.view_replenishmentproposal")
        proposal = proposals_list(visible_to=party).filter(pk=pk).first()
        if proposal is None:
            raise NotFound(f"no proposal #{pk} that you may see")
        return Response(proposal_as_dict(proposal, lines=True))


def _exception_as_dict(e: ExceptionItem) -> dict:
    return {
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


class ExceptionsView(ApiView):
    @operation(
        operation_id="exceptions_list",
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
        summary="The exceptions queue",
        parameters=[
            OpenApiParameter("status", str, description="open (default) or resolved"),
            OpenApiParameter("kind", str),
            *PAGE_PARAMETERS,
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
        return paginate(self, request, qs.order_by("-last_seen", "-pk"), _exception_as_dict)


def _decidable(request, pk: int) -> None:
    """404, the same for a missing proposal and one the caller may not see, before any
    service runs: a partner learns nothing about other partners' proposal ids."""
    partner = getattr(request.user, "trading_partner", None)
    qs = ReplenishmentProposal.objects.filter(pk=pk)
    if partner is not None:
        qs = proposals_list(visible_to=partner.party).filter(pk=pk)
    if not qs.exists():
        raise NotFound(f"no proposal #{pk} that you may see")


class ProposalApproveView(ApiView):
    @operation(
        operation_id="proposals_approve",
        responses={200: OpenApiTypes.OBJECT, **errors(403, 404, 409)},
        summary="Approve a proposal",
        description="Segregation of duties applies: 403 with `rule_codes` when the rules "
        "forbid it; 409 when the proposal is no longer proposed.",
        request=None,
    )
    def post(self, request, pk: int):
        _decidable(request, pk)
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


class RejectionSerializer(serializers.Serializer):
    reason = TextField(max_length=2000, help_text="why (required, not blank)")


class ProposalRejectView(ApiView):
    @operation(
        operation_id="proposals_reject",
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403, 404, 409, 415)},
        summary="Reject a proposal",
        request=RejectionSerializer,
    )
    def post(self, request, pk: int):
        _decidable(request, pk)
        body = RejectionSerializer(data=request.data)
        if not body.is_valid():  # the code the service gives a missing reason, and why
            raise ApplicationError(
                f"a rejection needs a reason: {_message(body.errors)}",
                code="reason_required",
                extra={"fields": body.errors},
            )
        rejection = proposal_reject(
            proposal_id=pk,
            user=request.user,
            reason=body.validated_data["reason"],
            actor=Actor.user(request.user, request),
        )
        return Response({"proposal": pk, "status": "rejected", "approval": rejection.pk})
