"""Cash-out forecast for replenishment, in weekly buckets (weeks start on Monday), per
currency and in the reporting currency at the rate on ``as_of``.

- Buyer-owned stock is paid per order: open proposals and approved or ordered orders are
  expected to ship on their promised date (or at once), arrive after the agreement's lead
  time (in whole days, a part day counting as a whole one: 2.5 days is 3), and be paid
  ``payment_terms_days`` after arrival; shipped orders from their ship date; received orders from the day they were received (an invoice already due before
  ``as_of`` is taken as paid: SMI Hub keeps no payment ledger).
- Consignment stock is paid as the buyer consumes it: what the 852s report sold (QS) in
  periods ended on or before ``as_of`` and not yet due is owed, due ``payment_terms_days``
  after the period's end; then each week's forecast consumption of the stock as of
  ``as_of`` (on hand, in transit and on order), at unit cost, paid ``payment_terms_days``
  after the week ends.
- The same amounts are cash-out for the buyer and cash-in for the supplier.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from smi_core.finance.formulas import money
from smi_core.models import ReplenishmentProposal, SeriesForecast, StockLevel, SupplyAgreement
from smi_core.selectors.finance.base import (
    CHUNK,
    ZERO,
    AgedRateBook,
    CostedPosition,
    Filters,
    FinanceScope,
    costed_positions,
    data_age,
    reporting_currency,
    stale_partners,
    without_cost,
)

P = ReplenishmentProposal.Status
OPEN = (P.PROPOSED, P.APPROVED, P.ORDERED, P.SHIPPED, P.RECEIVED)


def _orders(scope: FinanceScope, filters: Filters):
    qs = scope.proposals(
        ReplenishmentProposal.objects.filter(status__in=OPEN)
        .exclude(agreement__ownership=SupplyAgreement.Ownership.CONSIGNMENT)
        .select_related("agreement", "supplier", "buyer")
        .prefetch_related("lines", "packs__shipment")
    )
    if filters.supplier:
        qs = qs.filter(supplier__code=filters.supplier)
    if filters.buyer:
        qs = qs.filter(buyer__code=filters.buyer)
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    return qs


def lead_time_days(lead_time: Decimal) -> int:
    """Whole days of a lead time: part of a day counts as a whole one (rounded up)."""
    return int(Decimal(lead_time).to_integral_value(rounding=ROUND_CEILING))


def _order_payment(order: ReplenishmentProposal, as_of: date) -> tuple[date, Decimal] | None:
    agreement = order.agreement
    lead = timedelta(days=lead_time_days(agreement.lead_time_days))
    terms = timedelta(days=agreement.payment_terms_days)
    lines = list(order.lines.all())
    amount = money(
        sum(
            (
                (line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity)
                * line.unit_cost
                for line in lines
            ),
            ZERO,
        )
    )
    if order.status == P.RECEIVED:
        received = max(
            (p.shipment.received_at.date() for p in order.packs.all() if p.shipment.received_at),
            default=as_of,
        )
        due = received + terms
        return None if due < as_of else (due, amount)
    if order.status == P.SHIPPED:
        shipped = max((p.shipment.ship_date for p in order.packs.all()), default=as_of)
        return shipped + lead + terms, amount
    promised = max((line.promised_date for line in lines if line.promised_date), default=None)
    ship = max(promised or order.po_date or as_of, as_of)
    return ship + lead + terms, amount


def _consumed_unpaid(rows: list[CostedPosition], as_of: date):
    """(row, period end, units sold, amount, due date) for each consigned item-location's
    reported sales (QS) in periods ended on or before ``as_of`` whose payment is not yet due
    (due = period end + payment terms, after ``as_of``); from the stock ledger."""
    costed = [r for r in rows if r.unit_cost is not None and r.agreement is not None]
    if not costed:
        return
    longest = max(r.agreement.payment_terms_days for r in costed)
    by_key = {(r.position.item_id, r.position.location_id): r for r in costed}
    qs = StockLevel.objects.filter(
        period_end__gt=as_of - timedelta(days=longest), period_end__lte=as_of, sold__gt=0
    )
    items = {i for i, _ in by_key}
    if len(items) <= CHUNK:
        qs = qs.filter(item_id__in=items)
    for item_id, location_id, period_end, sold in qs.values_list(
        "item_id", "location_id", "period_end", "sold"
    ).order_by("period_end", "item_id", "location_id"):
        row = by_key.get((item_id, location_id))
        if row is None:
            continue
        due = period_end + timedelta(days=row.agreement.payment_terms_days)
        if due > as_of:
            yield row, period_end, sold, money(sold * row.unit_cost), due


def cash_forecast(*, scope: FinanceScope, filters: Filters, as_of: date, weeks: int = 12) -> dict:
    start = as_of - timedelta(days=as_of.weekday())
    target = reporting_currency()
    rates = AgedRateBook()
    buckets: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    later: dict[str, Decimal] = defaultdict(lambda: ZERO)
    items = []

    days: dict[date, tuple[str, int]] = {}  # due date -> (ISO text, week), once per date

    def add(kind: str, ref: str, currency: str, due: date, amount: Decimal) -> None:
        found = days.get(due)
        if found is None:
            found = days[due] = (due.isoformat(), max((due - start).days // 7, 0))
        text, week = found
        items.append(
            {
                "kind": kind,
                "ref": ref,
                "currency": currency,
                "amount": str(amount),
                "due": text,
                "week": week if week < weeks else None,
            }
        )
        if week < weeks:
            buckets[week][currency] += amount
        else:
            later[currency] += amount

    for order in _orders(scope, filters):
        payment = _order_payment(order, as_of)
        if payment is None or payment[1] == 0:
            continue
        due, amount = payment
        kind = "proposal" if order.status == P.PROPOSED else "order"
        add(kind, order.po_number or f"proposal #{order.pk}", order.currency, due, amount)

    consignment = Filters(
        supplier=filters.supplier, buyer=filters.buyer, currency=filters.currency, owner="supplier"
    )
    rows = costed_positions(scope=scope, filters=consignment, as_of=as_of)
    for row, period_end, _, amount, due in _consumed_unpaid(rows, as_of):
        p = row.position
        add(
            "consumed",
            f"{p.item.vendor_item}@{p.location.party.code}/{p.location.code} "
            f"sold to {period_end.isoformat()}",
            row.currency,
            due,
            amount,
        )
    demand = {
        (f.item_id, f.location_id): f.demand_per_week
        for f in SeriesForecast.objects.filter(item_id__in={r.position.item_id for r in rows})
    }
    pending = _pending_units(rows)
    week_ends = [start + timedelta(days=7 * week + 6) for week in range(weeks)]
    dues: dict[int, list[date]] = {}  # payment terms (days) -> each week's due date
    for row in rows:
        p = row.position
        weekly = demand.get((p.item_id, p.location_id)) or p.sold_last_period
        if row.unit_cost is None or not weekly or weekly <= 0:
            continue
        stock = p.on_hand + p.in_transit + pending.get((p.item_id, p.location_id), ZERO)
        if stock <= 0:
            continue
        terms = row.agreement.payment_terms_days
        due = dues.get(terms)
        if due is None:
            due = dues[terms] = [end + timedelta(days=terms) for end in week_ends]
        ref = f"{p.item.vendor_item}@{p.location.party.code}/{p.location.code}"
        week = 0
        while stock > 0 and week < weeks:
            used = min(weekly, stock)
            stock -= used
            add("consumption", ref, row.currency, due[week], money(used * row.unit_cost))
            week += 1

    closing = {}
    table = []
    for week in range(weeks):
        per_currency = buckets.get(week, {})
        converted = ZERO
        used = []
        for currency, amount in sorted(per_currency.items()):
            rate = rates.on(currency, target, as_of)
            closing[currency] = rate.as_dict()
            if rate.date is not None:
                used.append(rate.as_dict())
            converted += money(amount * rate.rate)
        table.append(
            {
                "week": week,
                "week_start": (start + timedelta(days=7 * week)).isoformat(),
                "by_currency": {c: str(a) for c, a in sorted(per_currency.items())},
                "reporting": str(converted),
                "rates": used,
            }
        )
    ages = data_age(rows, as_of)
    return {
        "as_of": as_of.isoformat(),
        "direction": "cash-out for the buyer, cash-in for the supplier",
        "left_out_no_cost": without_cost(rows),
        "data_age": ages,
        "stale_partners": stale_partners(ages),
        "rate_warnings": rates.warnings(),
        "weeks": weeks,
        "reporting_currency": target,
        "rates": sorted(closing.values(), key=lambda r: r["pair"]),
        "buckets": table,
        "later": {c: str(a) for c, a in sorted(later.items())},
        "total_reporting": str(money(sum((Decimal(b["reporting"]) for b in table), ZERO))),
        "items": sorted(items, key=lambda i: (i["due"], i["ref"])),
    }


def _pending_units(rows) -> dict[tuple[int, int], Decimal]:
    from smi_core.selectors.planning import pending_quantities

    keys = {(r.position.item_id, r.position.location_id) for r in rows}
    return pending_quantities(keys) if keys else {}


def amounts_owed(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    """What is owed now for replenishment, per supplier and currency: delivered orders whose
    invoice is not yet due (buyer-owned stock), and consigned goods sold whose payment is
    not yet due (852 QS in weeks ending within the payment terms)."""
    owed: dict[tuple[str, str], dict] = {}

    def add(supplier: str, currency: str, amount: Decimal, source: str) -> None:
        entry = owed.setdefault(
            (supplier, currency),
            {"supplier": supplier, "currency": currency, "orders": ZERO, "consignment": ZERO},
        )
        entry[source] += amount

    for order in _orders(scope, filters).filter(status__in=[P.SHIPPED, P.RECEIVED]):
        payment = _order_payment(order, as_of)
        if payment is not None:
            add(order.supplier.code, order.currency, payment[1], "orders")
    consignment = Filters(
        supplier=filters.supplier, buyer=filters.buyer, currency=filters.currency, owner="supplier"
    )
    consigned = costed_positions(scope=scope, filters=consignment, as_of=as_of)
    for row, _, _, amount, _ in _consumed_unpaid(consigned, as_of):
        add(row.position.item.supplier.code, row.currency, amount, "consignment")
    rows = [
        {
            **e,
            "orders": str(money(e["orders"])),
            "consignment": str(money(e["consignment"])),
            "total": str(money(e["orders"] + e["consignment"])),
        }
        for e in owed.values()
    ]
    ages = data_age(consigned, as_of)
    return {
        "as_of": as_of.isoformat(),
        "rows": sorted(rows, key=lambda r: (r["supplier"], r["currency"])),
        "left_out_no_cost": without_cost(consigned),
        "data_age": ages,
        "stale_partners": stale_partners(ages),
    }
