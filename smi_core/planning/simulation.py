"""Scenario simulation (the "digital twin"): replay the replenishment policy week by week
over a demand history, once with the current assumptions and once with changed ones
(demand scaled, another lead time or service level), and compare fill rate, stockouts,
average inventory value, working capital and carrying cost. Framework-free.

Each week: orders due arrive; demand (the history times the demand factor) is served from
stock, the rest is lost; then the policy reviews the series: the order-up-to level from the
mean and deviation of the last eight weeks of demand at the lead time and service level,
an order for the gap between it and the position (on hand plus on order), rounded to the
agreed MOQ and pack multiple, arriving after the lead time. Lead-time variability draws
from a random generator seeded with ``seed``, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from smi_core.planning.policy import order_up_to, round_order

CENT = Decimal("0.01")
WINDOW = 8  # weeks of demand the policy looks back on


@dataclass(frozen=True)
class Series:
    key: str  # e.g. "ACME-1001@demo-retail/S001"
    demand: tuple[Decimal, ...]  # units per week, oldest first
    on_hand: Decimal  # at the start of the replay
    unit_cost: Decimal
    lead_time_days: Decimal
    lead_time_sigma_days: Decimal = Decimal(0)
    service_level: Decimal = Decimal("0.95")
    review_period_days: Decimal = Decimal(7)
    moq: Decimal | None = None
    pack: Decimal | None = None


@dataclass(frozen=True)
class Assumptions:
    demand_factor: Decimal = Decimal(1)
    lead_time_days: Decimal | None = None  # None: each series' own
    service_level: Decimal | None = None

    def apply(self, series: Series) -> Series:
        return replace(
            series,
            lead_time_days=self.lead_time_days
            if self.lead_time_days is not None
            else series.lead_time_days,
            service_level=self.service_level
            if self.service_level is not None
            else series.service_level,
        )


@dataclass
class Outcome:
    demand: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    lost: Decimal = Decimal(0)
    stockout_weeks: int = 0
    series_weeks: int = 0
    inventory_value_by_week: dict[int, Decimal] = field(default_factory=dict)  # all series
    orders: int = 0
    units_ordered: Decimal = Decimal(0)

    def summary(self, *, weeks: int, carrying_rate: Decimal) -> dict:
        values = list(self.inventory_value_by_week.values())
        average = sum(values, Decimal(0)) / len(values) if values else Decimal(0)
        average = average.quantize(CENT, rounding=ROUND_HALF_UP)
        carrying = (average * carrying_rate * weeks / 52).quantize(CENT, rounding=ROUND_HALF_UP)
        return {
            "fill_rate": str((self.sold / self.demand).quantize(Decimal("0.0001")))
            if self.demand
            else None,
            "stockout_weeks": self.stockout_weeks,
            "in_stock_pct": str(
                (
                    Decimal(self.series_weeks - self.stockout_weeks) * 100 / self.series_weeks
                ).quantize(Decimal("0.01"))
            )
            if self.series_weeks
            else None,
            "units_demanded": str(self.demand),
            "units_lost": str(self.lost),
            "average_inventory_value": str(average),
            "working_capital": str(average),
            "carrying_cost": str(carrying),
            "orders": self.orders,
            "units_ordered": str(self.units_ordered),
        }


def _replay(series: Series, factor: Decimal, weeks: int, rng: random.Random, out: Outcome) -> None:
    history = [d * factor for d in series.demand]
    start = max(len(history) - weeks, 0)
    on_hand = series.on_hand
    pipeline: dict[int, Decimal] = {}  # week it arrives -> units
    for week in range(start, len(history)):
        on_hand += pipeline.pop(week, Decimal(0))
        demand = history[week]
        sold = min(on_hand, demand)
        on_hand -= sold
        out.demand += demand
        out.sold += sold
        out.lost += demand - sold
        out.series_weeks += 1
        if demand > sold:
            out.stockout_weeks += 1
        out.inventory_value_by_week[week - start] = (
            out.inventory_value_by_week.get(week - start, Decimal(0)) + on_hand * series.unit_cost
        )
        window = [float(d) for d in history[max(0, week - WINDOW + 1) : week + 1]]
        mean = Decimal(repr(statistics.fmean(window)))
        sigma = Decimal(repr(statistics.pstdev(window))) if len(window) > 1 else Decimal(0)
        lead_days = series.lead_time_days
        if series.lead_time_sigma_days > 0:
            lead_days = max(
                Decimal(0),
                lead_days + Decimal(repr(rng.gauss(0, float(series.lead_time_sigma_days)))),
            )
        target = order_up_to(
            demand=mean,
            sigma_demand=sigma,
            lead_time=series.lead_time_days / 7,
            review_period=series.review_period_days / 7,
            service_level=series.service_level,
            sigma_lead_time=series.lead_time_sigma_days / 7,
        )
        position = on_hand + sum(pipeline.values(), Decimal(0))
        order = round_order(target - position, position=position, moq=series.moq, pack=series.pack)
        if order.quantity > 0:
            arrives = week + max(1, math.ceil(float(lead_days) / 7))
            pipeline[arrives] = pipeline.get(arrives, Decimal(0)) + order.quantity
            out.orders += 1
            out.units_ordered += order.quantity


def simulate(
    series: list[Series],
    *,
    weeks: int,
    scenario: Assumptions,
    carrying_rate: Decimal,
    seed: int = 0,
) -> dict:
    """Replay ``series`` over their last ``weeks`` weeks under the current assumptions and
    under ``scenario``; the same seed gives the same result."""
    results = {}
    by_week = {}
    for name, assumptions in (("current", Assumptions()), ("scenario", scenario)):
        rng = random.Random(seed)
        outcome = Outcome()
        for one in series:
            _replay(assumptions.apply(one), assumptions.demand_factor, weeks, rng, outcome)
        results[name] = outcome.summary(weeks=weeks, carrying_rate=carrying_rate)
        by_week[name] = [
            str(value.quantize(CENT, rounding=ROUND_HALF_UP))
            for _, value in sorted(outcome.inventory_value_by_week.items())
        ]
    delta = {}
    for key, value in results["current"].items():
        other = results["scenario"][key]
        if value is None or other is None:
            delta[key] = None
        else:
            delta[key] = str(Decimal(str(other)) - Decimal(str(value)))
    return {
        "weeks": weeks,
        "seed": seed,
        "series": len(series),
        "assumptions": {
            "demand_factor": str(scenario.demand_factor),
            "lead_time_days": str(scenario.lead_time_days)
            if scenario.lead_time_days is not None
            else "agreement",
            "service_level": str(scenario.service_level)
            if scenario.service_level is not None
            else "agreement",
        },
        "current": results["current"],
        "scenario": results["scenario"],
        "difference": delta,
        # inventory value at each replayed week's end (oldest first), for the chart
        "inventory_value_by_week": by_week,
    }
