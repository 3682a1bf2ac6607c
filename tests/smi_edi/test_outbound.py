"""Every outbound document: delivered to a folder and/or an HTTP endpoint with attempts
recorded, matched to the partner's 997/999, flagged when no acknowledgment comes, resent
under new control numbers; and the signed webhook to the supplier's ERP."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from smi_core.models import AuditEvent, ExceptionItem
from smi_core.services.audit import Actor
from smi_edi.models import OutboundDocument, WebhookDelivery
from smi_edi.services.order_documents import order_acknowledge, order_ship
from smi_edi.services.outbound import (
    outbound_deliver,
    outbound_delivery_gave_up,
    outbound_overdue_check,
    outbound_resend,
)
from smi_edi.services.raw_store import raw_path
from tests.orders import approved_order, build_world
from tests.pipeline import ingest

pytestmark = pytest.mark.django_db
D = OutboundDocument


class Endpoint:
    """A real HTTP server on a free port that records what it is sent."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[tuple] = []  # (headers, case-insensitive; body)
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                endpoint.requests.append((self.headers, self.rfile.read(length)))
                self.send_response(endpoint.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/edi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def _855(world) -> OutboundDocument:
    order = approved_order(world)
    return order_acknowledge(order_id=order.pk, actor=Actor.system("test"))


def test_a_partner_with_an_endpoint_gets_the_document_by_http_post(world, endpoint):
    world.buyer.endpoint_url = endpoint.url
    world.buyer.save()

    document = _855(world)

    document.refresh_from_db()
    assert document.status == D.Status.SENT and document.sent_at is not None
    headers, data = endpoint.requests[0]
    assert data == raw_path(document.raw_file).read_bytes()
    assert headers["Content-Type"] == "application/edi-x12"
    assert [(a.channel, a.ok, a.http_status) for a in document.delivery_attempts.all()] == [
        ("http", True, 200)
    ]
    assert document.ack_due_at == document.sent_at + timedelta(hours=24)


def test_a_refusing_endpoint_leaves_the_document_queued_with_the_attempt_recorded(world):
    server = Endpoint(status=503)
    try:
        world.buyer.endpoint_url = server.url
        world.buyer.outbox_dir = str(raw_path("x").parent.parent / "gateway")
        world.buyer.save()

        document = _855(world)

        document.refresh_from_db()
        assert document.status == D.Status.QUEUED
        attempts = {a.channel: (a.ok, a.http_status) for a in document.delivery_attempts.all()}
        assert attempts == {"folder": (True, None), "http": (False, 503)}

        server.status = 200
        outbound_deliver(document_id=document.pk)

        document.refresh_from_db()
        assert document.status == D.Status.SENT
        assert len(server.requests) == 2  # the folder, already written, was not written again
        assert document.delivery_attempts.filter(channel="folder").count() == 1
    finally:
        server.close()


def test_delivery_that_gives_up_fails_visibly(world):
    world.buyer.endpoint_url = "http://127.0.0.1:9/nothing-listens-here"
    world.buyer.save()
    document = _855(world)

    outbound_delivery_gave_up(document_id=document.pk, reason="no answer")

    document.refresh_from_db()
    assert document.status == D.Status.FAILED and "no answer" in document.status_reason
    assert ExceptionItem.objects.filter(kind="delivery_failed").count() == 1


def _997(world, groups: list[tuple[str, str, str, str, str]], control: int = 501) -> bytes:
    """A 997 from the buyer: per group (GS01, GS06, ST01, ST02, AK5 code) one AK1..AK9."""
    segments = []
    for n, (functional_id, gs06, set_id, st02, code) in enumerate(groups, start=1):
        body = [f"AK1*{functional_id}*{gs06}", f"AK2*{set_id}*{st02}"]
        if code == "R":
            body += ["AK3*PO1*4**8", "AK4*2*330*1", "AK5*R*5"]
        else:
            body += [f"AK5*{code}"]
        body += [f"AK9*{'R' if code == 'R' else 'A'}*1*1*{0 if code == 'R' else 1}"]
        segments.append([f"ST*997*{n:04d}", *body, f"SE*{len(body) + 2}*{n:04d}"])
    lines = [
        "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261126*0900*U*00401*"
        f"{control:09d}*0*P*>",
        f"GS*FA*DEMORETAIL*ACMESUPPLY*20261126*0900*{control}*X*004010",
    ]
    for seg in segments:
        lines += seg
    lines += [f"GE*{len(segments)}*{control}", f"IEA*1*{control:09d}"]
    return ("~".join(lines) + "~").encode()


def test_a_997_rejecting_one_of_our_sets_marks_exactly_that_document_rejected(world):
    shipper = world.users["shipper"]
    ack = _855(world)
    order = approved_order(world)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    _, asn = order_ship(po_number=order.po_number, user=shipper, actor=Actor.user(shipper))
    others = set(D.objects.exclude(pk__in=[ack.pk, asn.pk]).values_list("pk", flat=True))

    interchange = ingest(
        _997(
            world,
            [
                ("PR", ack.group_control_number, "855", ack.set_control_number, "R"),
                ("SH", asn.group_control_number, "856", asn.set_control_number, "A"),
            ],
        )
    )

    assert interchange.ack == ""  # acknowledgments are not acknowledged
    ack.refresh_from_db()
    asn.refresh_from_db()
    assert ack.ack_status == D.AckStatus.REJECTED and ack.ack_interchange_id == interchange.pk
    assert any("330" in reason or "PO1" in reason for reason in ack.ack_errors)
    assert asn.ack_status == D.AckStatus.ACCEPTED and asn.ack_errors == []
    assert set(D.objects.filter(pk__in=others).values_list("ack_status", flat=True)) <= {
        D.AckStatus.AWAITING
    }
    assert ExceptionItem.objects.filter(kind="document_rejected").count() == 1


def test_a_997_for_a_group_we_never_sent_opens_an_exception(world):
    _855(world)

    ingest(_997(world, [("PR", "999999", "855", "0001", "A")]))

    assert ExceptionItem.objects.get(kind="unmatched_ack").subject.endswith("GS06 999999")


def test_the_same_997_twice_is_a_duplicate_and_changes_nothing(world):
    document = _855(world)
    data = _997(
        world, [("PR", document.group_control_number, "855", document.set_control_number, "A")]
    )
    first = ingest(data)

    second = ingest(data, name="again.edi")

    document.refresh_from_db()
    assert document.ack_interchange_id == first.pk and second.is_duplicate


def test_no_acknowledgment_within_the_window_raises_an_exception_once(world):
    document = _855(world)
    later = timezone.now() + timedelta(hours=25)

    assert outbound_overdue_check(now=later) == 1
    assert outbound_overdue_check(now=later) == 0

    document.refresh_from_db()
    assert document.ack_status == D.AckStatus.OVERDUE
    assert ExceptionItem.objects.filter(kind="ack_overdue").count() == 1


def test_a_resend_has_the_same_content_and_new_control_numbers(world):
    document = _855(world)

    again = outbound_resend(document_id=document.pk, actor=Actor.system("ops"))

    assert again.resent_from_id == document.pk
    assert again.segments == document.segments
    assert again.interchange_control_number != document.interchange_control_number
    assert again.set_control_number != document.set_control_number
    old = raw_path(document.raw_file).read_bytes().split(b"~")
    new = raw_path(again.raw_file).read_bytes().split(b"~")
    body = slice(3, -4)  # between ST and SE
    assert old[body] == new[body]
    assert AuditEvent.objects.filter(action="outbound.resend", object_id=str(document.pk)).exists()


def test_an_approved_order_is_announced_to_the_erp_signed(world, endpoint):
    world.supplier.webhook_url = endpoint.url
    world.supplier.save()

    order = approved_order(world)

    delivery = WebhookDelivery.objects.get(order=order)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    headers, data = endpoint.requests[0]
    expected = hmac.new(world.supplier.webhook_secret.encode(), data, hashlib.sha256).hexdigest()
    assert headers["X-SMI-Signature"] == f"sha256={expected}"
    payload = json.loads(data)
    assert payload["event"] == "order.approved"
    assert payload["order"]["po_number"] == order.po_number
    assert [line["approved_quantity"] for line in payload["order"]["lines"]] == ["24", "12"]


def test_a_webhook_the_erp_refuses_stays_pending_for_a_retry(world):
    server = Endpoint(status=500)
    try:
        world.supplier.webhook_url = server.url
        world.supplier.save()

        order = approved_order(world)

        delivery = WebhookDelivery.objects.get(order=order)
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert delivery.attempts == 1 and delivery.last_http_status == 500
    finally:
        server.close()


def test_the_admin_shows_documents_attempts_and_resends_one(world, client):
    from tests.orders import person

    document = _855(world)
    operator = person("operator", "partner_manager")
    client.force_login(operator)

    listing = client.get("/admin/smi_edi/outbounddocument/?ack_status=awaiting")
    page = client.get(f"/admin/smi_edi/outbounddocument/{document.pk}/change/")
    order = client.get(f"/admin/smi_core/replenishmentproposal/{document.order_id}/change/")
    resent = client.post(
        "/admin/smi_edi/outbounddocument/",
        {"action": "resend", "_selected_action": [document.pk]},
        follow=True,
    )

    assert listing.status_code == 200 and document.interchange_control_number in listing.text
    assert "BAK*00*AD*" in page.text and "wrote " in page.text  # raw document and attempt
    assert order.status_code == 403  # a partner manager may not open proposals
    assert D.objects.filter(resent_from=document).count() == 1
    assert "resent as" in resent.text


def test_an_auditor_finds_the_approval_by_the_isa_control_number_of_its_855(world, client):
    from tests.orders import person

    document = _855(world)
    client.force_login(person("auditor", "auditor"))

    found = client.get(f"/admin/smi_core/approval/?q={document.interchange_control_number}")
    order = client.get(f"/admin/smi_core/replenishmentproposal/{document.order_id}/change/")

    approval = found.context["cl"].result_list[0]  # the list shows the PO; the page the ISA13
    detail = client.get(f"/admin/smi_core/approval/{approval.pk}/change/")

    assert found.status_code == 200
    assert document.order.po_number in found.text
    assert f"855 {document.interchange_control_number}" in detail.text
    assert "1 approval" in found.text or "1 result" in found.text
    assert f"855 #{document.pk}" in order.text and "Awaiting 997/999" in order.text
