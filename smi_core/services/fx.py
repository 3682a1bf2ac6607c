"""Exchange rates: loading a dated table (CSV or API) and converting with the rate in force
on a day. Every conversion says which rate it used and from which date. Also who may see
which parties' finance figures (grants are audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from smi_core.exceptions import ApplicationError
from smi_core.models import ExchangeRate, FinanceAccess
from smi_core.services.audit import Actor, audit_record
from smi_core.services.import_rows import (
    RowErrors,
    Seen,
    at,
    csv_rows,
    currency_code,
    decimal_for,
    text_for,
)

RATE_COLUMNS = ("currency", "quote", "date", "rate")


class MissingRate(ApplicationError):
    code = "missing_exchange_rate"
    http_status = 409


class RatesRejected(ApplicationError):
    code = "rates_rejected"


@dataclass(frozen=True)
class Rate:
    currency: str
    quote: str
    rate: Decimal
    date: date | None  # None for the identity (same currency)
    inverted: bool = False

    def as_dict(self) -> dict:
        return {
            "pair": f"{self.currency}/{self.quote}",
            "rate": str(self.rate),
            "date": self.date.isoformat() if self.date else None,
            "inverted": self.inverted,
        }


def rate_on(currency: str, quote: str, on: date) -> Rate:
    """The rate in force on ``on``: the latest on or before it, taken directly or as the
    inverse of the opposite pair (1 / rate, to 8 places)."""
    if currency == quote:
        return Rate(currency, quote, Decimal(1), None)
    direct = (
        ExchangeRate.objects.filter(currency=currency, quote=quote, date__lte=on)
        .order_by("-date")
        .first()
    )
    inverse = (
        ExchangeRate.objects.filter(currency=quote, quote=currency, date__lte=on)
        .order_by("-date")
        .first()
    )
    if direct and (inverse is None or direct.date >= inverse.date):
        return Rate(currency, quote, direct.rate, direct.date)
    if inverse:
        return Rate(
            currency,
            quote,
            (Decimal(1) / inverse.rate).quantize(Decimal("1e-8")),
            inverse.date,
            True,
        )
    raise MissingRate(
        f"no {currency}/{quote} exchange rate on or before {on.isoformat()}; load one with "
        "`python manage.py fx_load FILE.csv`",
        extra={"currency": currency, "quote": quote, "date": on.isoformat()},
    )


class RateBook:
    """Rates looked up once per (pair, day) for a whole report."""

    def __init__(self):
        self._cache: dict[tuple[str, str, date], Rate] = {}

    def on(self, currency: str, quote: str, day: date) -> Rate:
        key = (currency, quote, day)
        if key not in self._cache:
            self._cache[key] = rate_on(currency, quote, day)
        return self._cache[key]


def fx_load(*, text: str, actor: Actor, source: str = "", name: str = "") -> int:
    """Load rates from CSV (currency, quote, date, rate[, source]). The whole file is
    checked first; every bad row is reported as ``name:line: field: problem`` (``line N``
    without a name) and nothing is loaded. A pair repeated for one day in the file is an
    error naming both lines. Loading the same rate again changes nothing; a changed rate
    for a day replaces it."""
    errors = RowErrors()
    _, records = csv_rows(text, name=name, errors=errors, required=RATE_COLUMNS)
    rows = []
    seen = Seen()
    for line, raw in records:
        where = at(name, line)
        bad = len(errors)
        row = _row(raw, source, where, errors)
        if len(errors) == bad:
            first = seen.first((row["currency"], row["quote"], row["date"]), line)
            if first is not None:
                errors.add(
                    where,
                    "date",
                    f"{row['currency']}/{row['quote']} on {row['date'].isoformat()} is also on "
                    f"line {first}",
                )
            else:
                rows.append(row)
    errors.raise_if_any(RatesRejected, "loaded")
    changed = 0
    with transaction.atomic():
        for row in rows:
            existing = ExchangeRate.objects.filter(
                currency=row["currency"], quote=row["quote"], date=row["date"]
            ).first()
            if existing and existing.rate == row["rate"]:
                continue
            ExchangeRate.objects.update_or_create(
                currency=row["currency"],
                quote=row["quote"],
                date=row["date"],
                defaults={"rate": row["rate"], "source": row["source"]},
            )
            changed += 1
        if changed:
            audit_record(
                actor=actor,
                action="fx.load",
                object_type="exchange_rates",
                object_id=source or "-",
                after={"rows": len(rows), "changed": changed},
            )
    return changed


def _row(raw: dict, source: str, where: str, errors: RowErrors) -> dict:
    row: dict = {}
    for field in ("currency", "quote"):
        try:
            row[field] = currency_code(raw.get(field) or "")
        except ValueError as exc:
            errors.add(where, field, str(exc))
    if row.get("currency") and row["currency"] == row.get("quote"):
        errors.add(
            where, "quote", f"{row['currency']}/{row['quote']} converts a currency into itself"
        )
    try:
        row["date"] = date.fromisoformat(raw.get("date") or "")
    except ValueError:
        errors.add(where, "date", f"{raw.get('date')!r} is not a date YYYY-MM-DD")
    try:
        # Rates are kept to 8 decimal places: more are rounded, not refused.
        row["rate"] = decimal_for(
            ExchangeRate, "rate", raw.get("rate") or "", positive=True, round_places=True
        )
    except ValueError as exc:
        errors.add(where, "rate", str(exc))
    try:
        row["source"] = text_for(ExchangeRate, "source", raw.get("source") or source or "")
    except ValueError as exc:
        errors.add(where, "source", str(exc))
    return row


def finance_access_grant(*, user, party, actor: Actor) -> FinanceAccess:
    with transaction.atomic():
        access, created = FinanceAccess.objects.get_or_create(
            user=user, party=party, defaults={"granted_by": f"{actor.type}:{actor.name}"}
        )
        if created:
            audit_record(
                actor=actor,
                action="finance_access.grant",
                object_type="user",
                object_id=user.pk,
                after={"party": party.code},
            )
    return access


def finance_access_revoke(*, access_id: int, actor: Actor) -> None:
    with transaction.atomic():
        access = FinanceAccess.objects.select_related("party").filter(pk=access_id).first()
        if access is None:
            return
        audit_record(
            actor=actor,
            action="finance_access.revoke",
            object_type="user",
            object_id=access.user_id,
            before={"party": access.party.code},
        )
        access.delete()
