"""How an assistant figure was computed names its exchange rates as the dashboard does:
``1.1514``, not the stored ``1.15140000``, and a rate of 150 as ``150.0``, never ``1.5E+2``."""

from __future__ import annotations

import pytest

from reporting_assistant.answering import _how, assistant_ask
from tests.reporting_assistant.conftest import AS_OF


def test_the_rates_in_how_read_as_on_the_dashboard():
    rates = [
        {"pair": "EUR/USD", "rate": "1.15140000", "date": "2026-10-02"},
        {"pair": "EUR/JPY", "rate": "150.00000000", "date": "2026-11-20"},
        {"pair": "USD/USD", "rate": "1", "date": None},  # same currency: not named
    ]

    how = _how("valuation", {"as_of": "2026-11-22"}, rates)

    assert how == (
        "valuation (/api/v1/finance/valuation/) as of 2026-11-22; "
        "rates EUR/USD 1.1514 of 2026-10-02, EUR/JPY 150.0 of 2026-11-20"
    )


@pytest.mark.django_db
def test_the_query_models_figure_names_its_rate_without_trailing_zeros(world):
    answer = assistant_ask(
        user=world["auditor"], question="inventory value by owner in USD", as_of=AS_OF
    )

    query_fact = next(f for f in answer.facts if f.key.startswith("query."))
    # EU Stores' TEA at the closing EUR/USD 1.20 of 2026-11-20 (stored as 1.20000000)
    assert "; rate EUR/USD 1.2 of 2026-11-20" in query_fact.how
    assert "1.20000000" not in query_fact.how
