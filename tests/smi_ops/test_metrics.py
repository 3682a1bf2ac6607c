"""/metrics: Prometheus text with what an operator watches, computed at scrape time from the
database (right whichever worker answers), and kept from strangers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from smi_edi.models import Interchange, OutboundDocument
from tests.factories import PartyFactory, TradingPartnerFactory
from tests.smi_ops.test_health import _interchange, _outbound

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_interchanges_and_activity_rows_are_counted_by_partner(client):
    acme = TradingPartnerFactory(party=PartyFactory(code="acme"))
    mart = TradingPartnerFactory(party=PartyFactory(code="mart"))
    now = timezone.now()
    _interchange(
        acme, Interchange.Status.APPLIED, timedelta(0), processed_at=now, activity_rows=120
    )
    _interchange(acme, Interchange.Status.APPLIED, timedelta(0), processed_at=now, activity_rows=30)
    _interchange(acme, Interchange.Status.REJECTED, timedelta(0))
    _interchange(mart, Interchange.Status.APPLIED, timedelta(0), processed_at=now, activity_rows=7)

    samples = scrape(client)

    assert samples[("smi_interchanges_received_total", (("partner", "acme"),))] == 3
    assert samples[("smi_interchanges_applied_total", (("partner", "acme"),))] == 2
    assert samples[("smi_interchanges_rejected_total", (("partner", "acme"),))] == 1
    assert samples[("smi_activity_rows_applied_total", (("partner", "acme"),))] == 150
    assert samples[("smi_activity_rows_applied_total", (("partner", "mart"),))] == 7


def test_deliveries_pending_overdue_and_997s_overdue(client, settings):
    settings.SMI_DELIVERY_OVERDUE_AFTER = 3600
    partner = TradingPartnerFactory(party=PartyFactory(code="acme"))
    _outbound(partner, OutboundDocument.Status.QUEUED, timedelta(minutes=5), set_id="997")
    _outbound(partner, OutboundDocument.Status.QUEUED, timedelta(hours=3), set_id="997")
    _outbound(partner, OutboundDocument.Status.QUEUED, timedelta(hours=3), set_id="855")
    past = timezone.now() - timedelta(hours=1)
    awaiting = OutboundDocument.AckStatus.AWAITING
    _outbound(partner, "sent", timedelta(days=1), ack_status=awaiting, ack_due_at=past)
    _outbound(partner, "sent", timedelta(days=1), ack_status=OutboundDocument.AckStatus.OVERDUE)
    future = timezone.now() + timedelta(hours=1)
    _outbound(partner, "sent", timedelta(hours=1), ack_status=awaiting, ack_due_at=future)

    samples = scrape(client)

    assert samples[("smi_deliveries_pending", (("set_id", "997"),))] == 2
    assert samples[("smi_deliveries_overdue", (("set_id", "997"),))] == 1
    assert samples[("smi_deliveries_overdue", (("set_id", "855"),))] == 1
    assert samples[("smi_acknowledgments_overdue", (("partner", "acme"),))] == 2
    assert 10_700 < samples[("smi_outbound_oldest_undelivered_age_seconds", ())] < 11_000


def test_requests_are_counted_by_view_and_status(client):
    before = scrape(client).get(
        ("smi_http_requests_total", (("status", "200"), ("view", "health-live"))), 0
    )
    client.get("/health/live")
    client.get("/health/live")
    client.get("/api/v1/positions/")  # unauthenticated

    samples = scrape(client)

    assert samples[("smi_http_requests_total", (("status", "200"), ("view", "health-live")))] == (
        before + 2
    )
    assert samples[("smi_http_requests_total", (("status", "401"), ("view", "positions")))] >= 1


def test_tasks_are_counted_by_outcome_with_their_duration(client):
    from celery import shared_task

    @shared_task(name="smi_ops.tests.divide")
    def divide(a: int, b: int) -> float:
        return a / b

    def value(samples, name, **labels):
        return samples.get((name, tuple(sorted(labels.items()))), 0)

    task = "smi_ops.tests.divide"
    before = scrape(client)
    divide.delay(6, 3)
    # as a worker runs it: the error recorded, not raised into the caller
    failed = divide.apply(args=(1, 0), throw=False)
    assert isinstance(failed.result, ZeroDivisionError)

    samples = scrape(client)

    for state, more in (("succeeded", 1), ("failed", 1), ("retried", 0)):
        name = "smi_celery_tasks_total"
        assert value(samples, name, task=task, state=state) == (
            value(before, name, task=task, state=state) + more
        ), state
    count = "smi_celery_task_duration_seconds_count"
    assert value(samples, count, task=task) == value(before, count, task=task) + 2


def test_queue_depths_are_read_from_redis(client, settings, redis_url):
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/14"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = url
    server = redis.Redis.from_url(url)
    server.delete("ingest", "planning", "planning\x06\x163")
    try:
        server.rpush("ingest", "a", "b", "c")
        server.rpush("planning\x06\x163", "a")  # priority 3 lives in a list of its own

        samples = scrape(client)
    finally:
        server.delete("ingest", "planning", "planning\x06\x163")

    assert samples[("smi_celery_queue_length", (("queue", "ingest"),))] == 3
    assert samples[("smi_celery_queue_length", (("queue", "planning"),))] == 1
    assert samples[("smi_celery_queue_length", (("queue", "outbound"),))] == 0
    assert samples[("smi_broker_up", ())] == 1


def test_metrics_refuse_an_address_outside_the_allowed_list(client, settings):
    settings.SMI_METRICS_ALLOWED_IPS = ["10.0.0.9"]

    response = client.get("/metrics")

    assert response.status_code == 403
    assert b"SMI_METRICS_TOKEN" in response.content


def test_metrics_with_a_token_need_that_token(client, settings):
    settings.SMI_METRICS_TOKEN = "s3cret-scrape-token"

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
