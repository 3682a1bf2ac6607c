"""Demand forecasting for one series of per-period demand.

Regular demand: simple exponential smoothing (SES) or Holt's linear trend. Intermittent
demand: Croston, SBA (Syntetos-Boylan approximation) or TSB (Teunter-Syntetos-Babai).
The method is chosen per series from its average demand interval (ADI) and squared
coefficient of variation of non-zero demand (CV^2), with the Syntetos-Boylan cut-offs
ADI 1.32 and CV^2 0.49, and the choice is returned with the forecast.

Known answers (DESIGN.md): y = [0,0,3,0,0,0,2,0,4,0,0,1], alpha = 0.1 gives Croston
0.939151, SBA 0.892193 and TSB(0.1, 0.1) 0.760371.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


@dataclass(frozen=True)
class Forecast:
    method: str  # ses, holt, croston, sba, tsb, none
    classification: str  # smooth, erratic, intermittent, lumpy, no-demand, too-short
    level: float  # demand per period forecast
    sigma: float  # standard deviation of one-step errors (per period)
    adi: float | None
    cv2: float | None
    mase: float | None  # in-sample MASE of the one-step forecasts (None when undefined)
    observations: int


def ses(y: Sequence[float], alpha: float = 0.2) -> list[float]:
    """Simple exponential smoothing, initialised with the first value. Returns len(y) + 1
    forecasts: element i forecasts y[i] from y[:i]; the last one is the next period."""
    level = float(y[0]) if y else 0.0
    out = [level]
    for value in y:
        level = alpha * value + (1 - alpha) * level
        out.append(level)
    return out


def holt(y: Sequence[float], alpha: float = 0.3, beta: float = 0.1) -> list[float]:
    """Holt's linear trend; element i forecasts y[i]; the last element is the next period."""
    if len(y) < 2:
        return [float(y[0]) if y else 0.0] * (len(y) + 1)
    level, trend = float(y[0]), float(y[1]) - float(y[0])
    out = [level]
    for value in y[1:]:
        forecast = level + trend
        out.append(forecast)
        new_level = alpha * value + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
    out.append(max(level + trend, 0.0))
    return out


def croston_path(
    y: Sequence[float], alpha: float = 0.1, *, variant: str = "croston"
) -> list[float]:
    """Croston's method (``variant='sba'`` applies the (1 - alpha/2) correction) in one pass.

    Returns len(y) + 1 forecasts: element i forecasts y[i] from y[:i] (0 before the first
    demand); the last one is the next period. Initialised with the first demand size and
    the first interval (periods up to and including the first demand), updated at demands.
    """
    factor = 1 - alpha / 2 if variant == "sba" else 1.0
    size = interval = None
    periods = 0
    current = 0.0
    out = [current]
    for value in y:
        periods += 1
        if value > 0:
            if size is None:
                size, interval = float(value), float(periods)
            else:
                size += alpha * (value - size)
                interval += alpha * (periods - interval)
            periods = 0
            current = size / interval * factor
        out.append(current)
    return out


def croston(y: Sequence[float], alpha: float = 0.1, *, variant: str = "croston") -> float:
    """The next-period forecast of :func:`croston_path`."""
    return croston_path(y, alpha, variant=variant)[-1]


def tsb_path(y: Sequence[float], alpha: float = 0.1, beta: float = 0.1) -> list[float]:
    """Teunter-Syntetos-Babai in one pass: demand probability updated every period, size at
    demands. Initialised with the first period's demand occurrence (1 or 0) as the
    probability and the first non-zero demand as the size. Returns len(y) + 1 forecasts."""
    first = next((float(v) for v in y if v > 0), None)
    if first is None:
        return [0.0] * (len(y) + 1)
    probability = 1.0 if y[0] > 0 else 0.0
    size = first
    out = [probability * size]
    for value in y:
        if value > 0:
            probability += beta * (1 - probability)
            size += alpha * (value - size)
        else:
            probability -= beta * probability
        out.append(probability * size)
    return out


def tsb(y: Sequence[float], alpha: float = 0.1, beta: float = 0.1) -> float:
    """The next-period forecast of :func:`tsb_path`."""
    return tsb_path(y, alpha, beta)[-1]


def classify(y: Sequence[float]) -> tuple[str, float | None, float | None]:
    """Syntetos-Boylan classification: (class, ADI, CV^2)."""
    demands = [float(v) for v in y if v > 0]
    if not demands:
        return "no-demand", None, None
    adi = len(y) / len(demands)
    mean = sum(demands) / len(demands)
    variance = sum((v - mean) ** 2 for v in demands) / len(demands)
    cv2 = variance / (mean * mean) if mean * mean > 0 else 0.0
    if adi < ADI_CUTOFF:
        return ("smooth" if cv2 < CV2_CUTOFF else "erratic"), adi, cv2
    return ("intermittent" if cv2 < CV2_CUTOFF else "lumpy"), adi, cv2


def mase(y: Sequence[float], fitted: Sequence[float]) -> float | None:
    """Mean absolute scaled error against the naive one-step forecast (None when the series
    never changes, so the scale is zero)."""
    if len(y) < 2:
        return None
    scale = sum(abs(y[i] - y[i - 1]) for i in range(1, len(y))) / (len(y) - 1)
    if scale == 0:
        return None
    errors = [abs(a - f) for a, f in zip(y[1:], fitted[1 : len(y)], strict=False)]
    return (sum(errors) / len(errors)) / scale if errors else None


def _sigma(y: Sequence[float], fitted: Sequence[float]) -> float:
    errors = [a - f for a, f in zip(y[1:], fitted[1 : len(y)], strict=False)]
    if not errors:
        return 0.0
    return math.sqrt(sum(e * e for e in errors) / len(errors))


def _trending(y: Sequence[float]) -> bool:
    """A clear linear trend: at least 12 periods, a least-squares line explaining half the
    variance (R^2 >= 0.5), moving the mean by at least 20 % over the series."""
    n = len(y)
    if n < 12:
        return False
    mean_x, mean_y = (n - 1) / 2, sum(y) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    syy = sum((v - mean_y) ** 2 for v in y)
    if mean_y <= 0 or syy == 0:
        return False
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(y))
    slope = sxy / sxx
    r2 = sxy * sxy / (sxx * syy)
    return r2 >= 0.5 and abs(slope * n) > 0.2 * mean_y


def forecast(
    y: Sequence[float], *, alpha: float = 0.2, beta: float = 0.1, alpha_intermittent: float = 0.1
) -> Forecast:
    """Pick the method for this series, forecast the next period and measure the error."""
    y = [float(v) for v in y]
    if len(y) < 3:
        mean = sum(y) / len(y) if y else 0.0
        return Forecast("none", "too-short", mean, 0.0, None, None, None, len(y))
    classification, adi, cv2 = classify(y)
    if classification == "no-demand":
        return Forecast("none", classification, 0.0, 0.0, adi, cv2, None, len(y))
    if classification in ("intermittent", "lumpy"):
        method = "tsb" if classification == "lumpy" else "sba"
        a = alpha_intermittent
        series = croston_path(y, a, variant="sba") if method == "sba" else tsb_path(y, a, beta)
        fitted, level = series[: len(y)], series[-1]
    elif _trending(y):
        method = "holt"
        series = holt(y, alpha, beta)
        fitted, level = series[: len(y)], series[-1]
    else:
        method = "ses"
        series = ses(y, alpha)
        fitted, level = series[: len(y)], series[-1]
    return Forecast(
        method,
        classification,
        max(level, 0.0),
        _sigma(y, fitted),
        adi,
        cv2,
        mase(y, fitted),
        len(y),
    )
