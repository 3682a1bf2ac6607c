"""Gaps found by the finance audit, in the assistant's answers: one visibility rule (a grant
shows the business its party is a side of), items, locations and periods, questions out of
scope, missing data, and the rates behind every converted figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reporting_assistant.models import AssistantQuestion
from smi_core.selectors.finance import Filters, FinanceScope, turnover_report, valuation
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant
from tests.orders import person
from tests.reporting_assistant.conftest import AS_OF, ask

pytestmark = pytest.mark.django_db


def granted(world, name: str, party: str):
    user = person(name, "finance")
    finance_access_grant(user=user, party=world[party].party, actor=Actor.system("test"))
    return user


def facts(answer) -> dict:
    return {f.key: f for f in answer.facts}


# -- 2. one visibility rule ---------------------------------------------------------------


def test_a_buyer_grant_may_name_its_supplier_and_gets_only_its_own_stock(world):
    user = granted(world, "fin", "retail")

    answer = ask(user, "What is our inventory exposure to Acme?")

    assert "I know no partner" not in answer.text
    assert answer.intent.suppliers == ("acme-supply",)
    # Acme's stock at Demo Retail (100 SOAP at 2.00), not Acme's TEA at EU Stores.
    assert facts(answer)["valuation.total.closing"].value == "200.00"


def test_a_supplier_grant_may_name_each_of_its_buyers(world):
    user = granted(world, "fin", "supplier")

    retail = ask(user, "What is our inventory exposure to Demo Retail?")
    eu = ask(user, "What is our inventory exposure to EU Stores?")

    assert facts(retail)["valuation.total.closing"].value == "200.00"
    assert facts(eu)["valuation.total.closing"].value == "12000.00"


def test_a_party_with_no_business_with_the_grant_stays_unknown(world):
    user = granted(world, "fin", "retail")

    answer = ask(user, "What is our inventory exposure to EU Stores?")

    assert "I know no partner called EU Stores" in answer.text and not answer.facts


# -- 3. items, locations and periods ------------------------------------------------------


def test_an_item_at_a_location_is_answered_with_its_row_not_the_total(world):
    answer = ask(world["auditor"], "What is the inventory value of item SOAP at location S001?")

    expected = valuation(
        scope=FinanceScope.everything(),
        filters=Filters(),
        as_of=AS_OF,
        group_by=("item", "location"),
    )
    row = next(
        r for r in expected["rows"] if (r["item"], r["location"]) == ("SOAP", "demo-retail/S001")
    )
    found = facts(answer)
    assert found["query.inventory_value"].value == row["value_closing"] == "200.00"
    assert "item SOAP" in answer.restatement and "location S001" in answer.restatement
    assert "valuation.total.closing" not in found  # the 12,200.00 overall is not the answer
    assert "12,200.00" not in answer.text
    assert answer.table["figure"] == "valuation"
    assert answer.table["columns"][:2] == ["item", "location"]
    assert ["SOAP", "demo-retail/S001"] in [r[:2] for r in answer.table["rows"]]


def test_a_figure_that_cannot_be_narrowed_to_an_item_says_so_and_shows_the_breakdown(world):
    answer = ask(world["auditor"], "What is the DIO of item SOAP?")

    assert "Not narrowed to item SOAP" in answer.text
    assert all("all items and locations" in f.label for f in answer.facts)
    assert "all items and locations (not item SOAP)" in answer.restatement


def test_two_dates_are_the_period_of_turnover_and_its_how_says_so(world):
    answer = ask(world["auditor"], "What was the turnover from 2026-10-26 to 2026-11-22?")

    expected = turnover_report(
        scope=FinanceScope.everything(),
        filters=Filters(),
        start=date(2026, 10, 26),
        end=date(2026, 11, 22),
    )
    dio = facts(answer)["turnover.dio"]
    assert (answer.intent.start, answer.intent.end, answer.intent.as_of) == (
        "2026-10-26",
        "2026-11-22",
        "2026-11-22",
    )
    assert dio.value == expected["overall"]["dio_days"] == "28.0000"
    assert "as of 2026-11-22, period 2026-10-26 to 2026-11-22" in dio.how


def test_two_dates_are_the_period_of_service_and_working_capital(world):
    service = ask(world["auditor"], "What was the fill rate from 2026-10-26 to 2026-11-22?")
    released = ask(
        world["auditor"], "How much working capital was released from 2026-11-09 to 2026-11-22?"
    )

    assert facts(service)["service.fill_rate"].value == "0.7778"
    assert "period 2026-10-26 to 2026-11-22" in facts(service)["service.fill_rate"].how
    wc = facts(released)["working-capital.released"]
    assert wc.value == "35.00"  # DIO 31.5 -> 23.3333 days, as in the selector's test
    assert "period 2026-11-09 to 2026-11-22 against the baseline 2026-10-26 to 2026-11-08" in wc.how


# -- 4. out of scope ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "What is our EBITDA margin this year?",
        "What was our revenue last quarter?",
        "What is our headcount?",
        "What is the margin of the business?",
        "What is the share price?",
        "What is our net profit this year?",
        "How many employees do we have?",
        "What is the weather in Berlin?",
    ],
)
def test_an_out_of_scope_question_says_what_can_be_asked(world, question):
    answer = ask(world["auditor"], question)

    assert not answer.citations and not answer.facts
    assert "I answer questions about inventory value" in answer.text
    assert AssistantQuestion.objects.get(pk=answer.record_id).clause_ids == []


def test_a_pricing_question_still_quotes_its_clause(world):
    answer = ask(world["auditor"], "What does the EU Stores agreement say about payment terms?")

    assert ("eu-group", "3") in [(c.agreement, c.number) for c in answer.citations]


# -- 5. missing data ----------------------------------------------------------------------


def test_a_missing_rate_is_said_and_the_question_recorded(world):
    # (as of a day before any stock was reported there is nothing to convert: the point-in-
    # time ledger; a currency without rates is what leaves a figure without a value)
    answer = ask(world["auditor"], "What is our inventory exposure in GBP?")

    assert "no USD/GBP exchange rate on or before 2026-11-25" in answer.text
    assert answer.text.startswith("Inventory exposure, all owners, converted to GBP")
    assert "I answer questions about" in answer.text and not answer.facts
    record = AssistantQuestion.objects.get(pk=answer.record_id)
    assert record.answer == answer.text and record.figures == []


def test_a_missing_figure_does_not_drop_the_others(world):
    answer = ask(world["auditor"], "What are our exposure and cash out in GBP?")

    assert "I cannot give the inventory exposure: no USD/GBP exchange rate" in answer.text
    assert "I cannot give the cash out for replenishment: no USD/GBP" in answer.text
    valued = ask(world["auditor"], "What are our exposure and cash out as of 2026-09-01?")
    assert "cashflow.total" in facts(valued) and facts(valued)["query.exposure"].value == "0.00"
    assert "; rates" not in facts(valued)["cashflow.total"].how  # all in USD: no rate to state


# -- 6. rates in the how-text -------------------------------------------------------------


def test_turnover_and_fx_state_their_rates(world):
    turnover = ask(
        world["auditor"], "What is the turnover of EU Stores from 2026-09-28 to 2026-10-04?"
    )
    fx = ask(world["auditor"], "What is the FX write-down?")

    assert "EUR/USD 1.1 of 2026-10-02" in facts(turnover)["turnover.dio"].how
    fx_how = facts(fx)["fx.write_down"].how
    assert "EUR/USD 1.1 of 2026-10-02" in fx_how and "EUR/USD 1.2 of 2026-11-20" in fx_how


def test_the_working_capital_how_states_its_rates(world):
    from reporting_assistant.answering import facts_for
    from smi_core.selectors.finance.figures import figure_compute

    params = {
        "as_of": "2026-10-04",
        "start": "2026-09-28",
        "end": "2026-10-04",
        "buyer": "eu-stores",
    }
    data = figure_compute("working-capital", scope=FinanceScope.everything(), params=params)
    data |= {"released": "1.00", "annual_carrying_saving": "0.20"}  # whatever DIO gives

    found, _ = facts_for("working-capital", data, params)

    assert "EUR/USD 1.1 of 2026-10-02" in found[0].how
    assert Decimal(found[0].value) == Decimal("1.00")
