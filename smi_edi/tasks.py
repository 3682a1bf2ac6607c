"""Celery tasks of the EDI app: thin (ids in, one service call), idempotent, named explicitly."""

from __future__ import annotations

import base64

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from smi_edi.x12.errors import X12SyntaxError

# Errors worth another try: the database or the network blinked. Anything else is a bug or
# bad data, and retrying would only repeat it.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class IngestTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from smi_edi.services.interchanges import interchange_fail

        interchange_id = args[0] if args else kwargs.get("interchange_id")
        if interchange_id is not None:
            interchange_fail(
                interchange_id=interchange_id,
                actor=f"task:{self.name}:{task_id}",
                reason=f"{type(exc).__name__}: {exc}",
            )


@shared_task(
    name="smi_edi.ingest_interchange",
    base=IngestTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=6,
)
def ingest_interchange(self, interchange_id: int) -> dict:
    """Read, validate, acknowledge and apply one stored interchange."""
    from smi_edi.services.interchanges import interchange_process

    summary = interchange_process(
        interchange_id=interchange_id, actor=f"task:{self.name}:{self.request.id}"
    )
    return {
        "interchange": summary.interchange_id,
        "status": summary.status,
        "sets_accepted": summary.sets_accepted,
        "sets_rejected": summary.sets_rejected,
        "activity_rows": summary.activity_rows,
        "positions_changed": summary.positions_changed,
    }


@shared_task(name="smi_edi.validate_x12")
def validate_x12(payload_b64: str) -> dict:
    """Validate an X12 payload (base64 of its bytes) and return the verdict per set."""
    from smi_edi.x12.validation import validate

    data = base64.b64decode(payload_b64)
    try:
        results = validate(data)
    except X12SyntaxError as exc:
        return {"readable": False, "error": exc.message}
    return {"readable": True, "interchanges": [r.as_dict() for r in results]}


@shared_task(name="smi_edi.requeue_waiting_interchanges")
def requeue_waiting_interchanges(older_than_minutes: int = 10) -> int:
    """Queue again interchanges still 'received' after a while (the process that stored
    them died before queueing them). Processing is idempotent, so a double queueing is harmless."""
    from smi_edi.services.interchanges import interchanges_requeue_waiting

    return interchanges_requeue_waiting(older_than_minutes=older_than_minutes)


DELIVERY_RETRIES = 8  # with backoff 1, 2, 4 ... 256 minutes: about eight and a half hours


def _backoff(retries: int) -> int:
    return min(60 * 2**retries, 4 * 3600)


@shared_task(name="smi_edi.deliver_outbound", bind=True, acks_late=True, max_retries=None)
def deliver_outbound(self, document_id: int) -> str:
    """Deliver one outbound document; retry with backoff while a channel refuses, then
    mark it failed with the reason. In-process (no broker), a failure leaves the document
    queued for the next ``outbound_redeliver_queued`` or a resend."""
    from smi_edi.services.outbound import (
        DeliveryFailed,
        outbound_deliver,
        outbound_delivery_gave_up,
    )

    try:
        return outbound_deliver(document_id=document_id).status
    except DeliveryFailed as exc:
        if self.request.is_eager:
            return "queued"
        if self.request.retries >= DELIVERY_RETRIES:
            outbound_delivery_gave_up(document_id=document_id, reason=exc.message)
            return "failed"
        raise self.retry(countdown=_backoff(self.request.retries)) from exc


@shared_task(name="smi_edi.outbound_redeliver_queued")
def outbound_redeliver_queued(older_than_minutes: int = 10) -> int:
    """Queue again documents never tried (their task was lost before it ran); documents
    being retried have their own task waiting."""
    from datetime import timedelta

    from django.utils import timezone

    from smi_edi.models import OutboundDocument

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        OutboundDocument.objects.filter(
            status=OutboundDocument.Status.QUEUED, attempts=0, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for document_id in ids:
        deliver_outbound.delay(document_id)
    return len(ids)


@shared_task(name="smi_edi.outbound_overdue_check")
def outbound_overdue_check() -> int:
    """Open an exception for every document the partner has not acknowledged in time."""
    from smi_edi.services.outbound import outbound_overdue_check as check

    return check()


@shared_task(name="smi_edi.deliver_webhook", bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one signed event to a supplier's ERP; retry until it answers 2xx."""
    from smi_edi.services.webhooks import WebhookFailed, webhook_deliver, webhook_gave_up

    try:
        return webhook_deliver(delivery_id=delivery_id).status
    except WebhookFailed as exc:
        if self.request.is_eager:
            return "pending"
        if self.request.retries >= DELIVERY_RETRIES:
            webhook_gave_up(delivery_id=delivery_id, reason=exc.message)
            return "failed"
        raise self.retry(countdown=_backoff(self.request.retries)) from exc
