"""Setting the reporting date (the date reports default to): audited, one row for the site."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ReportingDate
from smi_core.services.audit import Actor, audit_record


class BadReportingDate(ApplicationError):
    code = "bad_reporting_date"


def reporting_date_check(day: date | None, *, today: date | None = None) -> None:
    """A reporting date is a day that has happened: one after today would report figures
    nobody has yet (a typo such as 2062 for 2026)."""
    today = today or timezone.localdate()
    if day is not None and day > today:
        raise BadReportingDate(
            f"the reporting date {day} is after today ({today}); set a day that has passed, "
            "or leave it empty for today"
        )
    if day is not None and day < date(1900, 1, 1):
        raise BadReportingDate(f"the reporting date {day} is before 1900")


def reporting_date_set(*, day: date | None, actor: Actor, note: str = "") -> ReportingDate:
    """Set the site's reporting date (``None``: back to today). Unchanged date and note:
    nothing is written, so a repeated call (``demo_load`` run twice) leaves no new event."""
    reporting_date_check(day)
    note = note.strip()[:200]
    with transaction.atomic():
        row, _ = ReportingDate.objects.select_for_update().get_or_create(pk=1)
        if row.date == day and row.note == note:
            return row
        before = {
            "date": row.date.isoformat() if row.date else None,
            "note": row.note,
            "set_by": row.set_by,
        }
        row.date, row.note = day, note
        row.set_by = f"{actor.name}" if actor.type == "user" else f"{actor.type}:{actor.name}"
        row.set_at = timezone.now()
        row.save()
        audit_record(
            actor=actor,
            action="reporting_date.set",
            object_type="reporting_date",
            object_id=row.pk,
            before=before,
            after={"date": day.isoformat() if day else None, "note": note},
        )
    return row
