"""The batch forecaster gives what the scalar one gives, series by series."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smi_core.planning.forecasting import forecast
from smi_core.planning.forecasting_batch import forecast_many

VALUE = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=500, allow_nan=False))
SERIES = st.lists(st.lists(VALUE, min_size=12, max_size=12), min_size=8, max_size=30)


def same(a, b):
    assert (a.method, a.classification, a.observations) == (
        b.method,
        b.classification,
        b.observations,
    )
    for name in ("level", "sigma", "adi", "cv2", "mase"):
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
        else:
            assert x == pytest.approx(y, rel=1e-9, abs=1e-9), name


@settings(max_examples=60, deadline=None)
@given(SERIES)
def test_batch_equals_scalar_on_random_series(series):
    for batch, scalar in zip(forecast_many(series), [forecast(s) for s in series], strict=True):
        same(batch, scalar)


def test_batch_covers_every_method_and_mixed_lengths():
    series = (
        [[100, 102, 98, 101, 99, 100, 103, 97, 100, 101, 99, 100]] * 3
        + [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]] * 3
        + [[0, 0, 3, 0, 0, 0, 2, 0, 4, 0, 0, 1]] * 3
        + [[10, 0, 0, 90, 0, 1, 0, 0, 50, 0, 0, 2]] * 3
        + [[0] * 12] * 2
        + [[5, 6, 7]]
    )

    results = forecast_many(series)

    assert [r.method for r in results] == ["ses"] * 3 + ["holt"] * 3 + ["sba"] * 3 + ["tsb"] * 3 + [
        "none"
    ] * 2 + ["ses"]
    for batch, values in zip(results, series, strict=True):
        same(batch, forecast(values))
    assert round(results[6].level, 6) == 0.892193  # the DESIGN.md SBA answer
