"""Prometheus metrics at /metrics.

Two kinds, so the figures are right however many gunicorn workers and Celery workers run:

* counted in the process that sees the event (HTTP requests, task durations and failures):
  prometheus-client's counters and histograms. With several processes, set
  PROMETHEUS_MULTIPROC_DIR (config/gunicorn.py does it under var/) and every process writes
  its own file there, which a scrape sums;
* read from the database and the broker at scrape time (interchanges by partner, activity
  rows, deliveries, 997s overdue, queue depths, oldest backlog): one query each, the same
  answer from any worker.
"""

from __future__ import annotations

import hmac
import os
import time
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter(
    "smi_http_requests_total", "HTTP requests answered, by view and status", ["view", "status"]
)
REQUEST_SECONDS = Histogram(
    "smi_http_request_duration_seconds", "Time to answer an HTTP request, by view", ["view"]
)
TASK_SECONDS = Histogram(
    "smi_celery_task_duration_seconds",
    "Run time of a Celery task, by task name",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
TASKS = Counter(
    "smi_celery_tasks_total",
    "Celery tasks finished, by task name and state (succeeded, failed, retried)",
    ["task", "state"],
)

# The text format every Prometheus server reads (2.x and 3.x); generate_latest writes it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in lists of their own.
_REDIS_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class RequestMetricsMiddleware:
    """Counts every request by the URL pattern's name (never the raw path: ids would make a
    series each) and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        REQUESTS.labels(view=view, status=str(response.status_code)).inc()
        REQUEST_SECONDS.labels(view=view).observe(time.perf_counter() - started)
        return response


def process_registry() -> CollectorRegistry:
    """This process's counters, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def queue_names() -> list[str]:
    from config.celery import QUEUES

    return ["celery", *QUEUES]


def queue_depths() -> dict[str, int] | None:
    """Messages waiting in each Celery queue (Redis broker only; None otherwise)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith(
        ("redis://", "rediss://")
    ):
        return None
    import redis

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=settings.SMI_HEALTH_TIMEOUT,
        socket_timeout=settings.SMI_HEALTH_TIMEOUT,
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            names = queue_names()
            for name in names:
                for suffix in _REDIS_PRIORITY_SUFFIXES:
                    pipe.llen(name + suffix)
            counts = pipe.execute()
    finally:
        client.close()
    step = len(_REDIS_PRIORITY_SUFFIXES)
    return {name: sum(counts[i * step : (i + 1) * step]) for i, name in enumerate(names)}


def oldest_unprocessed_interchange_age(now) -> float | None:
    """Seconds since the oldest interchange short of a final state was received."""
    from django.db.models import Min, Q

    from smi_edi.models import Interchange
    from smi_edi.services.interchanges import UNFINISHED

    oldest = Interchange.objects.filter(
        Q(status__in=UNFINISHED) | Q(status=Interchange.Status.APPLIED, processed_at__isnull=True)
    ).aggregate(at=Min("received_at"))["at"]
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


def oldest_undelivered_outbound_age(now) -> float | None:
    """Seconds since the oldest outbound document still queued for delivery was made."""
    from django.db.models import Min

    from smi_edi.models import OutboundDocument

    oldest = OutboundDocument.objects.filter(status=OutboundDocument.Status.QUEUED).aggregate(
        at=Min("created_at")
    )["at"]
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


class DatabaseCollector:
    """Figures read at scrape time from the database and the broker."""

    def collect(self):
        from django.db.models import Count, F, Q, Sum, Value
        from django.db.models.functions import Coalesce
        from django.utils import timezone

        from smi_edi.models import Interchange, OutboundDocument, WebhookDelivery

        now = timezone.now()
        S = Interchange.Status
        received = CounterMetricFamily(
            "smi_interchanges_received",
            "Interchanges received, by sending partner",
            labels=["partner"],
        )
        applied = CounterMetricFamily(
            "smi_interchanges_applied",
            "Interchanges applied, by sending partner",
            labels=["partner"],
        )
        rejected = CounterMetricFamily(
            "smi_interchanges_rejected",
            "Interchanges rejected, by sending partner",
            labels=["partner"],
        )
        failed = GaugeMetricFamily(
            "smi_interchanges_failed",
            "Interchanges in the failed state, by sending partner",
            labels=["partner"],
        )
        rows = CounterMetricFamily(
            "smi_activity_rows_applied",
            "852 activity rows applied, by sending partner",
            labels=["partner"],
        )
        per_partner = (
            Interchange.objects.order_by()
            .annotate(partner=Coalesce(F("sender__party__code"), F("sender_isa"), Value("")))
            .values("partner")
            .annotate(
                total=Count("pk"),
                applied=Count("pk", filter=Q(status=S.APPLIED)),
                rejected=Count("pk", filter=Q(status=S.REJECTED)),
                failed=Count("pk", filter=Q(status=S.FAILED)),
                rows=Sum("activity_rows"),
            )
        )
        for entry in per_partner:
            partner = entry["partner"] or "unknown"
            received.add_metric([partner], entry["total"])
            applied.add_metric([partner], entry["applied"])
            rejected.add_metric([partner], entry["rejected"])
            failed.add_metric([partner], entry["failed"])
            rows.add_metric([partner], entry["rows"] or 0)
        yield from (received, applied, rejected, failed, rows)

        overdue_after = now - timedelta(seconds=settings.SMI_DELIVERY_OVERDUE_AFTER)
        pending = GaugeMetricFamily(
            "smi_deliveries_pending",
            "Outbound documents queued for delivery, by type",
            labels=["set_id"],
        )
        overdue = GaugeMetricFamily(
            "smi_deliveries_overdue",
            "Outbound documents queued for longer than SMI_DELIVERY_OVERDUE_AFTER, by type",
            labels=["set_id"],
        )
        gave_up = GaugeMetricFamily(
            "smi_deliveries_failed",
            "Outbound documents whose delivery gave up, by type",
            labels=["set_id"],
        )
        by_type = (
            OutboundDocument.objects.order_by()
            .values("set_id")
            .annotate(
                pending=Count("pk", filter=Q(status=OutboundDocument.Status.QUEUED)),
                overdue=Count(
                    "pk",
                    filter=Q(status=OutboundDocument.Status.QUEUED, created_at__lt=overdue_after),
                ),
                failed=Count("pk", filter=Q(status=OutboundDocument.Status.FAILED)),
            )
        )
        for entry in by_type:
            pending.add_metric([entry["set_id"]], entry["pending"])
            overdue.add_metric([entry["set_id"]], entry["overdue"])
            gave_up.add_metric([entry["set_id"]], entry["failed"])
        yield from (pending, overdue, gave_up)

        acks = GaugeMetricFamily(
            "smi_acknowledgments_overdue",
            "Documents we sent whose 997/999 is past the partner's window, by partner",
            labels=["partner"],
        )
        A = OutboundDocument.AckStatus
        late = (
            OutboundDocument.objects.order_by()
            .filter(
                Q(ack_status=A.OVERDUE)
                | Q(status=OutboundDocument.Status.SENT, ack_status=A.AWAITING, ack_due_at__lt=now)
            )
            .values("partner__party__code")
            .annotate(n=Count("pk"))
        )
        for entry in late:
            acks.add_metric([entry["partner__party__code"]], entry["n"])
        yield acks

        webhooks = GaugeMetricFamily(
            "smi_webhooks_pending", "Webhook events not yet accepted by the supplier's ERP"
        )
        webhooks.add_metric([], WebhookDelivery.objects.filter(status="pending").count())
        yield webhooks

        for name, age, text in (
            (
                "smi_interchange_oldest_unprocessed_age_seconds",
                oldest_unprocessed_interchange_age(now),
                "Age of the oldest interchange short of a final state (0: none)",
            ),
            (
                "smi_outbound_oldest_undelivered_age_seconds",
                oldest_undelivered_outbound_age(now),
                "Age of the oldest outbound document still queued (0: none)",
            ),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], age or 0.0)
            yield gauge

        depths = GaugeMetricFamily(
            "smi_celery_queue_length",
            "Messages waiting in a Celery queue (Redis)",
            labels=["queue"],
        )
        up = GaugeMetricFamily("smi_broker_up", "1 when the broker answered this scrape")
        try:
            counts = queue_depths()
        except Exception:
            counts = None
            up.add_metric([], 0)
            yield up
        else:
            if counts is not None:
                up.add_metric([], 1)
                yield up
                for queue, count in counts.items():
                    depths.add_metric([queue], count)
                yield depths


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(DatabaseCollector())


def allowed(request: HttpRequest) -> bool:
    token = settings.SMI_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    return request.META.get("REMOTE_ADDR", "") in settings.SMI_METRICS_ALLOWED_IPS


def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse(
            "metrics need the SMI_METRICS_TOKEN bearer token or an address in "
            "SMI_METRICS_ALLOWED_IPS\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    body = generate_latest(process_registry()) + generate_latest(_database_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE)
