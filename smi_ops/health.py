"""Health for a load balancer or an orchestrator.

* ``/health/live``: the process answers (no dependency checked: restarting it would not
  mend a database outage).
* ``/health/ready``: the database, the broker (when one is configured), the Chroma server
  (when CHROMA_URL is set), and the backlog: the oldest unprocessed interchange and the
  oldest undelivered outbound document against SMI_READY_MAX_INTERCHANGE_AGE and
  SMI_READY_MAX_OUTBOUND_AGE. 200 when every check passes, 503 otherwise; the JSON body
  says which failed and why.
"""

from __future__ import annotations

import urllib.request

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from smi_ops.metrics import oldest_undelivered_outbound_age, oldest_unprocessed_interchange_age


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # no broker configured: tasks run in-process
    from config.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.SMI_HEALTH_TIMEOUT)
    return {"ok": True}


def check_chroma() -> dict | None:
    if not settings.CHROMA_URL:
        return None
    url = settings.CHROMA_URL.rstrip("/") + "/api/v2/heartbeat"
    with urllib.request.urlopen(url, timeout=settings.SMI_HEALTH_TIMEOUT) as response:
        status = response.status
    return {"ok": 200 <= status < 300, "status": status}


def _backlog(age: float | None, limit: int, what: str) -> dict:
    result: dict = {"ok": True, "oldest_age_seconds": None if age is None else round(age, 1)}
    if limit:
        result["max_age_seconds"] = limit
        if age is not None and age > limit:
            result["ok"] = False
            result["error"] = f"the oldest {what} is {age:.0f} s old (limit {limit} s)"
    return result


def readiness() -> dict:
    checks: dict = {}
    for name, check in (
        ("database", check_database),
        ("broker", check_broker),
        ("chroma", check_chroma),
    ):
        try:
            result = check()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        if result is not None:
            checks[name] = result
    if checks["database"]["ok"]:
        now = timezone.now()
        try:
            checks["interchanges"] = _backlog(
                oldest_unprocessed_interchange_age(now),
                settings.SMI_READY_MAX_INTERCHANGE_AGE,
                "unprocessed interchange",
            )
            checks["outbound"] = _backlog(
                oldest_undelivered_outbound_age(now),
                settings.SMI_READY_MAX_OUTBOUND_AGE,
                "undelivered outbound document",
            )
        except Exception as exc:
            checks["backlog"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "fail", "checks": checks}


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    body = readiness()
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
