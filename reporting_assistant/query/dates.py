"""Dates in words, relative to a reference day: ISO dates, "1 November 2026", "November 1st",
"end of October", "last week", "this week", "in the week to 14 November", "last month",
"yesterday", "today", "from A to B". Framework-free.

Weeks run Monday to Sunday, as the 852 reports do. A period's figures are stated as of its
last day.

>>> when("stock on 1 November 2026", date(2026, 11, 25)).as_of
datetime.date(2026, 11, 1)
>>> p = when("sold last week", date(2026, 11, 25)); (p.start, p.end)
(datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
    name: n
    for n in range(1, 13)
    for name in (calendar.month_name[n].lower(), calendar.month_abbr[n].lower())
}
MONTHS["sept"] = 9
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(20\d\d))?"
ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b{_YEAR}")
MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b{_YEAR}")
SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b")  # day/month/year
END_OF_MONTH = re.compile(rf"\b(?:end|close)\s+of\s+{_MONTH}\b{_YEAR}")
IN_MONTH = re.compile(rf"\b(?:in|during|for|over)\s+(?:the\s+month\s+of\s+)?{_MONTH}\b{_YEAR}")
WEEK_TO = re.compile(
    rf"\bweek\s+(?:to|ending|ended|up\s+to|through)\s+(?:the\s+)?(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+{_DAY}|(20\d\d-\d\d-\d\d)){_YEAR}"
)
WEEK_OF = re.compile(
    rf"\bweek\s+(?:of|starting|beginning|from)\s+(?:the\s+)?(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+{_DAY}|(20\d\d-\d\d-\d\d)){_YEAR}"
)
WEEKS_AGO = re.compile(r"\b(\d+|two|three|four|five|six)\s+weeks?\s+ago\b")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


@dataclass(frozen=True)
class When:
    """What the question says about time: a day (``as_of``) or a period (``start`` to
    ``end``; ``as_of`` is then ``end``), the words that said it, and whether it was said."""

    as_of: date
    start: date | None = None
    end: date | None = None
    said: str = ""

    @property
    def given(self) -> bool:
        return bool(self.said)


def _year_for(month: int, day: int, year: str | None, today: date) -> date:
    if year:
        return date(int(year), month, day)
    found = date(today.year, month, day)
    # a date without a year is the latest such day not after today
    return found if found <= today else date(today.year - 1, month, day)


def _safe(builder) -> date | None:
    try:
        return builder()
    except ValueError:
        return None


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day_month(groups: tuple, today: date) -> date | None:
    """Groups of WEEK_TO/WEEK_OF: (day, month, month, day, iso, year)."""
    d1, m1, m2, d2, iso, year = groups
    if iso:
        return _safe(lambda: date.fromisoformat(iso))
    if d1:
        return _safe(lambda: _year_for(MONTHS[m1[:3]], int(d1), year, today))
    return _safe(lambda: _year_for(MONTHS[m2[:3]], int(d2), year, today))


def when(question: str, today: date, default: date | None = None) -> When:
    """What ``question`` says about time, relative to ``today``; a question that names no
    day is as of ``default`` (the site's reporting date), else today."""
    text = " ".join(question.lower().split())
    match = WEEK_TO.search(text)
    if match and (end := _day_month(match.groups(), today)):
        return When(end, end - timedelta(days=6), end, match.group(0))
    match = WEEK_OF.search(text)
    if match and (start := _day_month(match.groups(), today)):
        return When(start + timedelta(days=6), start, start + timedelta(days=6), match.group(0))
    for phrase, weeks_back in (("last week", 1), ("previous week", 1), ("past week", 1)):
        if phrase in text:
            start = monday(today) - timedelta(weeks=weeks_back)
            return When(start + timedelta(days=6), start, start + timedelta(days=6), phrase)
    match = WEEKS_AGO.search(text)
    if match:
        n = NUMBERS.get(match.group(1)) or int(match.group(1))
        start = monday(today) - timedelta(weeks=min(n, 520))
        return When(start + timedelta(days=6), start, start + timedelta(days=6), match.group(0))
    if "this week" in text:
        return When(today, monday(today), today, "this week")
    if "last month" in text or "previous month" in text:
        end = today.replace(day=1) - timedelta(days=1)
        return When(end, end.replace(day=1), end, "last month")
    match = END_OF_MONTH.search(text)
    if match:
        month, year = MONTHS[match.group(1)[:3]], match.group(2)
        last = calendar.monthrange(int(year) if year else today.year, month)[1]
        day = _year_for(month, last, year, today) if year else None
        if day is None:
            day = date(today.year, month, last)
            if day > today:
                day = date(today.year - 1, month, calendar.monthrange(today.year - 1, month)[1])
        return When(day, said=match.group(0))
    dates: list[tuple[int, date, str]] = []
    for m in ISO.finditer(text):
        if d := _safe(lambda m=m: date(int(m.group(1)), int(m.group(2)), int(m.group(3)))):
            dates.append((m.start(), d, m.group(0)))
    for m in DAY_MONTH.finditer(text):
        if d := _safe(
            lambda m=m: _year_for(MONTHS[m.group(2)[:3]], int(m.group(1)), m.group(3), today)
        ):
            dates.append((m.start(), d, m.group(0)))
    for m in MONTH_DAY.finditer(text):
        if d := _safe(
            lambda m=m: _year_for(MONTHS[m.group(1)[:3]], int(m.group(2)), m.group(3), today)
        ):
            dates.append((m.start(), d, m.group(0)))
    for m in SLASHED.finditer(text):
        if d := _safe(lambda m=m: date(int(m.group(3)), int(m.group(2)), int(m.group(1)))):
            dates.append((m.start(), d, m.group(0)))
    dates.sort(key=lambda t: t[0])
    if len(dates) >= 2:
        first, last = min(d for _, d, _ in dates), max(d for _, d, _ in dates)
        return When(last, first, last, " to ".join(s for _, _, s in dates[:2]))
    if dates:
        return When(dates[0][1], said=dates[0][2])
    match = IN_MONTH.search(text)
    if match:
        month, year = MONTHS[match.group(1)[:3]], match.group(2)
        y = int(year) if year else (today.year if month <= today.month else today.year - 1)
        start, end = date(y, month, 1), date(y, month, calendar.monthrange(y, month)[1])
        return When(end, start, end, match.group(0))
    if "yesterday" in text:
        return When(today - timedelta(days=1), said="yesterday")
    if re.search(r"\b(today|now|currently|right now)\b", text):
        return When(today, said="")
    return When(default or today)
