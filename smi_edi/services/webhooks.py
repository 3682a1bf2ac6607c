"""Events for the supplier's ERP: when an order is approved, SMI Hub POSTs it (JSON) to
the supplier's webhook URL, signed with HMAC-SHA256 of the body under the supplier's
webhook secret (header ``X-SMI-Signature: sha256=<hex>``), and retries until the ERP
answers 2xx. The ERP can always fetch the same through ``GET /api/v1/orders/``."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ReplenishmentProposal
from smi_edi.models import TradingPartner, WebhookDelivery

W = WebhookDelivery


class WebhookFailed(ApplicationError):
    code = "webhook_failed"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_order_event(*, event: str, order_id: int) -> WebhookDelivery | None:
    """Queue ``event`` for the order's supplier when it has a webhook URL."""
    from smi_edi.selectors.orders import order_as_dict

    order = ReplenishmentProposal.objects.select_related("supplier").get(pk=order_id)
    partner = TradingPartner.objects.filter(party=order.supplier).first()
    if partner is None or not partner.webhook_url:
        return None
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
        update_fields=["attempts", "last_http_status", "last_error", "status", "delivered_at"]
    )
    if delivery.status != W.Status.DELIVERED:
        raise WebhookFailed(delivery.last_error)
    return delivery


def webhook_gave_up(*, delivery_id: int, reason: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=W.Status.PENDING).update(
        status=W.Status.FAILED, last_error=f"gave up: {reason}"
    )


def webhook_redeliver(*, delivery_id: int) -> None:
    """Try a failed or pending delivery again (admin action)."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=W.Status.PENDING)
    _enqueue(delivery_id)
