"""/health/live and /health/ready: what a load balancer reads."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from smi_edi.models import Interchange, OutboundDocument
from tests.factories import TradingPartnerFactory

pytestmark = pytest.mark.django_db


def _interchange(partner, status, age: timedelta, **fields) -> Interchange:
    made = Interchange.objects.create(
        transport="cli",
        sha256="0" * 64,
        size=1,
        raw_file="x",
        sender=partner,
        status=status,
        **fields,
    )
    Interchange.objects.filter(pk=made.pk).update(received_at=timezone.now() - age)
    return made


def _outbound(partner, status, age: timedelta, set_id="855", **fields) -> OutboundDocument:
    made = OutboundDocument.objects.create(
        partner=partner,
        set_id=set_id,
        functional_id="PR",
        version="004010",
        interchange_control_number="1",
        group_control_number="1",
        set_control_number="0001",
        segments=[],
        raw_file="x",
        sha256="0" * 64,
        size=1,
        created_by="test",
        status=status,
        **fields,
    )
    OutboundDocument.objects.filter(pk=made.pk).update(created_at=timezone.now() - age)
    return made


def test_live_answers_without_asking_anything_else(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_is_200_with_the_database_and_an_empty_backlog(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["interchanges"]["oldest_age_seconds"] is None
    assert "broker" not in body["checks"]  # eager tasks: no broker configured
    assert "chroma" not in body["checks"]


def test_ready_is_503_when_an_interchange_waits_longer_than_the_threshold(client, settings):
    settings.SMI_READY_MAX_INTERCHANGE_AGE = 600
    partner = TradingPartnerFactory()
    _interchange(
        partner, Interchange.Status.APPLIED, timedelta(hours=5), processed_at=timezone.now()
    )
    _interchange(partner, Interchange.Status.ACCEPTED, timedelta(minutes=20))

    response = client.get("/health/ready")

    assert response.status_code == 503
    check = response.json()["checks"]["interchanges"]
    assert check["ok"] is False
    assert 1190 < check["oldest_age_seconds"] < 1300  # the accepted one, not the applied one
    assert "limit 600 s" in check["error"]


def test_ready_counts_an_applied_interchange_whose_follow_ups_are_owed(client, settings):
    settings.SMI_READY_MAX_INTERCHANGE_AGE = 600
    _interchange(TradingPartnerFactory(), Interchange.Status.APPLIED, timedelta(hours=1))

    assert client.get("/health/ready").status_code == 503


def test_ready_is_503_when_an_outbound_document_stays_undelivered(client, settings):
    settings.SMI_READY_MAX_OUTBOUND_AGE = 3600
    partner = TradingPartnerFactory()
    _outbound(partner, OutboundDocument.Status.SENT, timedelta(days=3))
    _outbound(partner, OutboundDocument.Status.QUEUED, timedelta(minutes=30))

    assert client.get("/health/ready").status_code == 200

    _outbound(partner, OutboundDocument.Status.QUEUED, timedelta(hours=2))
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["outbound"]["ok"] is False


def test_a_threshold_of_zero_reports_the_age_without_failing(client, settings):
    settings.SMI_READY_MAX_INTERCHANGE_AGE = 0
    _interchange(TradingPartnerFactory(), Interchange.Status.RECEIVED, timedelta(days=2))

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["interchanges"]["oldest_age_seconds"] > 170_000


def test_ready_is_503_when_the_configured_broker_does_not_answer(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.SMI_HEALTH_TIMEOUT = 0.5
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_ready_asks_the_broker_when_one_is_configured(client, settings, redis_url):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url

    response = client.get("/health/ready")

    assert response.json()["checks"]["broker"] == {"ok": True}
    assert response.status_code == 200


class _Chroma(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/api/v2/heartbeat" else 404)
        self.end_headers()
        self.wfile.write(b'{"nanosecond heartbeat": 1}')

    def log_message(self, *args):
        pass


@pytest.fixture
def chroma_server():
    server = HTTPServer(("127.0.0.1", 0), _Chroma)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_ready_asks_the_chroma_server_when_chroma_url_is_set(client, settings, chroma_server):
    settings.CHROMA_URL = chroma_server

    assert client.get("/health/ready").json()["checks"]["chroma"]["ok"] is True

    settings.CHROMA_URL = "http://127.0.0.1:1"
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["chroma"]["ok"] is False
