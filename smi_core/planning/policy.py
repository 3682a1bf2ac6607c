"""Inventory policy formulas: safety stock, reorder point, order-up-to level, fill rate, EOQ,
and the rounding of an order to the agreement's min/max, MOQ and pack multiple.

Known answers (DESIGN.md) are tests: d=100, sigma_d=20, L=9 gives SS 76.9 / 98.7 / 123.2 /
139.6 at 90/95/98/99 %, and 343.5 at 95 % with sigma_L=2; Chopra & Meindl 11-4 gives
ESC 43.86 and fill rate 0.956; stockpyl Example 3.1 gives EOQ 304.0468 at cost 68.4105.

Inputs and results are Decimal at the edges; the normal distribution works in float inside
(NormalDist), and results are quantized so they are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from statistics import NormalDist

_NORMAL = NormalDist()
QUANT = Decimal("0.0001")


def _d(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(QUANT, rounding=ROUND_HALF_UP)


def z_for(service_level: Decimal | float) -> float:
    """The z of a cycle service level (0.95 -> 1.6449)."""
    level = float(service_level)
    if not 0 < level < 1:
        raise ValueError(f"service level must be between 0 and 1, not {service_level}")
    return _NORMAL.inv_cdf(level)


def safety_stock(
    *,
    demand: Decimal,
    sigma_demand: Decimal,
    lead_time: Decimal,
    service_level: Decimal,
    sigma_lead_time: Decimal = Decimal(0),
) -> Decimal:
    """SS = z * sqrt(L * sigma_d^2 + d^2 * sigma_L^2) (reduces to z * sigma_d * sqrt(L))."""
    z = z_for(service_level)
    d, sd, lt, sl = float(demand), float(sigma_demand), float(lead_time), float(sigma_lead_time)
    return _d(max(0.0, z * math.sqrt(lt * sd * sd + d * d * sl * sl)))


def reorder_point(*, demand: Decimal, lead_time: Decimal, safety: Decimal) -> Decimal:
    """ROP = d * L + SS."""
    return (demand * lead_time + safety).quantize(QUANT)


def order_up_to(
    *,
    demand: Decimal,
    sigma_demand: Decimal,
    lead_time: Decimal,
    review_period: Decimal,
    service_level: Decimal,
    sigma_lead_time: Decimal = Decimal(0),
) -> Decimal:
    """S = d * (R + L) + z * sqrt((R + L) * sigma_d^2 + d^2 * sigma_L^2)."""
    protection = review_period + lead_time
    safety = safety_stock(
        demand=demand,
        sigma_demand=sigma_demand,
        lead_time=protection,
        service_level=service_level,
        sigma_lead_time=sigma_lead_time,
    )
    return (demand * protection + safety).quantize(QUANT)


def expected_shortage(*, sigma: float, z: float) -> float:
    """ESC = sigma * [phi(z) - z * (1 - Phi(z))], the expected units short per cycle."""
    return sigma * (_NORMAL.pdf(z) - z * (1 - _NORMAL.cdf(z)))


def fill_rate(
    *,
    demand_per_period: Decimal,
    sigma_per_period: Decimal,
    lead_time: Decimal,
    order_quantity: Decimal,
    reorder: Decimal,
) -> dict[str, Decimal]:
    """Cycle service level, ESC and fill rate = 1 - ESC / Q for a (Q, ROP) policy."""
    mu_l = float(demand_per_period * lead_time)
    sigma_l = float(sigma_per_period) * math.sqrt(float(lead_time))
    safety = float(reorder) - mu_l
    z = safety / sigma_l if sigma_l else math.inf
    csl = _NORMAL.cdf(z) if sigma_l else 1.0
    esc = expected_shortage(sigma=sigma_l, z=z) if sigma_l else 0.0
    return {
        "safety_stock": _d(safety),
        "cycle_service_level": _d(csl),
        "expected_shortage": _d(esc),
        "fill_rate": _d(1 - esc / float(order_quantity)),
    }


def eoq(
    *, annual_demand: Decimal, order_cost: Decimal, holding_cost: Decimal
) -> tuple[Decimal, Decimal]:
    """EOQ = sqrt(2 D K / h) and its annual cost sqrt(2 D K h)."""
    d, k, h = float(annual_demand), float(order_cost), float(holding_cost)
    if h <= 0:
        raise ValueError("holding cost must be positive")
    return _d(math.sqrt(2 * d * k / h)), _d(math.sqrt(2 * d * k * h))


def _units(value: Decimal) -> str:
    """A quantity in a step a planner reads: ``24.0000`` -> ``24``, ``1250`` -> ``1,250``."""
    from smi_core.templatetags.smi_format import quantity

    return quantity(value)


@dataclass(frozen=True)
class Rounding:
    quantity: Decimal
    steps: tuple[str, ...]  # what changed the raw quantity, in order, for the planner


def round_order(
    raw: Decimal,
    *,
    position: Decimal,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    moq: Decimal | None = None,
    pack: Decimal | None = None,
) -> Rounding:
    """Apply the agreement to a raw order quantity, in this order:

    1. the position after ordering must reach the agreed minimum (raise the order);
    2. it must not pass the agreed maximum (cut the order);
    3. a positive order is at least the minimum order quantity;
    4. a positive order is a whole number of packs (rounded up; down again if that passes
       the maximum and at least one pack still fits).
    """
    steps: list[str] = []
    quantity = max(raw, Decimal(0))
    if minimum is not None and position + quantity < minimum:  # even when raw <= 0
        quantity = minimum - position
        steps.append(f"raised to reach the agreed minimum {_units(minimum)}")
    if maximum is not None and position + quantity > maximum:
        quantity = max(maximum - position, Decimal(0))
        steps.append(f"cut to stay within the agreed maximum {_units(maximum)}")
    if quantity > 0 and moq and quantity < moq:
        quantity = moq
        steps.append(f"raised to the minimum order quantity {_units(moq)}")
    if quantity > 0 and pack and pack > 0 and quantity % pack:
        up = (quantity / pack).to_integral_value(rounding=ROUND_CEILING) * pack
        if maximum is not None and position + up > maximum and up - pack >= max(pack, moq or 0):
            quantity = up - pack
            steps.append(
                f"rounded down to whole packs of {_units(pack)} to stay within the maximum"
            )
        else:
            quantity = up
            steps.append(f"rounded up to whole packs of {_units(pack)}")
    return Rounding(quantity.quantize(QUANT), tuple(steps))
