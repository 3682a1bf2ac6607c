"""How the inventory performs, from the 852 history: turnover, DIO, inventory-to-sales,
weeks of supply and GMROI per supplier and overall; working capital released against a
baseline period; fill rate, in-stock % and stockouts; the supplier scorecard from orders
and shipments; and continuity (how long the buyer's stock lasts if a supplier stops).

Per period the 852 gives, for each item and location, units sold (QS) and on hand at the
period end (QA). COGS = units sold * unit cost; average inventory = the mean over the
periods of the on-hand value; all converted to the reporting currency at the rate on the
period's last day. A period with nothing on hand at its end is a stockout; the sales it
lost are estimated at the series' average sales in periods with stock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

from smi_core.finance.formulas import (
    days_inventory_outstanding,
    fill_rate,
    gmroi,
    inventory_to_sales,
    money,
    ratio,
    turnover,
    weeks_of_supply,
    working_capital_released,
)
from smi_core.models import (
    ProductActivity,
    ProposalLine,
    ReplenishmentProposal,
    SeriesForecast,
    ShipmentLine,
)
from smi_core.selectors.finance.base import (
    ZERO,
    CostedPosition,
    Filters,
    FinanceScope,
    costed_positions,
    distinct_rates,
    reporting_currency,
)
from smi_core.services.fx import RateBook


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class _Totals:
    cogs: Decimal = ZERO
    margin: Decimal = ZERO
    margin_known: bool = True
    units_sold: Decimal = ZERO
    inventory_by_period: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    on_hand_units: Decimal = ZERO
    in_transit_units: Decimal = ZERO
    periods: set = field(default_factory=set)
    rates: list = field(default_factory=list)  # each rate used (with a date)

    def add_rate(self, rate: dict) -> None:
        if rate["date"]:
            self.rates.append(rate)

    def rate_list(self) -> list[dict]:
        return distinct_rates(self.rates)

    def figures(self, days: int) -> dict:
        values = list(self.inventory_by_period.values())
        average = money(sum(values, ZERO) / len(values)) if values else ZERO
        ending = self.inventory_by_period[max(self.inventory_by_period)] if values else ZERO
        weeks = max(len(self.periods), 1)
        # Sales at the terms' net selling price where every item sold has one, else at cost.
        sales = self.cogs + self.margin if self.margin_known else self.cogs
        return {
            "cogs": str(money(self.cogs)),
            "average_inventory": str(average),
            "ending_inventory": str(money(ending)),
            "units_sold": str(self.units_sold),
            "turnover": _text(turnover(cogs=self.cogs, average_inventory=average)),
            "dio_days": _text(
                days_inventory_outstanding(average_inventory=average, cogs=self.cogs, days=days)
            ),
            "inventory_to_sales": _text(inventory_to_sales(ending_inventory=ending, sales=sales)),
            "sales": str(money(sales)),
            "sales_basis": "net selling price" if self.margin_known else "cost (COGS)",
            "weeks_of_supply": _text(
                weeks_of_supply(
                    on_hand=self.on_hand_units,
                    in_transit=self.in_transit_units,
                    average_weekly_units=self.units_sold / weeks,
                )
            ),
            "gmroi": _text(gmroi(gross_margin=self.margin, average_inventory=average))
            if self.margin_known
            else None,
            "rates": self.rate_list(),
            "inventory_by_period": [
                {"period_end": day.isoformat(), "value": str(money(value))}
                for day, value in sorted(self.inventory_by_period.items())
            ],
        }


def _activity(rows: list[CostedPosition], start: date, end: date):
    keys = {(r.position.item_id, r.position.location_id) for r in rows}
    items = {i for i, _ in keys}
    found = (
        ProductActivity.objects.filter(
            item_id__in=items,
            activity_code__in=["QS", "QA"],
            period_end__gte=start,
            period_end__lte=end,
        )
        .values_list("item_id", "location_id", "period_end", "activity_code", "quantity")
        .order_by("period_end")
    )
    per_key: dict[tuple[int, int], dict[date, dict[str, Decimal]]] = defaultdict(dict)
    for item_id, location_id, period_end, code, quantity in found:
        if (item_id, location_id) in keys:
            per_period = per_key[(item_id, location_id)].setdefault(period_end, {})
            per_period[code] = per_period.get(code, ZERO) + quantity
    return per_key


def turnover_report(
    *, scope: FinanceScope, filters: Filters, start: date, end: date, as_of: date | None = None
) -> dict:
    """Turnover, DIO, inventory-to-sales, weeks of supply and GMROI for [start, end], per
    supplier and overall, in the reporting currency; ``rates``: each rate used (the rate
    on each period's last day) with its date."""
    as_of = as_of or end
    rows = costed_positions(scope=scope, filters=filters, as_of=as_of)
    history = _activity(rows, start, end)
    rates = RateBook()
    target = reporting_currency()
    days = (end - start).days + 1
    per_supplier: dict[str, _Totals] = defaultdict(_Totals)
    overall = _Totals()
    for row in rows:
        if row.unit_cost is None:
            continue
        supplier = row.position.item.supplier.code
        for totals in (per_supplier[supplier], overall):
            totals.on_hand_units += row.position.on_hand
            totals.in_transit_units += row.position.in_transit
        for period_end, codes in history.get(
            (row.position.item_id, row.position.location_id), {}
        ).items():
            used = rates.on(row.currency, target, period_end)
            rate = used.rate
            sold = codes.get("QS", ZERO)
            on_hand = codes.get("QA")
            for totals in (per_supplier[supplier], overall):
                totals.add_rate(used.as_dict())
                totals.periods.add(period_end)
                totals.units_sold += sold
                totals.cogs += sold * row.unit_cost * rate
                if row.net_selling_price is None:
                    totals.margin_known = False
                else:
                    totals.margin += sold * (row.net_selling_price - row.unit_cost) * rate
                if on_hand is not None:
                    totals.inventory_by_period[period_end] += on_hand * row.unit_cost * rate
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": days,
        "reporting_currency": target,
        "suppliers": {code: t.figures(days) for code, t in sorted(per_supplier.items())},
        "overall": overall.figures(days),
        "rates": overall.rate_list(),
    }


def working_capital(
    *,
    scope: FinanceScope,
    filters: Filters,
    start: date,
    end: date,
    baseline_start: date,
    baseline_end: date,
    carrying_rate: Decimal | None = None,
) -> dict:
    """Working capital released since the baseline period: (baseline DIO - current DIO) *
    annual COGS / 365, and the yearly carrying cost it saves at ``carrying_rate``;
    ``rates``: each exchange rate the two periods' COGS and inventory were converted at."""
    rate = carrying_rate if carrying_rate is not None else Decimal(settings.SMI_CARRYING_RATE)
    current_report = turnover_report(scope=scope, filters=filters, start=start, end=end)
    baseline_report = turnover_report(
        scope=scope, filters=filters, start=baseline_start, end=baseline_end, as_of=end
    )
    current, baseline = current_report["overall"], baseline_report["overall"]
    periods = {
        "baseline": {"start": baseline_start.isoformat(), "end": baseline_end.isoformat()},
        "current": {"start": start.isoformat(), "end": end.isoformat()},
    }
    rates_used = distinct_rates(baseline_report["rates"] + current_report["rates"])
    if current["dio_days"] is None or baseline["dio_days"] is None:
        return {
            **periods,
            "baseline_dio": baseline["dio_days"],
            "current_dio": current["dio_days"],
            "released": None,
            "annual_carrying_saving": None,
            "carrying_rate": str(rate),
            "note": "DIO cannot be computed for a period without sales",
            "reporting_currency": reporting_currency(),
            "rates": rates_used,
        }
    days = (end - start).days + 1
    annual_cogs = Decimal(current["cogs"]) * 365 / days
    release = working_capital_released(
        baseline_dio=Decimal(baseline["dio_days"]),
        current_dio=Decimal(current["dio_days"]),
        cogs=annual_cogs,
        carrying_rate=rate,
    )
    return {
        **periods,
        "baseline_dio": baseline["dio_days"],
        "current_dio": current["dio_days"],
        "annual_cogs": str(money(annual_cogs)),
        "released": str(release.released),
        "carrying_rate": str(rate),
        "annual_carrying_saving": str(release.annual_saving),
        "reporting_currency": reporting_currency(),
        "rates": rates_used,
    }


def service_report(*, scope: FinanceScope, filters: Filters, start: date, end: date) -> dict:
    """Fill rate, in-stock % and stockouts from the 852 history, per supplier and overall."""
    rows = costed_positions(scope=scope, filters=filters, as_of=end)
    history = _activity(rows, start, end)
    per_supplier: dict[str, dict] = defaultdict(
        lambda: {"sold": ZERO, "lost": ZERO, "periods": 0, "stockouts": 0}
    )
    for row in rows:
        periods = history.get((row.position.item_id, row.position.location_id), {})
        if not periods:
            continue
        with_stock = [c.get("QS", ZERO) for c in periods.values() if c.get("QA", ZERO) > 0]
        average = sum(with_stock, ZERO) / len(with_stock) if with_stock else ZERO
        entry = per_supplier[row.position.item.supplier.code]
        for codes in periods.values():
            entry["periods"] += 1
            entry["sold"] += codes.get("QS", ZERO)
            if "QA" in codes and codes["QA"] <= 0:
                entry["stockouts"] += 1
                entry["lost"] += average
    overall = {"sold": ZERO, "lost": ZERO, "periods": 0, "stockouts": 0}
    for entry in per_supplier.values():
        for key in overall:
            overall[key] += entry[key]

    def figures(entry: dict) -> dict:
        periods = entry["periods"]
        return {
            "fill_rate": _text(
                fill_rate(demand=entry["sold"] + entry["lost"], shortfall=entry["lost"])
            ),
            "in_stock_pct": _text(ratio(Decimal(periods - entry["stockouts"]) * 100 / periods))
            if periods
            else None,
            "stockouts": entry["stockouts"],
            "item_location_periods": periods,
            "units_sold": str(entry["sold"]),
            "units_lost_estimate": str(money(entry["lost"])),
        }

    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "suppliers": {code: figures(e) for code, e in sorted(per_supplier.items())},
        "overall": figures(overall),
    }


def supplier_scorecard(*, scope: FinanceScope, filters: Filters) -> dict:
    """Per supplier: lines and units shipped versus ordered, shipments on time against the
    date promised in the 855, and units received (852 QR) versus shipped (856)."""
    P = ReplenishmentProposal.Status
    orders = scope.proposals(
        ReplenishmentProposal.objects.filter(
            status__in=[P.ORDERED, P.SHIPPED, P.RECEIVED, P.CLOSED]
        )
    )
    if filters.supplier:
        orders = orders.filter(supplier__code=filters.supplier)
    if filters.buyer:
        orders = orders.filter(buyer__code=filters.buyer)
    lines = ProposalLine.objects.filter(proposal__in=orders).select_related("proposal__supplier")
    shipped = defaultdict(list)
    for line in ShipmentLine.objects.filter(order_line__proposal__in=orders).select_related(
        "pack__shipment"
    ):
        shipped[line.order_line_id].append(line)
    cards: dict[str, dict] = defaultdict(
        lambda: {
            "lines_ordered": 0,
            "lines_shipped": 0,
            "units_ordered": ZERO,
            "units_shipped": ZERO,
            "shipments_with_promise": 0,
            "on_time": 0,
            "units_received": ZERO,
        }
    )
    for line in lines:
        ordered = line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity
        if ordered <= 0 and not shipped.get(line.pk):
            continue
        card = cards[line.proposal.supplier.code]
        card["lines_ordered"] += 1
        card["units_ordered"] += ordered
        parts = shipped.get(line.pk, [])
        if parts:
            card["lines_shipped"] += 1
        for part in parts:
            card["units_shipped"] += part.quantity
            card["units_received"] += part.received_quantity
            if line.promised_date:
                card["shipments_with_promise"] += 1
                if part.pack.shipment.ship_date <= line.promised_date:
                    card["on_time"] += 1
    result = {}
    for code, card in sorted(cards.items()):
        result[code] = {
            **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in card.items()},
            "line_fill_pct": _pct(card["lines_shipped"], card["lines_ordered"]),
            "unit_fill_pct": _pct(card["units_shipped"], card["units_ordered"]),
            "on_time_pct": _pct(card["on_time"], card["shipments_with_promise"]),
            "received_vs_shipped_pct": _pct(card["units_received"], card["units_shipped"]),
        }
    return {"suppliers": result}


def _pct(part, whole) -> str | None:
    if not whole:
        return None
    return str(ratio(Decimal(part) * 100 / Decimal(whole)))


def continuity(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    """Per supplier: how many days the buyer's stock (on hand + in transit) lasts at the
    forecast demand if that supplier's deliveries stop today, first to run out first."""
    rows = costed_positions(scope=scope, filters=filters, as_of=as_of)
    forecasts = {
        (f.item_id, f.location_id): f.demand_per_week
        for f in SeriesForecast.objects.filter(item_id__in={r.position.item_id for r in rows})
    }
    per_supplier: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        p = row.position
        weekly = forecasts.get((p.item_id, p.location_id)) or p.sold_last_period
        stock = p.on_hand + p.in_transit
        days = ratio(stock * 7 / weekly) if weekly and weekly > 0 else None
        per_supplier[p.item.supplier.code].append(
            {
                "item": p.item.vendor_item,
                "buyer": p.location.party.code,
                "location": p.location.code,
                "stock": str(stock),
                "demand_per_week": str(weekly) if weekly else "0",
                "days_of_cover": _text(days),
            }
        )
    result = {}
    for code, entries in sorted(per_supplier.items()):
        entries.sort(key=lambda e: (e["days_of_cover"] is None, Decimal(e["days_of_cover"] or 0)))
        covered = [Decimal(e["days_of_cover"]) for e in entries if e["days_of_cover"] is not None]
        result[code] = {
            "first_run_out_days": str(min(covered)) if covered else None,
            "median_days": str(sorted(covered)[len(covered) // 2]) if covered else None,
            "out_within_7_days": sum(1 for d in covered if d < 7),
            "out_within_28_days": sum(1 for d in covered if d < 28),
            "item_locations": entries,
        }
    return {"as_of": as_of.isoformat(), "suppliers": result}
