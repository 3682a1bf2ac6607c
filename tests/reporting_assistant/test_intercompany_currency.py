"""The assistant states the intercompany elimination in the currency finance_report states
it in (the agreement's, EUR in the demo), with the reporting-currency value after it
(issue 16); asked for another currency, it converts."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from reporting_assistant.answering import assistant_ask
from tests.orders import person

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)


@pytest.fixture
def demo(settings, tmp_path):
    settings.SMI_VAR_DIR = tmp_path
    settings.VAR_DIR = tmp_path
    settings.SMI_CHROMA_DIR = tmp_path / "chroma"
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    settings.SMI_REPORTING_CURRENCY = "USD"
    call_command("demo_load", stdout=io.StringIO())
    return person("aud", "auditor")


def _finance_report_intercompany() -> list[dict]:
    out = io.StringIO()
    call_command(
        "finance_report",
        "--figure",
        "intercompany",
        "--as-of",
        TODAY.isoformat(),
        "--json",
        stdout=out,
    )
    return json.loads(out.getvalue())["intercompany"]["rows"]


def test_the_assistant_states_intercompany_in_the_finance_figures_currency(demo):
    (row,) = _finance_report_intercompany()
    assert row["currency"] == "EUR"
    profit = Decimal(row["unrealised_profit"]).quantize(Decimal("0.01"))

    answer = assistant_ask(
        user=demo, question="What is the intercompany unrealised profit?", as_of=TODAY
    )

    fact = answer.facts[0]
    assert (fact.unit, Decimal(fact.value)) == ("EUR", profit)
    first = answer.text.split("\n\n")[0]
    assert "in EUR, the agreement's currency" in first and "converted to USD" not in first
    assert f": EUR {profit:,.2f} (USD " in first
    converted = Decimal(
        re.search(r"\(USD ([\d,]+\.\d{2}) at closing rates\)", first)[1].replace(",", "")
    )
    assert converted != profit and converted > 0


def test_asked_in_another_currency_the_assistant_converts(demo):
    answer = assistant_ask(
        user=demo, question="What is the intercompany unrealised profit in USD?", as_of=TODAY
    )

    assert answer.facts[0].unit == "USD"
    assert "converted to USD at closing rates" in answer.text.split("\n\n")[0]
