"""Finance API: every figure as JSON or CSV (``?export=csv``), and the exchange rates.
Finance users see the parties granted to them, auditors everything; others are refused."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from smi_core.api import PAGE_PARAMETERS, ApiView, errors, operation, page_of, paginate
from smi_core.models import ExchangeRate
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute
from smi_core.selectors.finance.tables import columns, table_for
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load

_GROUP = "(item|location|supplier|buyer|currency|owner)"
PARAMETERS = [
    OpenApiParameter(
        "as_of",
        OpenApiTypes.DATE,
        description="YYYY-MM-DD (default the site's reporting date, else today; the answer's "
        "`reporting_date` says which)",
    ),
    OpenApiParameter(
        "start", OpenApiTypes.DATE, description="period start (default 13 weeks before end)"
    ),
    OpenApiParameter("end", OpenApiTypes.DATE, description="period end (default as_of)"),
    OpenApiParameter("baseline_start", OpenApiTypes.DATE),
    OpenApiParameter("baseline_end", OpenApiTypes.DATE),
    OpenApiParameter("supplier", str),
    OpenApiParameter("buyer", str),
    OpenApiParameter("currency", str),
    OpenApiParameter("owner", str, enum=["supplier", "buyer"]),
    OpenApiParameter(
        "group_by",
        {"type": "string", "pattern": f"^{_GROUP}(,{_GROUP})*$"},
        description="valuation: item,location,supplier,buyer,currency,owner",
    ),
    OpenApiParameter(
        "weeks",
        {"type": "integer", "minimum": 1, "maximum": 104},
        description="cash-flow weeks (default 12)",
    ),
    OpenApiParameter(
        "carrying_rate",
        {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?$"},
        description="working capital, a fraction such as 0.25 (default SMI_CARRYING_RATE)",
    ),
    OpenApiParameter("export", str, enum=["csv"], description="csv for a CSV file"),
]
LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object"}}


def csv_response(name: str, rows: list[dict], day: dict | None = None) -> HttpResponse:
    """The figure's table as CSV; ``day`` (the figure's ``reporting_date``) names the date
    in the file name and states it in the ``X-SMI-As-Of`` header (the rows stay plain CSV)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(rows) or ["empty"])
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    dated = f"-{day['as_of']}" if day else ""
    response["Content-Disposition"] = f'attachment; filename="smi-finance-{name}{dated}.csv"'
    if day:
        response["X-SMI-As-Of"] = " ".join(day["statement"].split())
    return response


class FinanceIndexView(ApiView):
    @operation(
        operation_id="finance_index",
        responses={200: OpenApiResponse(LIST_OF_OBJECTS), **errors(403)},
    )
    def get(self, request):
        FinanceScope.for_user(request.user)
        return Response(
            [
                {"name": f.name, "title": f.title, "url": request.build_absolute_uri(f"{f.name}/")}
                for f in FIGURES.values()
            ]
        )


class FinanceFigureView(ApiView):
    @operation(
        operation_id="finance_figure",
        summary="One finance figure (valuation, fx, intercompany, turnover, working-capital, "
        "service, scorecard, continuity, cashflow)",
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(FIGURES)),
            *PARAMETERS,
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="?export=csv"),
            **errors(400, 403, 404),
        },
    )
    def get(self, request, name: str):
        scope = FinanceScope.for_user(request.user)
        if name not in FIGURES:
            raise NotFound(f"no finance figure {name!r}; there are {', '.join(FIGURES)}")
        data = figure_compute(name, scope=scope, params=request.query_params)
        if request.query_params.get("export") == "csv":
            return csv_response(name, table_for(name, data), data.get("reporting_date"))
        return Response(data)


class ExchangeRatesView(ApiView):
    parser_classes = [JSONParser]

    @operation(
        operation_id="exchange_rates",
        parameters=[
            OpenApiParameter("currency", str),
            OpenApiParameter("quote", str),
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiResponse(page_of()), **errors(400, 403)},
    )
    def get(self, request):
        FinanceScope.for_user(request.user)
        qs = ExchangeRate.objects.all()
        for name in ("currency", "quote"):
            if request.query_params.get(name):
                qs = qs.filter(**{name: request.query_params[name].upper()})
        return paginate(
            self,
            request,
            qs.order_by("currency", "quote", "-date", "pk"),
            lambda r: {
                "currency": r.currency,
                "quote": r.quote,
                "date": r.date.isoformat(),
                "rate": str(r.rate),
                "source": r.source,
            },
        )

    @operation(
        operation_id="exchange_rates_load",
        summary='Load rates: {"csv": "currency,quote,date,rate\\nEUR,USD,2026-11-20,1.1566"}',
        request=inline_serializer("RatesLoad", {"csv": serializers.CharField()}),
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403, 409, 415)},
    )
    def post(self, request):
        if not request.user.has_perm("smi_core.add_exchangerate"):
            raise PermissionDenied("loading exchange rates needs the finance role")
        text = request.data.get("csv") if isinstance(request.data, dict) else None
        if not isinstance(text, str):
            from smi_core.exceptions import ApplicationError

            raise ApplicationError(
                'send {"csv": "currency,quote,date,rate\\n..."}', code="bad_body"
            )
        changed = fx_load(text=text, actor=Actor.user(request.user, request), source="api")
        return Response({"changed": changed})
