"""The exceptions queue: raise (or count again) and resolve."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ExceptionItem, Party


def exception_raise(
    *,
    kind: str,
    partner: Party | None,
    subject: str,
    message: str,
    action: str,
    details: dict | None = None,
    occurrences: int = 1,
    **links,
) -> ExceptionItem:
    """Open an exception, or count another occurrence of the open one for the same subject."""
    subject = subject[:200]
    lookup = {
        "kind": kind,
        "partner": partner,
        "subject": subject,
        "status": ExceptionItem.Status.OPEN,
    }
    existing = ExceptionItem.objects.filter(**lookup).first()
    if existing is None:
        try:
            with transaction.atomic():
                return ExceptionItem.objects.create(
                    **lookup,
                    message=message,
                    action=action,
                    details=details or {},
                    occurrences=occurrences,
                    **links,
                )
        except IntegrityError:
            existing = ExceptionItem.objects.get(**lookup)
    ExceptionItem.objects.filter(pk=existing.pk).update(
        occurrences=F("occurrences") + occurrences, message=message, last_seen=timezone.now()
    )
    existing.refresh_from_db()
    return existing


def exception_resolve(*, exception: ExceptionItem, actor, note: str = "") -> ExceptionItem:
    if exception.status == ExceptionItem.Status.RESOLVED:
        raise ApplicationError(
            f"exception #{exception.pk} is already resolved", code="already_resolved"
        )
    exception.status = ExceptionItem.Status.RESOLVED
    exception.resolved_at = timezone.now()
    exception.resolved_by = actor
    exception.resolution_note = note
    exception.save(
        update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "last_seen"]
    )
    return exception
