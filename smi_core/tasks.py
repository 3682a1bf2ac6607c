"""Celery tasks of the SMI domain: thin, idempotent, named explicitly."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    name="smi_core.plan_item_locations",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def plan_item_locations(pairs: list[list[int]], source: str) -> dict:
    """Plan the item-locations an applied 852 changed. Pending proposals count in the
    inventory position, so running it twice proposes nothing twice."""
    from smi_core.models import PlanRun
    from smi_core.services.planning import plan_replenishment

    result = plan_replenishment(
        as_of=timezone.now().date(),
        actor=f"system:{source}",
        trigger=PlanRun.Trigger.INGEST,
        item_locations={(i, loc) for i, loc in pairs},
    )
    return {
        "run": result.run.pk,
        "proposals": len(result.proposals),
        "exceptions": len(result.exceptions),
    }


@shared_task(
    name="smi_core.plan_all",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def plan_all(as_of: str | None = None) -> dict:
    """The scheduled plan over every item-location under an agreement in force."""
    from smi_core.models import PlanRun
    from smi_core.services.planning import plan_replenishment

    day = date.fromisoformat(as_of) if as_of else timezone.now().date()
    result = plan_replenishment(
        as_of=day, actor="system:schedule", trigger=PlanRun.Trigger.SCHEDULE
    )
    return {
        "run": result.run.pk,
        "proposals": len(result.proposals),
        "exceptions": len(result.exceptions),
    }


@shared_task(
    name="smi_core.activity_partitions_ensure",
    acks_late=True,
    autoretry_for=TRANSIENT,  # includes a lock wait given up (lock_timeout) behind an ingest
    retry_backoff=True,
    max_retries=5,
)
def activity_partitions_ensure_task() -> dict:
    """PostgreSQL: the activity partitions of this month and the next three exist, and rows
    that landed in the DEFAULT partition are moved into their month's (daily, and after an
    852 for a month without one). Elsewhere nothing to do."""
    from smi_core.services.partitions import activity_is_partitioned, activity_partitions_ensure

    if not activity_is_partitioned():
        return {"partitioned": False}
    return {"partitioned": True, **activity_partitions_ensure()}
