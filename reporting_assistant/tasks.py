"""Celery tasks of the assistant: thin, idempotent (re-indexing replaces)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

# Imported here, not lazily: apps.ready imports this module, and importing the store
# connects its post_delete hook (a deleted clause's vector leaves the store).
from reporting_assistant.store import agreement_index

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    name="reporting_assistant.index_agreement",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def index_agreement(agreement_id: int) -> int:
    """Split one agreement (text and uploaded documents) into clauses and replace them in
    the vector store."""
    return agreement_index(agreement_id=agreement_id)


def index_later(*, agreement_ids) -> None:
    """Queue re-indexing (registered with smi_core's agreements_changed hook)."""
    for agreement_id in agreement_ids:
        index_agreement.delay(agreement_id)
