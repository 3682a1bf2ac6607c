"""Events for the supplier's ERP: when an order is approved, SMI Hub POSTs it (JSON) to
the supplier's webhook URL, signed with HMAC-SHA256 of the body under the supplier's
webhook secret (header ``X-SMI-Signature: sha256=<hex>``), and retries until the ERP
answers 2xx. The ERP can always fetch the same through ``GET /api/v1/orders/``.

Retries live in the database: a refused delivery stays pending with its last attempt
time, and ``webhooks_redeliver_due`` (Celery beat) sends it again once the backoff (1 min
doubling, capped at 4 h) has passed, without end, until the ERP answers 2xx. The same sweep
announces approved orders whose announcement was never recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ReplenishmentProposal
from smi_edi.models import TradingPartner, WebhookDelivery
from smi_edi.services.outbound import LOST_AFTER, retry_due

W = WebhookDelivery
APPROVED = "order.approved"


class WebhookFailed(ApplicationError):
    code = "webhook_failed"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_order_event(*, event: str, order_id: int) -> WebhookDelivery | None:
    """Queue ``event`` for the order's supplier when it has a webhook URL (once per order
    and event). Called inside the caller's transaction, the delivery row commits with it;
    only the POST waits for the commit."""
    from smi_edi.selectors.orders import order_as_dict

    order = ReplenishmentProposal.objects.select_related("supplier").get(pk=order_id)
    partner = TradingPartner.objects.filter(party=order.supplier).first()
    if partner is None or not partner.webhook_url:
        return None
    existing = WebhookDelivery.objects.filter(order=order, event=event).first()
    if existing is not None:
        return existing
    delivery = WebhookDelivery.objects.create(
        partner=partner,
        event=event,
        order=order,
        url=partner.webhook_url,
        payload={"event": event, "order": order_as_dict(order)},
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk))
    return delivery


def _enqueue(delivery_id: int) -> None:
    from smi_edi.tasks import deliver_webhook

    deliver_webhook.delay(delivery_id)


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_related("partner").get(pk=delivery_id)
    if delivery.status != W.Status.PENDING:
        return delivery
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    request = urllib.request.Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-SMI-Event": delivery.event,
            "X-SMI-Delivery": str(delivery.pk),
            "X-SMI-Signature": signature(delivery.partner.webhook_secret, body),
        },
    )
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    try:
        with urllib.request.urlopen(request, timeout=settings.SMI_HTTP_TIMEOUT) as response:
            delivery.last_http_status = response.status
    except urllib.error.HTTPError as exc:
        delivery.last_http_status = exc.code
        delivery.last_error = f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        delivery.last_error = f"no answer: {getattr(exc, 'reason', exc)}"
    else:
        delivery.status = W.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_http_status",
            "last_error",
            "status",
            "delivered_at",
        ]
    )
    if delivery.status != W.Status.DELIVERED:
        raise WebhookFailed(delivery.last_error)
    return delivery


def webhook_attempt(*, delivery_id: int) -> str:
    """One POST (what the task runs); a refusal leaves the delivery pending for
    ``webhooks_redeliver_due``. Webhooks are never given up."""
    try:
        return webhook_deliver(delivery_id=delivery_id).status
    except WebhookFailed:
        return W.Status.PENDING


def webhooks_redeliver_due(*, now: datetime | None = None) -> list[int]:
    """Send again every pending delivery whose backoff since its last attempt has passed
    (and those never tried whose task was lost), after recording the announcements of
    approved orders that have none (the process died between the approval's commit and
    the hook). Returns the deliveries queued."""
    now = now or timezone.now()
    _announce_missing(before=now - LOST_AFTER)
    pending = (
        WebhookDelivery.objects.filter(status=W.Status.PENDING)
        .only("pk", "attempts", "created_at", "last_attempt_at")
        .order_by("pk")
    )
    due = [d.pk for d in pending if retry_due(d.attempts, d.created_at, d.last_attempt_at, now=now)]
    for delivery_id in due:
        _enqueue(delivery_id)
    return due


def _announce_missing(*, before: datetime) -> None:
    """Approved orders (approved before ``before``, still approved) of suppliers with a
    webhook URL that have no order.approved delivery get one now."""
    orders = (
        ReplenishmentProposal.objects.filter(
            status=ReplenishmentProposal.Status.APPROVED,
            supplier__trading_partner__webhook_url__gt="",
            status_changes__to_status=ReplenishmentProposal.Status.APPROVED,
            status_changes__at__lt=before,
        )
        .exclude(webhooks__event=APPROVED)
        .values_list("pk", flat=True)
        .distinct()
    )
    for order_id in list(orders):
        with transaction.atomic():
            webhook_order_event(event=APPROVED, order_id=order_id)


def webhook_redeliver(*, delivery_id: int) -> None:
    """Try a failed or pending delivery again now (admin action)."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=W.Status.PENDING)
    _enqueue(delivery_id)
