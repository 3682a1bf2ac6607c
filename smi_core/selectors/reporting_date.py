"""Which day a report is as of when the request names none: the site's reporting date if
one is set (a month-end being closed), else today; an as-of date asked for always wins.
The answer carries the sentence pages, the API and commands show about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from smi_core.models import ReportingDate

ASKED, REPORTING_DATE, TODAY = "asked", "reporting_date", "today"


@dataclass(frozen=True)
class ReportingDay:
    as_of: date
    basis: str  # ASKED, REPORTING_DATE or TODAY
    today: date
    reporting_date: date | None = None
    set_by: str = ""
    set_at: datetime | None = None
    note: str = ""

    @property
    def pinned(self) -> bool:
        """Whether the day is the reporting date rather than the one asked or today."""
        return self.basis == REPORTING_DATE

    def statement(self) -> str:
        """``as of 2026-11-28, the reporting date set by finance on 2026-12-01; today is
        2026-12-08`` (what a reader of the figure must know about its date)."""
        if self.basis == REPORTING_DATE:
            text = f"as of {self.as_of}, the reporting date"
            if self.set_by:
                text += f" set by {self.set_by}"
            if self.set_at:
                text += f" on {timezone.localtime(self.set_at).date()}"
            if self.note:
                text += f" ({self.note})"
            return text + f"; today is {self.today}"
        if self.basis == ASKED:
            text = f"as of {self.as_of}, the date asked for"
            if self.reporting_date and self.reporting_date != self.as_of:
                text += f" (the reporting date is {self.reporting_date})"
            return text
        return f"as of {self.as_of}, today (no reporting date is set)"

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "basis": self.basis,
            "today": self.today.isoformat(),
            "reporting_date": self.reporting_date.isoformat() if self.reporting_date else None,
            "set_by": self.set_by or None,
            "set_at": self.set_at.isoformat() if self.set_at else None,
            "note": self.note,
            "statement": self.statement(),
        }


def reporting_date_current() -> ReportingDate | None:
    """The site's reporting date row, if one was ever set (its date may be empty)."""
    return ReportingDate.objects.filter(pk=1).first()


def reporting_day(asked: date | None = None, *, today: date | None = None) -> ReportingDay:
    """The day a report is as of: ``asked`` if given, else the reporting date, else today."""
    today = today or timezone.localdate()
    row = reporting_date_current()
    pinned = row.date if row else None
    who = {"set_by": row.set_by, "set_at": row.set_at, "note": row.note} if pinned else {}
    if asked is not None:
        return ReportingDay(asked, ASKED, today, pinned, **who)
    if pinned is not None:
        return ReportingDay(pinned, REPORTING_DATE, today, pinned, **who)
    return ReportingDay(today, TODAY, today)


def reporting_as_of(asked: date | None = None) -> date:
    """Just the day (for callers that state the date themselves)."""
    return reporting_day(asked).as_of
