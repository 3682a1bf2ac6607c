"""Writing and verifying the hash-chained audit trail.

``audit_record`` is called inside the transaction of the change it records. It takes a
lock on the chain's head (an advisory lock on PostgreSQL; SQLite serialises writers), reads
the last hash, and stores ``hash = sha256(prev_hash + canonical JSON of the event)``.
``audit_verify`` recomputes every hash in order and names the first event that does not
match, so an UPDATE that slipped past the triggers is found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from smi_core.models import AuditEvent

GENESIS = "0" * 64
_CHAIN_LOCK = 725_001  # advisory lock key of the audit chain head


@dataclass(frozen=True)
class Actor:
    type: str  # user, partner, system
    name: str
    ip: str | None = None
    user_agent: str = ""
    task_id: str = ""

    @classmethod
    def user(cls, user, request=None) -> Actor:
        return cls("user", user.get_username(), *_request_context(request))

    @classmethod
    def partner(cls, code: str, request=None) -> Actor:
        return cls("partner", code, *_request_context(request))

    @classmethod
    def system(cls, name: str, task_id: str = "") -> Actor:
        return cls("system", name, task_id=task_id)


def _request_context(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    return request.META.get("REMOTE_ADDR"), request.META.get("HTTP_USER_AGENT", "")[:300]


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical(data) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), default=_jsonable, ensure_ascii=False
    )


def event_payload(event: AuditEvent) -> dict:
    """The fields the hash covers (everything but the id and the hashes themselves)."""
    return {
        "at": event.at.isoformat(),
        "actor_type": event.actor_type,
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "rule_codes": event.rule_codes,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "task_id": event.task_id,
    }


def event_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(payload)).encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id,
    before=None,
    after=None,
    rule_codes: list[str] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction of the change."""
    if not connection.in_atomic_block:
        with transaction.atomic():
            return audit_record(
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                before=before,
                after=after,
                rule_codes=rule_codes,
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    event = AuditEvent(
        at=timezone.now(),
        actor_type=actor.type,
        actor=actor.name[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=json.loads(canonical(before)) if before is not None else None,
        after=json.loads(canonical(after)) if after is not None else None,
        rule_codes=list(rule_codes or []),
        ip=actor.ip,
        user_agent=actor.user_agent,
        task_id=actor.task_id or _current_task_id(),
        prev_hash=head,
    )
    # Microseconds survive the round trip through the database on both backends.
    event.hash = event_hash(head, event_payload(event))
    event.save(force_insert=True)
    return event


def _current_task_id() -> str:
    """The id of the Celery task this change runs in (a worker's or an in-process one), so
    an event made by a task names it; empty outside tasks."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return (getattr(request, "id", None) or "")[:100] if current_task else ""


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events: int
    head: str
    broken_at: int | None = None
    reason: str = ""
    checkpoint: str = ""  # the hash asked for, if any
    checkpoint_at: int | None = None  # the event with that hash (0: the genesis)
    since_checkpoint: int = 0  # events written after it


def audit_verify(*, checkpoint: str = "") -> ChainReport:
    """Recompute the chain; the first event whose hash or link does not match breaks it.

    With ``checkpoint`` (a head hash kept outside the system, from ``audit_head``), the
    chain is also broken when no event in it has that hash: events up to the checkpoint
    were removed, or the chain was rewritten from before it."""
    checkpoint = checkpoint.strip().lower()
    previous = GENESIS
    count = 0
    found_at = 0 if checkpoint == GENESIS else None
    at_count = 0  # events up to and including the checkpoint
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=5000):
        count += 1
        if event.prev_hash != previous:
            return ChainReport(
                False,
                count,
                previous,
                event.pk,
                f"event #{event.pk} does not follow the event before it",
                checkpoint,
            )
        expected = event_hash(previous, event_payload(event))
        if expected != event.hash:
            return ChainReport(
                False,
                count,
                previous,
                event.pk,
                f"event #{event.pk} was changed after it was written",
                checkpoint,
            )
        previous = event.hash
        if checkpoint and found_at is None and previous == checkpoint:
            found_at, at_count = event.pk, count
    if checkpoint and found_at is None:
        return ChainReport(
            False,
            count,
            previous,
            None,
            f"no event in the chain has the checkpoint hash {checkpoint}: the chain was cut "
            "(events up to the checkpoint are missing) or rewritten since the checkpoint "
            "was taken",
            checkpoint,
        )
    return ChainReport(
        True,
        count,
        previous,
        checkpoint=checkpoint,
        checkpoint_at=found_at,
        since_checkpoint=count - at_count if checkpoint else 0,
    )


def audit_head() -> tuple[int, str]:
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    return last or (0, GENESIS)
