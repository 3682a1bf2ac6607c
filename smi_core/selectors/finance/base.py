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

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    ExchangeRate,
    FinanceAccess,
    InventoryPosition,
    Item,
    Location,
    Party,
    StockLevel,
    SupplyAgreement,
)
from smi_core.selectors.planning import agreements_in_force
from smi_core.services.fx import MissingRate, Rate, RateBook, rate_on

ZERO = Decimal(0)
CADENCE_DAYS = {"weekly": 7, "daily": 1}
DEFAULT_GRACE_DAYS = {"weekly": 3, "daily": 1}
CHUNK = 5000
QUANTUM = Decimal("0.0001")  # the ledger's quantities have four decimal places


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
        self._found: dict[tuple[str, str, date], Rate | None] = {}

    def peek(self, currency: str, quote: str, day: date) -> Rate | None:
        """The rate ``on`` would use, or None when there is none; not noted as used (no
        warning): for rates a query may need, before it tells which it used."""
        key = (currency, quote, day)
        if key not in self._found:
            try:
                self._found[key] = rate_on(currency, quote, day)
            except MissingRate:
                self._found[key] = None
        return self._found[key]

    def peek_days(self, currency: str, quote: str, days: list[date]) -> None:
        """``peek`` for many days at once: the pair's rates (and its inverse's) up to the
        last day read in two queries, each day's then picked as ``rate_on`` picks it."""
        wanted = [d for d in days if (currency, quote, d) not in self._found]
        if not wanted or currency == quote:
            return
        last = max(wanted)
        direct = list(
            ExchangeRate.objects.filter(currency=currency, quote=quote, date__lte=last)
            .order_by("date")
            .values_list("date", "rate")
        )
        inverse = list(
            ExchangeRate.objects.filter(currency=quote, quote=currency, date__lte=last)
            .order_by("date")
            .values_list("date", "rate")
        )
        direct_days = [d for d, _ in direct]
        inverse_days = [d for d, _ in inverse]
        for day in wanted:
            n = bisect_right(direct_days, day)
            m = bisect_right(inverse_days, day)
            d = direct[n - 1] if n else None
            i = inverse[m - 1] if m else None
            if d and (i is None or d[0] >= i[0]):
                found = Rate(currency, quote, d[1], d[0])
            elif i:
                found = Rate(
                    currency, quote, (Decimal(1) / i[1]).quantize(Decimal("1e-8")), i[0], True
                )
            else:
                found = None
            self._found[(currency, quote, day)] = found

    def on(self, currency: str, quote: str, day: date) -> Rate:
        key = (currency, quote, day)
        if key in self._cache:
            return self._cache[key]
        found = self._found.get(key)
        rate = found if found is not None else super().on(currency, quote, day)
        self._cache[key] = rate
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


# What a position's agreement (None: none in force) decides: the cadence its data is judged
# by, the currency it is valued in, and whether the supplier owns the stock (consignment).
# Per agreement, so the bulk paths can work them out once per (supplier, buyer).
def _cadence(agreement: SupplyAgreement | None) -> str:
    return agreement.cadence if agreement else "weekly"


def _currency(agreement: SupplyAgreement | None) -> str:
    return agreement.currency if agreement else settings.SMI_REPORTING_CURRENCY


def _consigned(agreement: SupplyAgreement | None) -> bool:
    return bool(agreement and agreement.ownership == SupplyAgreement.Ownership.CONSIGNMENT)


@dataclass(slots=True)
class CostedPosition:
    """An item-location as of a date: ``position`` holds the levels of the latest ledger row
    on or before that date (``position.as_of`` its period end; ``sold_last_period`` that
    period's sales), not the current position's."""

    position: StockAt
    agreement: SupplyAgreement | None
    unit_cost: Decimal | None
    net_selling_price: Decimal | None
    as_of: date | None = None
    period_start: date | None = None
    stock_since: date | None = None  # last receipt (QR), else first report, on or before as_of

    @property
    def reported_on(self) -> date:
        return self.position.as_of

    @property
    def age_days(self) -> int:
        return (self.as_of - self.position.as_of).days if self.as_of else 0

    @property
    def cadence(self) -> str:
        return _cadence(self.agreement)

    @property
    def stale(self) -> bool:
        return self.age_days > stale_after_days(self.cadence)

    @property
    def currency(self) -> str:
        return _currency(self.agreement)

    @property
    def consignment(self) -> bool:
        return _consigned(self.agreement)

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


_AT_SQL = """
SELECT k.item_id, k.location_id, l.period_start, l.period_end, l.on_hand, l.on_order,
       l.in_transit, l.committed, l.sold, l.last_received, l.first_reported
FROM ({keys}) k
JOIN {ledger} l ON l.id = (
    SELECT l2.id FROM {ledger} l2
    WHERE l2.item_id = k.item_id AND l2.location_id = k.location_id AND l2.period_end <= %s
    ORDER BY l2.period_end DESC LIMIT 1
)
"""


def _stock_at(keys: QuerySet, as_of: date) -> list[tuple]:
    """Each item-location of ``keys`` (positions) with its latest ledger row on or before
    ``as_of``: one probe of the (item, location, period_end) index per item-location,
    however long the history; those first reported after ``as_of`` are not returned."""
    try:
        sql, params = keys.values("item_id", "location_id").order_by().query.sql_with_params()
    except EmptyResultSet:  # a scope that allows no party
        return []
    with connection.cursor() as cursor:
        cursor.execute(_AT_SQL.format(keys=sql, ledger=StockLevel._meta.db_table), [*params, as_of])
        return cursor.fetchall()


def _by_id(model, ids: set[int], related: str) -> dict[int, object]:
    out: dict[int, object] = {}
    ordered = sorted(ids)
    for n in range(0, len(ordered), CHUNK):
        out.update(
            (o.pk, o)
            for o in model.objects.filter(pk__in=ordered[n : n + CHUNK]).select_related(related)
        )
    return out


@dataclass(slots=True)
class StockAt:
    """An item-location's stock as of a date: the levels of its latest ledger row on or
    before it (``as_of``: that row's period end; ``sold_last_period``: its sales). Shares the
    item and location objects with every other row (one load per report, not per row)."""

    item: Item
    location: Location
    item_id: int
    location_id: int
    on_hand: Decimal
    on_order: Decimal
    in_transit: Decimal
    committed: Decimal
    sold_last_period: Decimal
    as_of: date


def _zero(value) -> Decimal:
    """A quantity from a raw query (SQLite gives floats or ints for numeric columns)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(QUANTUM)


def _day(value) -> date | None:
    """A date from a raw query (SQLite gives ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def costed_positions(*, scope: FinanceScope, filters: Filters, as_of: date) -> list[CostedPosition]:
    """The item-locations the scope allows with their stock as of ``as_of`` (the latest
    ledger row on or before it; those first reported later are left out), each with its
    agreement in force on ``as_of`` and its term (a location's own term before the item's
    general one)."""
    found = _stock_at(filters.positions(scope.positions(InventoryPosition.objects.all())), as_of)
    items = _by_id(Item, {k[0] for k in found}, "supplier")
    locations = _by_id(Location, {k[1] for k in found}, "party")
    agreements = agreements_in_force(as_of=as_of)
    terms = term_index(a.pk for a in agreements.values())
    # In supplier, buyer, location and item order; the keys worked out once per item and
    # location, not once per row.
    item_keys = {pk: (i.supplier.code, i.vendor_item) for pk, i in items.items()}
    location_keys = {pk: (loc.party.code, loc.code) for pk, loc in locations.items()}
    found.sort(
        key=lambda f: (
            item_keys[f[0]][0],
            location_keys[f[1]][0],
            location_keys[f[1]][1],
            item_keys[f[0]][1],
        )
    )
    # What depends only on the item's supplier and the location's buyer (the agreement),
    # or on the agreement and the item (its general term), worked out once, not per row.
    item_supplier = {pk: i.supplier_id for pk, i in items.items()}
    location_party = {pk: loc.party_id for pk, loc in locations.items()}

    def kept(agreement: SupplyAgreement | None) -> bool:
        consigned = _consigned(agreement)
        return not (
            (filters.currency and _currency(agreement) != filters.currency)
            or (filters.owner and ("supplier" if consigned else "buyer") != filters.owner)
        )

    # Per (supplier, buyer): the agreement in force, its id, and whether the filters keep it.
    pairs = {pair: (a, a.pk, kept(a)) for pair, a in agreements.items()}
    no_agreement = (None, None, kept(None))
    exact = connection.vendor == "postgresql"  # numeric and date come back as they are
    rows = []
    append = rows.append
    for (
        item_id,
        location_id,
        period_start,
        period_end,
        on_hand,
        on_order,
        in_transit,
        committed,
        sold,
        last_received,
        first_reported,
    ) in found:
        agreement, agreement_id, keep = pairs.get(
            (item_supplier[item_id], location_party[location_id]), no_agreement
        )
        if not keep:
            continue
        term = None
        if agreement is not None:
            term = terms.get((agreement_id, item_id, location_id)) or terms.get(
                (agreement_id, item_id, None)
            )
        if exact:
            position = StockAt(
                items[item_id],
                locations[location_id],
                item_id,
                location_id,
                ZERO if on_hand is None else on_hand,
                ZERO if on_order is None else on_order,
                ZERO if in_transit is None else in_transit,
                ZERO if committed is None else committed,
                ZERO if sold is None else sold,
                period_end,
            )
            since = last_received or first_reported
        else:
            position = StockAt(
                items[item_id],
                locations[location_id],
                item_id,
                location_id,
                _zero(on_hand),
                _zero(on_order),
                _zero(in_transit),
                _zero(committed),
                _zero(sold),
                _day(period_end),
            )
            period_start = _day(period_start)
            since = _day(last_received or first_reported)
        append(
            CostedPosition(
                position,
                agreement,
                term.unit_cost if term else None,
                term.net_selling_price if term else None,
                as_of,
                period_start,
                since,
            )
        )
    return rows


def data_age(rows: list[CostedPosition], as_of: date) -> list[dict]:
    """Per reporting partner (the buyer): its last report on or before ``as_of``, how old
    it is, and whether it is stale (older than its cadence plus the grace period); its
    stock is carried forward either way, never counted as zero."""
    # Counted per (partner, cadence, report date) first: the work per row is one lookup.
    counts: dict[tuple[str, str, date], int] = {}
    codes: dict[int, str] = {}
    for row in rows:
        p = row.position
        code = codes.get(p.location_id)
        if code is None:
            code = codes[p.location_id] = p.location.party.code
        cadence = _cadence(row.agreement)
        key = (code, cadence, p.as_of)
        counts[key] = counts.get(key, 0) + 1
    partners: dict[str, dict] = {}
    limits: dict[str, int] = {}
    for (code, cadence, reported), n in counts.items():  # in first-seen order
        if cadence not in limits:
            limits[cadence] = stale_after_days(cadence)
        entry = partners.setdefault(
            code,
            {
                "partner": code,
                "last_report": reported,
                "oldest_report": reported,
                "cadence": cadence,
                "item_locations": 0,
                "stale_item_locations": 0,
            },
        )
        entry["last_report"] = max(entry["last_report"], reported)
        entry["oldest_report"] = min(entry["oldest_report"], reported)
        entry["item_locations"] += n
        if (as_of - reported).days > limits[cadence]:
            entry["stale_item_locations"] += n
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


def without_cost(rows: list[CostedPosition]) -> list[dict]:
    """The item-locations a money figure leaves out for want of a unit cost in the terms,
    with the quantity left out: listed, never dropped silently."""
    return [
        {
            "item": r.position.item.vendor_item,
            "supplier": r.position.item.supplier.code,
            "buyer": r.position.location.party.code,
            "location": r.position.location.code,
            "on_hand": str(r.position.on_hand),
            "sold_last_period": str(r.position.sold_last_period),
            "reason": "no unit cost in the agreement's terms"
            if r.agreement
            else "no agreement in force",
        }
        for r in rows
        if r.unit_cost is None
    ]


def stale_partners(ages: list[dict]) -> list[str]:
    return [a["partner"] for a in ages if a["stale"]]
