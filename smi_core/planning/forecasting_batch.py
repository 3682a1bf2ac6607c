"""The forecasting of ``forecasting.forecast``, for many series at once with numpy.

Series of the same length are stacked into one matrix and every method's one-step path is
computed for all of them in one pass over the periods; each row then keeps the method its
classification picks. Tests hold it to the scalar version, series by series.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .forecasting import ADI_CUTOFF, CV2_CUTOFF, Forecast, forecast


def forecast_many(
    series: Sequence[Sequence[float]],
    *,
    alpha: float = 0.2,
    beta: float = 0.1,
    alpha_intermittent: float = 0.1,
) -> list[Forecast]:
    out: list[Forecast | None] = [None] * len(series)
    by_length: dict[int, list[int]] = defaultdict(list)
    for index, values in enumerate(series):
        by_length[len(values)].append(index)
    for n, indexes in by_length.items():
        if n < 12 or len(indexes) < 8:  # short or few: the scalar code is as fast
            for index in indexes:
                out[index] = forecast(
                    series[index], alpha=alpha, beta=beta, alpha_intermittent=alpha_intermittent
                )
            continue
        matrix = np.asarray([series[i] for i in indexes], dtype=float)
        for index, result in zip(
            indexes, _batch(matrix, alpha, beta, alpha_intermittent), strict=True
        ):
            out[index] = result
    return out  # type: ignore[return-value]


def _batch(y: np.ndarray, alpha: float, beta: float, a_int: float) -> list[Forecast]:
    n = y.shape[1]
    positive = y > 0
    count = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(count > 0, n / np.maximum(count, 1), np.nan)
        mean = np.where(count > 0, (y * positive).sum(axis=1) / np.maximum(count, 1), 0.0)
        variance = np.where(
            count > 0,
            (((y - mean[:, None]) ** 2) * positive).sum(axis=1) / np.maximum(count, 1),
            0.0,
        )
        cv2 = np.where(mean * mean > 0, variance / (mean * mean), 0.0)

    x = np.arange(n, dtype=float)
    mean_x, mean_y = (n - 1) / 2, y.mean(axis=1)
    sxx = ((x - mean_x) ** 2).sum()
    syy = ((y - mean_y[:, None]) ** 2).sum(axis=1)
    sxy = ((x - mean_x) * (y - mean_y[:, None])).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(syy > 0, sxy * sxy / (sxx * syy), 0.0)
    trending = (mean_y > 0) & (syy > 0) & (r2 >= 0.5) & (np.abs(sxy / sxx * n) > 0.2 * mean_y)

    ses = _ses(y, alpha)
    holt = _holt(y, alpha, beta)
    sba = _croston_sba(y, positive, a_int)
    tsb = _tsb(y, positive, a_int, beta)

    # The method per row: 0 none, 1 ses, 2 holt, 3 sba, 4 tsb.
    smooth = adi < ADI_CUTOFF
    low_cv = cv2 < CV2_CUTOFF
    method = np.where(
        count == 0, 0, np.where(smooth, np.where(trending, 2, 1), np.where(low_cv, 3, 4))
    )
    path = np.select(
        [method[:, None] == k for k in (1, 2, 3, 4)], [ses, holt, sba, tsb], default=0.0
    )
    errors = y[:, 1:] - path[:, 1:n]
    sigma = np.sqrt(np.mean(errors * errors, axis=1))
    scale = np.mean(np.abs(np.diff(y, axis=1)), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = np.where(
            scale > 0, np.mean(np.abs(errors), axis=1) / np.where(scale > 0, scale, 1), np.nan
        )
    level = np.maximum(path[:, n], 0.0)

    names = ("none", "ses", "holt", "sba", "tsb")
    results = []
    for m, c, s_, a, c2, lv, sg, ms in zip(
        method.tolist(),
        count.tolist(),
        smooth.tolist(),
        adi.tolist(),
        cv2.tolist(),
        level.tolist(),
        sigma.tolist(),
        mase.tolist(),
        strict=True,
    ):
        if c == 0:
            results.append(Forecast("none", "no-demand", 0.0, 0.0, None, None, None, n))
            continue
        low = c2 < CV2_CUTOFF
        classification = (
            ("smooth" if low else "erratic") if s_ else ("intermittent" if low else "lumpy")
        )
        results.append(
            Forecast(names[m], classification, lv, sg, a, c2, None if ms != ms else ms, n)
        )
    return results


def _ses(y: np.ndarray, alpha: float) -> np.ndarray:
    rows, n = y.shape
    path = np.empty((rows, n + 1))
    level = y[:, 0].copy()
    path[:, 0] = level
    for t in range(n):
        level = alpha * y[:, t] + (1 - alpha) * level
        path[:, t + 1] = level
    return path


def _holt(y: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    rows, n = y.shape
    path = np.empty((rows, n + 1))
    level, trend = y[:, 0].copy(), y[:, 1] - y[:, 0]
    path[:, 0] = level
    for t in range(1, n):
        path[:, t] = level + trend
        new_level = alpha * y[:, t] + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
    path[:, n] = np.maximum(level + trend, 0.0)
    return path


def _croston_sba(y: np.ndarray, positive: np.ndarray, alpha: float) -> np.ndarray:
    rows, n = y.shape
    factor = 1 - alpha / 2
    path = np.zeros((rows, n + 1))
    size = np.zeros(rows)
    interval = np.zeros(rows)
    started = np.zeros(rows, dtype=bool)
    periods = np.zeros(rows)
    current = np.zeros(rows)
    for t in range(n):
        periods += 1
        demand = positive[:, t]
        first = demand & ~started
        later = demand & started
        size = np.where(first, y[:, t], np.where(later, size + alpha * (y[:, t] - size), size))
        interval = np.where(
            first, periods, np.where(later, interval + alpha * (periods - interval), interval)
        )
        started |= demand
        with np.errstate(divide="ignore", invalid="ignore"):
            current = np.where(demand, size / np.where(interval > 0, interval, 1) * factor, current)
        periods = np.where(demand, 0, periods)
        path[:, t + 1] = current
    return path


def _tsb(y: np.ndarray, positive: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    rows, n = y.shape
    has = positive.any(axis=1)
    first = y[np.arange(rows), np.argmax(positive, axis=1)]
    probability = np.where(positive[:, 0], 1.0, 0.0)
    size = np.where(has, first, 0.0)
    path = np.empty((rows, n + 1))
    path[:, 0] = probability * size
    for t in range(n):
        demand = positive[:, t]
        probability = np.where(
            demand, probability + beta * (1 - probability), probability - beta * probability
        )
        size = np.where(demand, size + alpha * (y[:, t] - size), size)
        path[:, t + 1] = probability * size
    return np.where(has[:, None], path, 0.0)
