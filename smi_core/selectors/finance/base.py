"""What every finance figure starts from: who may see which parties, and each item-location's
stock as of a date (from the point-in-time ledger, not the current position) with the
agreement, the term (unit cost, net selling price) and the owner that apply to it, and how
old its data is.

The as-of rule: stock at date D is the last level the partner reported for a period ending
on or before D, carried forward with its report date. An item-location first reported
after D is not in the figures at D. A partner whose last report is older than its cadence
(7 days weekly, 1 daily) plus a grace period (``SMI_STALE_GRACE_DAYS``; by default 3 days
weekly, 1 daily) is stale: its stock is still counted, and the figure says so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    FinanceAccess,
    InventoryPosition,
    Party,
    StockLevel,
    SupplyAgreement,
)
from smi_core.selectors.planning import agreements_in_force
from smi_core.services.fx import Rate, RateBook

ZERO = Decimal(0)
CADENCE_DAYS = {"weekly": 7, "daily": 1}
DEFAULT_GRACE_DAYS = {"weekly": 3, "daily": 1}
CHUNK = 5000


class FinanceForbidden(ApplicationError):
    code = "finance_forbidden"
    http_status = 403


@dataclass(frozen=True)
class FinanceScope:
    """The party ids a user may see; ``None``: all of them."""

    party_ids: frozenset[int] | None

    @classmethod
    def everything(cls) -> FinanceScope:
        return cls(None)

    @classmethod
    def for_user(cls, user) -> FinanceScope:
        """Auditors and superusers see everything; finance users the parties granted to
        them; anyone else nothing (refused)."""
        from smi_core.services.roles import role_names

        roles = role_names(user)
        if user.is_superuser or "auditor" in roles:
            return cls(None)
        if "finance" in roles:
            granted = FinanceAccess.objects.filter(user=user).values_list("party_id", flat=True)
            return cls(frozenset(granted))
        raise FinanceForbidden(
            f"{user.get_username()} holds neither the finance nor the auditor role"
        )

    def allows(self, *party_ids: int) -> bool:
        return self.party_ids is None or any(p in self.party_ids for p in party_ids)

    def positions(self, qs: QuerySet) -> QuerySet:
        if self.party_ids is None:
            return qs
        return qs.filter(
            Q(location__party_id__in=self.party_ids) | Q(item__supplier_id__in=self.party_ids)
        )

    def proposals(self, qs: QuerySet) -> QuerySet:
        if self.party_ids is None:
            return qs
        return qs.filter(Q(buyer_id__in=self.party_ids) | Q(supplier_id__in=self.party_ids))


def fx_max_age_days() -> int:
    return int(getattr(settings, "SMI_FX_MAX_AGE_DAYS", 7) or 7)


class AgedRateBook(RateBook):
    """A RateBook that notes each rate older than ``SMI_FX_MAX_AGE_DAYS`` (default 7) on
    the day it is used for: the figure still uses it, with a warning."""

    def __init__(self) -> None:
        super().__init__()
        self._old: dict[tuple[str, str], dict] = {}

    def on(self, currency: str, quote: str, day: date) -> Rate:
        rate = super().on(currency, quote, day)
        if rate.date is not None:
            age = (day - rate.date).days
            if age > fx_max_age_days():
                key = (f"{currency}/{quote}", rate.date.isoformat())
                seen = self._old.get(key)
                if seen is None or age > seen["age_days"]:
                    self._old[key] = {
                        "pair": key[0],
                        "rate_date": key[1],
                        "used_for": day.isoformat(),
                        "age_days": age,
                    }
        return rate

    def warnings(self) -> list[dict]:
        limit = fx_max_age_days()
        return [
            {
                **w,
                "message": f"{w['pair']} rate of {w['rate_date']} used for {w['used_for']} is "
                f"{w['age_days']} days old (more than {limit}): load a newer rate",
            }
            for _, w in sorted(self._old.items())
        ]


def distinct_rates(rates) -> list[dict]:
    """Each rate used once (by pair and date), in pair and date order: the ``rates`` a
    converted figure states."""
    unique = {(r["pair"], r["date"]): r for r in rates}
    return sorted(unique.values(), key=lambda r: (r["pair"], r["date"] or ""))


@dataclass(frozen=True)
class Filters:
    supplier: str | None = None
    buyer: str | None = None
    currency: str | None = None
    owner: str | None = None  # "supplier" or "buyer"

    def positions(self, qs: QuerySet) -> QuerySet:
        if self.supplier:
            qs = qs.filter(item__supplier__code=self.supplier)
        if self.buyer:
            qs = qs.filter(location__party__code=self.buyer)
        return qs


def stale_after_days(cadence: str) -> int:
    """Days after its last report's period end from which a partner's data is stale."""
    grace = getattr(settings, "SMI_STALE_GRACE_DAYS", None)
    if grace is None or grace == "":
        grace = DEFAULT_GRACE_DAYS.get(cadence, 3)
    return CADENCE_DAYS.get(cadence, 7) + int(grace)


@dataclass
class CostedPosition:
    """An item-location as of a date: ``position`` holds the levels of the latest ledger row
    on or before that date (``position.as_of`` its period end; ``sold_last_period`` that
    period's sales), not the current position's."""

    position: InventoryPosition
    agreement: SupplyAgreement | None
    unit_cost: Decimal | None
    net_selling_price: Decimal | None
    as_of: date | None = None
    period_start: date | None = None

    @property
    def reported_on(self) -> date:
        return self.position.as_of

    @property
    def age_days(self) -> int:
        return (self.as_of - self.position.as_of).days if self.as_of else 0

    @property
    def cadence(self) -> str:
        return self.agreement.cadence if self.agreement else "weekly"

    @property
    def stale(self) -> bool:
        return self.age_days > stale_after_days(self.cadence)

    @property
    def currency(self) -> str:
        return self.agreement.currency if self.agreement else settings.SMI_REPORTING_CURRENCY

    @property
    def consignment(self) -> bool:
        return bool(
            self.agreement and self.agreement.ownership == SupplyAgreement.Ownership.CONSIGNMENT
        )

    @property
    def owner_kind(self) -> str:
        return "supplier" if self.consignment else "buyer"

    @property
    def owner(self) -> Party:
        return self.position.item.supplier if self.consignment else self.position.location.party


def reporting_currency() -> str:
    return settings.SMI_REPORTING_CURRENCY


def term_index(agreement_ids: Iterable[int]) -> dict[tuple[int, int, int | None], AgreementTerm]:
    return {
        (t.agreement_id, t.item_id, t.location_id): t
        for t in AgreementTerm.objects.filter(agreement_id__in=list(agreement_ids))
    }


def _ledger_at(as_of: date):
    """The id of an item-location's latest ledger row on or before ``as_of``: one probe of
    the (item, location, period_end) index."""
    return Subquery(
        StockLevel.objects.filter(
            item_id=OuterRef("item_id"),
            location_id=OuterRef("location_id"),
            period_end__lte=as_of,
        )
        .order_by("-period_end")
        .values("id")[:1]
    )


def _levels(ids: list[int]) -> dict[int, tuple]:
    found = {}
    for n in range(0, len(ids), CHUNK):
        for row in StockLevel.objects.filter(id__in=ids[n : n + CHUNK]).values_list(
            "id",
            "period_start",
            "period_end",
            "on_hand",
            "on_order",
            "in_transit",
            "committed",
            "sold",
        ):
            found[row[0]] = row[1:]
    return found


def costed_positions(*, scope: FinanceScope, filters: Filters, as_of: date) -> list[CostedPosition]:
    """The item-locations the scope allows with their stock as of ``as_of`` (the latest
    ledger row on or before it; those first reported later are left out), each with its
    agreement in force on ``as_of`` and its term (a location's own term before the item's
    general one)."""
    qs = (
        filters.positions(
            scope.positions(
                InventoryPosition.objects.select_related("item__supplier", "location__party")
            )
        )
        .annotate(ledger_id=_ledger_at(as_of))
        .order_by(
            "item__supplier__code", "location__party__code", "location__code", "item__vendor_item"
        )
    )
    positions = list(qs)
    levels = _levels([p.ledger_id for p in positions if p.ledger_id is not None])
    agreements = agreements_in_force(as_of=as_of)
    terms = term_index(a.pk for a in agreements.values())
    rows = []
    for position in positions:
        level = levels.get(position.ledger_id)
        if level is None:
            continue  # not reported on or before as_of
        period_start, period_end, on_hand, on_order, in_transit, committed, sold = level
        position.as_of = period_end
        position.on_hand = on_hand if on_hand is not None else ZERO
        position.on_order = on_order if on_order is not None else ZERO
        position.in_transit = in_transit if in_transit is not None else ZERO
        position.committed = committed if committed is not None else ZERO
        position.sold_last_period = sold if sold is not None else ZERO
        agreement = agreements.get((position.item.supplier_id, position.location.party_id))
        term = None
        if agreement is not None:
            term = terms.get((agreement.pk, position.item_id, position.location_id)) or terms.get(
                (agreement.pk, position.item_id, None)
            )
        row = CostedPosition(
            position=position,
            agreement=agreement,
            unit_cost=term.unit_cost if term else None,
            net_selling_price=term.net_selling_price if term else None,
            as_of=as_of,
            period_start=period_start,
        )
        if filters.currency and row.currency != filters.currency:
            continue
        if filters.owner and row.owner_kind != filters.owner:
            continue
        rows.append(row)
    return rows


def data_age(rows: list[CostedPosition], as_of: date) -> list[dict]:
    """Per reporting partner (the buyer): its last report on or before ``as_of``, how old
    it is, and whether it is stale (older than its cadence plus the grace period); its
    stock is carried forward either way, never counted as zero."""
    partners: dict[str, dict] = {}
    for row in rows:
        code = row.position.location.party.code
        entry = partners.setdefault(
            code,
            {
                "partner": code,
                "last_report": row.reported_on,
                "oldest_report": row.reported_on,
                "cadence": row.cadence,
                "item_locations": 0,
                "stale_item_locations": 0,
            },
        )
        entry["last_report"] = max(entry["last_report"], row.reported_on)
        entry["oldest_report"] = min(entry["oldest_report"], row.reported_on)
        entry["item_locations"] += 1
        entry["stale_item_locations"] += row.stale
    out = []
    for _code, entry in sorted(partners.items()):
        age = (as_of - entry["last_report"]).days
        limit = stale_after_days(entry["cadence"])
        out.append(
            {
                **entry,
                "last_report": entry["last_report"].isoformat(),
                "oldest_report": entry["oldest_report"].isoformat(),
                "age_days": age,
                "stale_after_days": limit,
                "stale": age > limit,
            }
        )
    return out


def stale_partners(ages: list[dict]) -> list[str]:
    return [a["partner"] for a in ages if a["stale"]]
