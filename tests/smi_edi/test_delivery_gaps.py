"""Gaps an audit found: refused deliveries retried by the beat sweep after their backoff
(in-process too) up to the limit; webhooks re-sent until the ERP answers, with a capped
backoff, and announced even when the process died right after the approval's commit; the
buyer's 850 linked within the supplier it was sent to."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.celery import app as celery_app
from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    ProposalStatusChange,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.services.audit import Actor
from smi_edi.models import DeliveryAttempt, OutboundDocument, WebhookDelivery
from smi_edi.services.order_documents import order_acknowledge
from smi_edi.services.outbound import delivery_backoff, outbound_redeliver_due
from smi_edi.services.partners import partner_add
from smi_edi.services.webhooks import webhooks_redeliver_due
from smi_edi.tasks import outbound_redeliver_queued, webhooks_redeliver
from tests.factories import ItemFactory
from tests.orders import World, approved_order, build_world
from tests.pipeline import ingest
from tests.smi_edi.test_orders import SAMPLE_850
from tests.smi_edi.test_outbound import Endpoint

pytestmark = pytest.mark.django_db
D = OutboundDocument
W = WebhookDelivery


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


@pytest.fixture
def server():
    endpoint = Endpoint(status=503)
    yield endpoint
    endpoint.close()


def _855(world) -> OutboundDocument:
    order = approved_order(world)
    document = order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    document.refresh_from_db()
    return document


def _age_attempts(document: OutboundDocument, by: timedelta) -> None:
    DeliveryAttempt.objects.filter(document=document).update(at=F("at") - by)


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [(1, 1), (2, 2), (3, 4), (8, 128), (9, 240), (500, 240)],
    ids=["first", "second", "third", "eighth", "capped", "far-beyond"],
)
def test_the_backoff_doubles_from_one_minute_up_to_four_hours(attempts, minutes):
    assert delivery_backoff(attempts) == timedelta(minutes=minutes)


def test_the_retry_sweeps_run_on_beat_every_few_minutes():
    schedule = celery_app.conf.beat_schedule

    assert schedule["outbound-redeliver"]["task"] == "smi_edi.outbound_redeliver_queued"
    assert schedule["webhooks-redeliver"]["task"] == "smi_edi.webhooks_redeliver"
    assert schedule["outbound-redeliver"]["schedule"] <= 300
    assert schedule["webhooks-redeliver"]["schedule"] <= 300


def test_a_refused_delivery_is_retried_by_beat_once_its_backoff_passed(world, server):
    world.buyer.endpoint_url = server.url
    world.buyer.save()
    document = _855(world)  # in-process: the first attempt already ran, and failed
    assert (document.status, document.attempts) == (D.Status.QUEUED, 1)
    server.status = 200

    assert outbound_redeliver_queued() == 0  # not before a minute has passed
    _age_attempts(document, timedelta(seconds=61))
    assert outbound_redeliver_queued() == 1

    document.refresh_from_db()
    assert (document.status, document.attempts) == (D.Status.SENT, 2)
    assert [r[1] for r in server.requests] == [server.requests[0][1]] * 2


def test_deliveries_retry_sends_what_is_due_for_installations_without_beat(world, server):
    world.buyer.endpoint_url = server.url
    world.buyer.save()
    document = _855(world)
    server.status = 200
    _age_attempts(document, timedelta(minutes=2))
    out = StringIO()

    call_command("deliveries_retry", stdout=out)

    document.refresh_from_db()
    assert document.status == D.Status.SENT
    assert out.getvalue().strip() == "outbound documents: 1; webhooks: 0"


def test_an_unwritable_outbox_is_retried_and_the_document_arrives_when_it_is_fixed(world, tmp_path):
    blocker = tmp_path / "gateway"
    blocker.write_text("a file where the folder should be")
    world.buyer.outbox_dir = str(blocker / "in")
    world.buyer.save()
    document = _855(world)
    assert (document.status, document.attempts) == (D.Status.QUEUED, 1)

    blocker.unlink()
    _age_attempts(document, timedelta(minutes=2))
    outbound_redeliver_queued()

    document.refresh_from_db()
    assert document.status == D.Status.SENT
    assert len(list((blocker / "in").glob("855-*.x12"))) == 1


def test_retries_wait_their_backoff_and_stop_at_the_limit_with_an_exception(world, server):
    world.buyer.endpoint_url = server.url
    world.buyer.save()
    document = _855(world)
    waits = []

    while document.status == D.Status.QUEUED:
        last = document.delivery_attempts.order_by("-at").first().at
        wait = delivery_backoff(document.attempts)
        assert outbound_redeliver_due(now=last + wait - timedelta(seconds=1)) == []
        assert outbound_redeliver_due(now=last + wait) == [document.pk]
        waits.append(int(wait.total_seconds() // 60))
        document.refresh_from_db()

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128]
    assert document.status == D.Status.FAILED and document.attempts == 9
    assert "HTTP 503" in document.status_reason
    assert len(server.requests) == 9
    assert ExceptionItem.objects.filter(kind="delivery_failed").count() == 1
    assert outbound_redeliver_due(now=timezone.now() + timedelta(days=1)) == []


def test_a_refused_webhook_is_sent_again_without_end_until_the_erp_answers(world, server):
    world.supplier.webhook_url = server.url
    world.supplier.save()
    order = approved_order(world)
    delivery = WebhookDelivery.objects.get(order=order)
    assert (delivery.status, delivery.attempts) == (W.Status.PENDING, 1)

    for _ in range(11):  # beyond the 8 retries a task used to give up after
        wait = delivery_backoff(delivery.attempts)
        assert webhooks_redeliver_due(now=delivery.last_attempt_at + wait / 2) == []
        assert webhooks_redeliver_due(now=delivery.last_attempt_at + wait) == [delivery.pk]
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (W.Status.PENDING, 12)
    assert delivery_backoff(delivery.attempts) == timedelta(hours=4)

    server.status = 200
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_attempt_at=F("last_attempt_at") - timedelta(hours=4)
    )
    assert webhooks_redeliver() == 1

    delivery.refresh_from_db()
    assert delivery.status == W.Status.DELIVERED and delivery.attempts == 13
    assert len(server.requests) == 13
    assert webhooks_redeliver() == 0


def test_an_approval_whose_announcement_was_lost_after_commit_is_announced(
    world, server, monkeypatch
):
    world.supplier.webhook_url = server.url
    world.supplier.save()
    server.status = 200
    # The process dies right after the approval commits: its on-commit hooks never run.
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    order = approved_order(world)
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
    assert server.requests == []
    eleven_minutes_later = timedelta(minutes=11)
    ProposalStatusChange.objects.filter(proposal=order).update(at=F("at") - eleven_minutes_later)
    WebhookDelivery.objects.filter(order=order).update(
        created_at=F("created_at") - eleven_minutes_later
    )

    webhooks_redeliver()
    webhooks_redeliver()

    delivery = WebhookDelivery.objects.get(order=order)
    assert delivery.status == W.Status.DELIVERED and delivery.event == "order.approved"
    assert len(server.requests) == 1


def test_the_buyers_850_is_linked_within_the_supplier_it_was_sent_to(world):
    # Another supplier, sorting first, with the same vendor item numbers and an older
    # approved order for the same buyer and store.
    other, _ = partner_add(
        code="aaa-supply", name="AAA Supply", isa="ZZ:AAASUPPLY", role="supplier"
    )
    items = [
        ItemFactory(supplier=other.party, vendor_item=f"ACME-100{n}", gtin="") for n in (1, 2, 3)
    ]
    agreement = SupplyAgreement.objects.create(
        code="aaa-demo",
        buyer=world.buyer.party,
        supplier=other.party,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    for item in items:
        AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=Decimal("2.40"))
    others = World(other, world.buyer, "", "", world.stores, items, agreement, world.users)
    quantities = (Decimal(24), Decimal(50), Decimal(12))
    theirs = approved_order(others, quantities)
    ours = approved_order(world, quantities)

    interchange = ingest(SAMPLE_850.read_bytes(), name="po.edi")  # sent to ACMESUPPLY

    assert interchange.status == "applied"
    ours = ReplenishmentProposal.objects.get(pk=ours.pk)
    theirs = ReplenishmentProposal.objects.get(pk=theirs.pk)
    assert (ours.po_number, ours.po_source) == ("PO-1001", "850")
    assert theirs.po_source == "smi" and theirs.po_number != "PO-1001"
    assert {line.item.supplier_id for line in ours.lines.select_related("item")} == {
        world.supplier.party_id
    }
    assert ours.lines.get(item=world.items[1]).ordered_quantity == Decimal(48)
