from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView

from reporting_assistant import views as assistant_views
from reporting_assistant.api import AskView
from smi_core.api import (
    ExceptionsView,
    PositionsView,
    ProposalApproveView,
    ProposalDetailView,
    ProposalRejectView,
    ProposalsView,
)
from smi_core.api_finance import ExchangeRatesView, FinanceFigureView, FinanceIndexView
from smi_core.api_settlement import (
    SettlementApproveView,
    SettlementDetailView,
    SettlementIssueView,
    SettlementMemoView,
    SettlementPrepareView,
    SettlementsView,
)
from smi_core.views_finance import finance_dashboard, finance_simulate
from smi_edi.api import InterchangeCreateView, InterchangeDetailView
from smi_edi.api_orders import (
    OrderConfirmView,
    OrderDetailView,
    OrdersView,
    OutboundView,
    ShipmentsView,
)
from smi_edi.views_as2 import as2_inbound
from smi_ops import health as ops_health
from smi_ops.metrics import metrics


def health(request):
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """Under /api/ a path that names nothing answers in the API's error shape, not HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "not_found", "message": f"nothing at {request.path}"}, status=404
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


handler404 = not_found
handler403 = "smi_core.site.permission_denied"
handler500 = "smi_core.site.server_error"


class RecordId:
    """A database id: at most 18 digits, so a longer number is a 404, never an overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RecordId, "id")


api_v1 = [
    path("api/v1/interchanges/", InterchangeCreateView.as_view(), name="interchange-create"),
    path(
        "api/v1/interchanges/<id:pk>/", InterchangeDetailView.as_view(), name="interchange-detail"
    ),
    path("api/v1/positions/", PositionsView.as_view(), name="positions"),
    path("api/v1/proposals/", ProposalsView.as_view(), name="proposals"),
    path("api/v1/proposals/<id:pk>/", ProposalDetailView.as_view(), name="proposal-detail"),
    path(
        "api/v1/proposals/<id:pk>/approve/", ProposalApproveView.as_view(), name="proposal-approve"
    ),
    path("api/v1/proposals/<id:pk>/reject/", ProposalRejectView.as_view(), name="proposal-reject"),
    path("api/v1/exceptions/", ExceptionsView.as_view(), name="exceptions"),
    # The same view without the trailing slash, kept out of the schema (one operation).
    path("api/v1/assistant/ask", AskView.as_view(schema=None), name="assistant-ask"),
    path("api/v1/assistant/ask/", AskView.as_view()),
    path("api/v1/finance/", FinanceIndexView.as_view(), name="finance"),
    path("api/v1/finance/rates/", ExchangeRatesView.as_view(), name="finance-rates"),
    path("api/v1/finance/<slug:name>/", FinanceFigureView.as_view(), name="finance-figure"),
    path("api/v1/settlements/", SettlementsView.as_view(), name="settlements"),
    path(
        "api/v1/settlements/prepare/",
        SettlementPrepareView.as_view(),
        name="settlement-prepare",
    ),
    path("api/v1/settlements/<id:pk>/", SettlementDetailView.as_view(), name="settlement-detail"),
    path(
        "api/v1/settlements/<id:pk>/approve/",
        SettlementApproveView.as_view(),
        name="settlement-approve",
    ),
    path(
        "api/v1/settlements/<id:pk>/issue/", SettlementIssueView.as_view(), name="settlement-issue"
    ),
    path("api/v1/settlements/<id:pk>/memo/", SettlementMemoView.as_view(), name="settlement-memo"),
    path("api/v1/orders/", OrdersView.as_view(), name="orders"),
    path("api/v1/orders/<id:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("api/v1/orders/<id:pk>/confirm/", OrderConfirmView.as_view(), name="order-confirm"),
    path("api/v1/shipments/", ShipmentsView.as_view(), name="shipments"),
    path("api/v1/outbound/", OutboundView.as_view(), name="outbound"),
]

urlpatterns = [
    path("as2/", as2_inbound, name="as2"),
    path("admin/", admin.site.urls),
    path("finance/", finance_dashboard, name="finance-dashboard"),
    path("finance/simulate/", finance_simulate, name="finance-simulate"),
    path("assistant/", assistant_views.chat, name="assistant"),
    path("assistant/clauses/<str:vector_id>/", assistant_views.clause, name="assistant-clause"),
    path("health/", health, name="health"),
    path("health/live", ops_health.live, name="health-live"),
    path("health/ready", ops_health.ready, name="health-ready"),
    path("metrics", metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    *api_v1,
    path("", include("smi_core.site")),  # the landing page and /api/docs/
]
