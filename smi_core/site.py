"""The pages around the apps: the landing page at ``/``, the navigation every page of ours
shows (by the user's roles), the API documentation page and the 403/404/500 pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

FINANCE_ROLES = {"finance", "auditor"}


def _roles(user) -> set[str]:
    from smi_core.services.roles import role_names

    return role_names(user)


def nav_links(user) -> list[dict]:
    """The places this user may go: the admin for staff, the finance dashboard and the
    assistant for finance users and auditors (as FinanceScope decides), the API
    documentation for anyone signed in."""
    if user is None or not user.is_authenticated:
        return []
    roles = _roles(user)
    finance = user.is_superuser or bool(roles & FINANCE_ROLES)
    links = [{"key": "home", "url": "/", "text": "Home", "about": "this page"}]
    if user.is_staff:
        links.append(
            {
                "key": "admin",
                "url": "/admin/",
                "text": "Admin",
                "about": "proposals, approvals, orders, exceptions, partners and the audit trail",
            }
        )
    if finance:
        links += [
            {
                "key": "finance",
                "url": "/finance/",
                "text": "Finance",
                "about": "inventory value, turnover, cash-out and FX, as of a date",
            },
            {
                "key": "simulate",
                "url": "/finance/simulate/",
                "text": "Simulation",
                "about": "replay the planning policy with other assumptions",
            },
            {
                "key": "assistant",
                "url": "/assistant/",
                "text": "Assistant",
                "about": "ask about the figures and the agreements in plain words",
            },
        ]
    links.append(
        {
            "key": "api-docs",
            "url": "/api/docs/",
            "text": "API documentation",
            "about": "every endpoint of the REST API, to read and to try",
        }
    )
    return links


def navigation(request) -> dict:
    """Context processor: ``nav_links`` for the shared navigation bar."""
    user = getattr(request, "user", None)
    return {"nav_links": nav_links(user), "nav_path": getattr(request, "path", "")}


@login_required(login_url="/admin/login/")
def landing(request):
    roles = sorted(_roles(request.user))
    return render(
        request,
        "smi/landing.html",
        {"roles": roles, "links": [link for link in nav_links(request.user)[1:]]},
    )


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI from the project's own static files (drf-spectacular-sidecar), no CDN."""

    template_name = "smi/api_docs.html"


api_docs = login_required(ApiDocsView.as_view(url_name="schema"), login_url="/admin/login/")


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"error": "permission_denied", "message": str(exception or "not allowed")}, status=403
        )
    message = str(exception or "") or "You do not have access to this page."
    return render(request, "403.html", {"message": message}, status=403)


def server_error(request):
    """Rendered without the database or the user (the error may be theirs): plain links."""
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({}))


urlpatterns = [
    path("", landing, name="landing"),
    path("api/docs/", api_docs, name="api-docs"),
]
