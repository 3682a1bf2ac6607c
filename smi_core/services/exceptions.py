"""The exceptions queue: raise (or count again) and resolve."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ExceptionItem, Party
from smi_core.services.bulk import insert


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


def exception_resolve(
    *, exception: ExceptionItem, actor, note: str = "", request=None
) -> ExceptionItem:
    """Mark an exception resolved by ``actor`` (a user; None: the system), with a note;
    recorded as an audit event in the same transaction. Resolving twice is refused."""
    from smi_core.services.audit import Actor, audit_record

    with transaction.atomic():
        exception = ExceptionItem.objects.select_for_update().get(pk=exception.pk)
        if exception.status == ExceptionItem.Status.RESOLVED:
            raise ApplicationError(
                f"exception #{exception.pk} is already resolved", code="already_resolved"
            )
        before = exception.status
        exception.status = ExceptionItem.Status.RESOLVED
        exception.resolved_at = timezone.now()
        exception.resolved_by = actor
        exception.resolution_note = note
        exception.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "last_seen"]
        )
        audit_record(
            actor=Actor.user(actor, request) if actor is not None else Actor.system("exceptions"),
            action="exception.resolve",
            object_type="exception",
            object_id=exception.pk,
            before={"status": before},
            after={"status": exception.status, "kind": exception.kind, "note": note},
        )
    return exception


def exception_assign(*, exception: ExceptionItem, assignee, actor, request=None) -> ExceptionItem:
    """Give an open exception to ``assignee`` (None: back to the queue), recorded as an
    audit event in the same transaction. A resolved exception is not reassigned."""
    from smi_core.services.audit import Actor, audit_record

    with transaction.atomic():
        exception = ExceptionItem.objects.select_for_update().get(pk=exception.pk)
        if exception.status == ExceptionItem.Status.RESOLVED:
            raise ApplicationError(
                f"exception #{exception.pk} is already resolved", code="already_resolved"
            )
        before = exception.assigned_to.get_username() if exception.assigned_to else None
        exception.assigned_to = assignee
        exception.assigned_at = timezone.now() if assignee is not None else None
        exception.save(update_fields=["assigned_to", "assigned_at", "last_seen"])
        audit_record(
            actor=Actor.user(actor, request),
            action="exception.assign",
            object_type="exception",
            object_id=exception.pk,
            before={"assigned_to": before},
            after={
                "assigned_to": assignee.get_username() if assignee is not None else None,
                "kind": exception.kind,
            },
        )
    return exception


@dataclass
class ExceptionSpec:
    """An exception to raise, for the bulk path."""

    kind: str
    partner_id: int | None
    subject: str
    message: str
    action: str
    details: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # item_id, location_id, source_set_id
    occurrences: int = 1


_EXCEPTION_COLUMNS = (
    "kind",
    "status",
    "partner_id",
    "subject",
    "message",
    "action",
    "details",
    "occurrences",
    "item_id",
    "location_id",
    "source_set_id",
    "first_seen",
    "last_seen",
    "resolution_note",
)


SUBJECT_CHUNK = 900


def _open_matching(by_kind: dict[str, set[str]], wanted: int):
    """The open exceptions that may match: all those of these kinds in one read when there
    are not many more of them than the specs (matched in memory: cheaper than many subject
    IN lookups once there are thousands), else by subject through the open-exception index,
    so a queue that has grown to hundreds of thousands is not read for a few thousand."""
    fields = ("pk", "kind", "partner_id", "subject", "occurrences", "message", "details")
    open_items = ExceptionItem.objects.filter(status=ExceptionItem.Status.OPEN).order_by()
    of_kinds = open_items.filter(kind__in=list(by_kind))
    if of_kinds[: 4 * wanted + 1].count() <= 4 * wanted:
        yield from of_kinds.only(*fields)
        return
    for kind, subjects in by_kind.items():
        ordered = sorted(subjects)
        for start in range(0, len(ordered), SUBJECT_CHUNK):
            chunk = ordered[start : start + SUBJECT_CHUNK]
            yield from open_items.filter(kind=kind, subject__in=chunk).only(*fields)


def exceptions_raise_many(specs: list[ExceptionSpec]) -> list[ExceptionSpec]:
    """Raise many exceptions with a handful of queries: open ones for the same kind, partner
    and subject count up, the rest are created."""
    merged: dict[tuple, ExceptionSpec] = {}
    for spec in specs:
        key = (spec.kind, spec.partner_id, spec.subject[:200])
        if key in merged:
            merged[key].occurrences += spec.occurrences
            merged[key].message = spec.message
        else:
            merged[key] = spec
    if not merged:
        return []
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, _, subject in merged:
        by_kind[kind].add(subject)
    existing: dict[tuple, ExceptionItem] = {}
    for item in _open_matching(by_kind, len(merged)):
        key = (item.kind, item.partner_id, item.subject)
        if key in merged:
            existing[key] = item
    now = timezone.now()
    updates, creates = [], []
    for key, spec in merged.items():
        item = existing.get(key)
        if item is not None:
            item.occurrences += spec.occurrences
            item.message = spec.message
            item.details = spec.details or item.details
            item.last_seen = now
            updates.append(item)
        else:
            links = spec.links
            creates.append(
                (
                    spec.kind,
                    ExceptionItem.Status.OPEN,
                    spec.partner_id,
                    key[2],
                    spec.message,
                    spec.action,
                    spec.details,
                    spec.occurrences,
                    links.get("item_id"),
                    links.get("location_id"),
                    links.get("source_set_id"),
                    now,
                    now,
                    "",
                )
            )
    _update_counts(updates)
    insert(ExceptionItem, _EXCEPTION_COLUMNS, creates)
    return list(merged.values())


def _update_counts(items: list[ExceptionItem]) -> None:
    """One parameterised UPDATE run for many rows (pipelined by psycopg on PostgreSQL):
    much cheaper than bulk_update's CASE expressions for thousands of rows."""
    if not items:
        return
    from django.db import connection

    table = ExceptionItem._meta.db_table
    details = ExceptionItem._meta.get_field("details")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET occurrences = %s, message = %s, details = %s, last_seen = %s WHERE id = %s",
            [
                (
                    i.occurrences,
                    i.message,
                    details.get_db_prep_value(i.details, connection),
                    i.last_seen,
                    i.pk,
                )
                for i in items
            ],
        )
