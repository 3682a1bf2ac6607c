"""The inputs of a scenario simulation from the database: each item-location's weekly
sales (852 QS), its stock when the replay starts, unit cost (in the reporting currency at
the rate on ``as_of``) and agreed policy."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max

from smi_core.models import ProductActivity
from smi_core.planning.simulation import Assumptions, Series, simulate
from smi_core.selectors.finance.base import (
    Filters,
    FinanceScope,
    costed_positions,
    reporting_currency,
    term_index,
)
from smi_core.selectors.planning import weekly_demand
from smi_core.services.fx import RateBook


def simulation_inputs(
    *, scope: FinanceScope, filters: Filters, as_of: date, weeks: int
) -> list[Series]:
    rows = [
        r
        for r in costed_positions(scope=scope, filters=filters, as_of=as_of)
        if r.unit_cost is not None and r.agreement is not None
    ]
    keys = {(r.position.item_id, r.position.location_id) for r in rows}
    history = weekly_demand(keys, as_of=as_of, weeks=weeks) if keys else {}
    start = as_of - timedelta(weeks=weeks)
    opening = _opening_stock(keys, start)
    terms = term_index({r.agreement.pk for r in rows})
    rates, target = RateBook(), reporting_currency()
    series = []
    for row in rows:
        p = row.position
        demand = history.get((p.item_id, p.location_id))
        if not demand:
            continue
        agreement = row.agreement
        term = terms.get((agreement.pk, p.item_id, p.location_id)) or terms.get(
            (agreement.pk, p.item_id, None)
        )
        series.append(
            Series(
                key=f"{p.item.vendor_item}@{p.location.party.code}/{p.location.code}",
                demand=tuple(Decimal(repr(d)) for d in demand),
                on_hand=opening.get((p.item_id, p.location_id), p.on_hand),
                unit_cost=row.unit_cost * rates.on(row.currency, target, as_of).rate,
                lead_time_days=(term.lead_time_days if term and term.lead_time_days else None)
                or agreement.lead_time_days,
                lead_time_sigma_days=agreement.lead_time_sigma_days,
                service_level=agreement.service_level,
                review_period_days=Decimal(agreement.review_period_days),
                moq=term.moq if term else None,
                pack=term.pack_multiple if term else None,
            )
        )
    return series


def _opening_stock(keys, start: date) -> dict[tuple[int, int], Decimal]:
    """On hand reported for the last period ending on or before ``start``."""
    items = {i for i, _ in keys}
    latest = (
        ProductActivity.objects.filter(item_id__in=items, activity_code="QA", period_end__lte=start)
        .values("item_id", "location_id")
        .annotate(last=Max("period_end"))
    )
    wanted = {(r["item_id"], r["location_id"], r["last"]) for r in latest}
    found: dict[tuple[int, int], Decimal] = {}
    for item_id, location_id, period_end, quantity in ProductActivity.objects.filter(
        item_id__in=items, activity_code="QA", period_end__lte=start
    ).values_list("item_id", "location_id", "period_end", "quantity"):
        if (item_id, location_id, period_end) in wanted and (item_id, location_id) in keys:
            found[(item_id, location_id)] = found.get((item_id, location_id), Decimal(0)) + quantity
    return found


def simulation_run(
    *,
    scope: FinanceScope,
    filters: Filters,
    as_of: date,
    weeks: int,
    demand_factor: Decimal = Decimal(1),
    lead_time_days: Decimal | None = None,
    service_level: Decimal | None = None,
    seed: int = 0,
) -> dict:
    series = simulation_inputs(scope=scope, filters=filters, as_of=as_of, weeks=weeks)
    result = simulate(
        series,
        weeks=weeks,
        scenario=Assumptions(
            demand_factor=demand_factor, lead_time_days=lead_time_days, service_level=service_level
        ),
        carrying_rate=Decimal(settings.SMI_CARRYING_RATE),
        seed=seed,
    )
    result["as_of"] = as_of.isoformat()
    result["reporting_currency"] = reporting_currency()
    return result
