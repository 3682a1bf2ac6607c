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
def requeue_waiting_interchanges(older_than_minutes: int = 5) -> int:
    """Beat: queue again interchanges idle for a while short of a final state (received,
    validated, accepted) or applied with their follow-ups (planning) not done: the process
    that stored them died before queueing them, or a worker died mid-way and the broker
    would hand its task back only after the visibility timeout (1 h). Processing resumes
    where it stopped, so a double queueing is harmless."""
    from smi_edi.services.interchanges import interchanges_requeue_waiting

    return interchanges_requeue_waiting(older_than_minutes=older_than_minutes)


@shared_task(
    name="smi_edi.deliver_outbound",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def deliver_outbound(document_id: int) -> str:
    """Try to deliver one outbound document once. A refusal leaves it queued with the
    attempt recorded; ``outbound_redeliver_queued`` (beat) tries it again after the
    backoff, and the last allowed attempt marks it failed with the reason."""
    from smi_edi.services.outbound import outbound_attempt

    return outbound_attempt(document_id=document_id)


@shared_task(name="smi_edi.outbound_redeliver_queued")
def outbound_redeliver_queued() -> int:
    """Beat: queue again documents whose backoff since their last attempt has passed (and
    those never tried whose task was lost)."""
    from smi_edi.services.outbound import outbound_redeliver_due

    return len(outbound_redeliver_due())


@shared_task(name="smi_edi.outbound_overdue_check")
def outbound_overdue_check() -> int:
    """Open an exception for every document the partner has not acknowledged in time."""
    from smi_edi.services.outbound import outbound_overdue_check as check

    return check()


@shared_task(
    name="smi_edi.deliver_webhook",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def deliver_webhook(delivery_id: int) -> str:
    """POST one signed event to a supplier's ERP once; until it answers 2xx,
    ``webhooks_redeliver`` (beat) sends it again after the backoff, without end."""
    from smi_edi.services.webhooks import webhook_attempt

    return webhook_attempt(delivery_id=delivery_id)


@shared_task(name="smi_edi.webhooks_redeliver")
def webhooks_redeliver() -> int:
    """Beat: send again every unacknowledged webhook whose backoff has passed, and announce
    approved orders whose announcement was lost."""
    from smi_edi.services.webhooks import webhooks_redeliver_due

    return len(webhooks_redeliver_due())


@shared_task(
    name="smi_edi.as2_post_mdn",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def as2_post_mdn(message_pk: int) -> str:
    """Post the asynchronous MDN owed for one received AS2 message (idempotent: an MDN
    already sent is not sent again). A refusal is recorded on the message."""
    from smi_edi.services.as2 import As2Error, as2_mdn_post

    try:
        return as2_mdn_post(message_pk=message_pk)
    except As2Error as exc:
        return f"failed: {exc.message}"
