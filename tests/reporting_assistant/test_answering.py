"""The assistant answers from the dashboard's own figures and the agreements' clauses,
within what the asking user may see; an LLM may only phrase those facts (LangChain fake
chat models, no network); every question is recorded."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage
from rest_framework.test import APIClient

from reporting_assistant.models import AgreementClause, AssistantQuestion
from reporting_assistant.store import agreement_index
from smi_core.models import SupplyAgreement
from smi_core.selectors.finance import Filters, FinanceScope, cash_forecast, valuation
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant
from tests.orders import person
from tests.reporting_assistant.conftest import AS_OF, ask

pytestmark = pytest.mark.django_db


def test_cash_out_is_the_dashboards_figure_with_how_it_was_computed(world):
    answer = ask(world["auditor"], "How much cash goes out for replenishment in the next 8 weeks?")

    expected = cash_forecast(
        scope=FinanceScope.everything(), filters=Filters(), as_of=AS_OF, weeks=8
    )
    total = next(f for f in answer.facts if f.key == "cashflow.total")
    assert total.value == expected["total_reporting"] and total.unit == "USD"
    assert "cashflow (/api/v1/finance/cashflow/) as of 2026-11-25" in total.how
    assert f"USD {Decimal(total.value):,.2f}" in answer.text
    assert answer.table["figure"] == "cashflow" and "answer-chart" in answer.chart
    record = AssistantQuestion.objects.get(pk=answer.record_id)
    assert record.user == world["auditor"] and record.figures[0]["value"] == total.value
    assert record.model == "template"


def test_exposure_in_eur_states_cost_in_euros_and_the_rates_used(world):
    answer = ask(world["auditor"], "What is our inventory exposure to EU Stores in EUR?")

    expected = valuation(
        scope=FinanceScope.everything(),
        filters=Filters(buyer="eu-stores", currency="EUR"),
        as_of=AS_OF,
        group_by=("supplier", "owner", "currency"),
    )
    facts = {f.key: f for f in answer.facts}
    assert (
        facts["valuation.total.closing"].value == expected["total"]["value_closing"] == "12000.00"
    )
    assert facts["valuation.EUR"].value == "10000.00"
    assert "EUR/USD 1.1 of 2026-10-02" in facts["valuation.total.closing"].how
    assert "EUR/USD 1.2 of 2026-11-20" in facts["valuation.total.closing"].how


def test_a_clause_question_quotes_the_agreements_clause_with_its_number(world):
    answer = ask(world["auditor"], "What does the Demo Retail agreement say about payment terms?")

    assert next((c.agreement, c.number) for c in answer.citations) == ("retail", "4")
    assert "[retail §4] Payment terms" in answer.text and "within 14 days" in answer.text
    assert AssistantQuestion.objects.get(pk=answer.record_id).clause_ids[0].startswith("retail:")


def test_which_agreements_make_us_liable_for_obsolete_stock_quotes_each(world):
    answer = ask(world["auditor"], "Which agreements make us liable for obsolete stock?")

    assert {(c.agreement, c.number) for c in answer.citations} == {
        ("retail", "7"),
        ("eu-group", "6"),
    }
    assert not answer.facts


def test_terms_and_what_we_owe_in_one_answer(world):
    from smi_edi.services.order_documents import order_ship
    from tests.smi_core.test_finance import _eur_order

    order = _eur_order(world, quantity=Decimal(1000))
    shipper = person("shipper", "shipper")
    order_ship(
        po_number=order.po_number,
        user=shipper,
        actor=Actor.user(shipper),
        ship_date=date(2026, 10, 2),
    )

    answer = ask(
        world["auditor"],
        "What does the EU Stores agreement say about payment terms, and how much do we owe them now?",
    )

    assert ("eu-group", "3") in [(c.agreement, c.number) for c in answer.citations]
    assert answer.intent.figures == ("owed",)
    # 1,000 TEA at EUR 10.00 shipped and not yet due; EU Stores has no consigned stock.
    # the query's figure in the reporting currency (at the closing EUR/USD 1.20), then the
    # owed figure's own row in its currency
    assert [(f.key, f.value, f.unit) for f in answer.facts] == [
        ("query.owed", "12000.00", "USD"),
        ("owed.acme-supply.EUR", "10000.00", "EUR"),
    ]
    assert answer.text.startswith(
        "Owed for replenishment, converted to USD at closing rates, buyer EU Stores, as of 2026-11-25"
    )
    assert "USD 12,000.00" in answer.text


def test_an_unknown_partner_or_question_is_said_so_without_inventing_figures(world):
    globex = ask(world["auditor"], "What does the Globex agreement say about payment terms?")
    joke = ask(world["auditor"], "Tell me a joke")

    assert "I know no partner called Globex" in globex.text and not globex.facts
    assert not globex.citations
    assert "I could not tell" in joke.text and "For example" in joke.text


def test_a_finance_user_is_answered_only_from_what_they_may_see(world):
    user = person("fin", "finance")
    finance_access_grant(user=user, party=world["retail"].party, actor=Actor.system("test"))

    answer = ask(user, "What is our inventory exposure to EU Stores?")
    terms = ask(user, "Which agreements make us liable for obsolete stock?")

    assert "I know no partner called" in answer.text and not answer.facts
    assert {c.agreement for c in terms.citations} == {"retail"}


def _cash_facts(world):
    template = ask(world["auditor"], "How much cash goes out in the next 8 weeks?")
    return template, [f for f in template.facts]


def test_an_llm_phrases_the_facts_and_its_answer_is_used_when_it_keeps_them(world):
    _template, facts = _cash_facts(world)
    phrased = (
        "Over the next eight weeks we pay " + ", ".join(f"{f.value} {f.unit}" for f in facts) + "."
    )
    llm = GenericFakeChatModel(messages=iter([AIMessage(content=phrased)]))

    answer = ask(world["auditor"], "How much cash goes out in the next 8 weeks?", llm=llm)

    assert answer.text == phrased and answer.model == "GenericFakeChatModel"
    assert AssistantQuestion.objects.get(pk=answer.record_id).model == "GenericFakeChatModel"


def test_an_llm_answer_that_drops_a_figure_is_replaced_by_the_template(world):
    template, _ = _cash_facts(world)
    llm = GenericFakeChatModel(messages=iter([AIMessage(content="We pay a fair amount soon.")]))

    answer = ask(world["auditor"], "How much cash goes out in the next 8 weeks?", llm=llm)

    assert answer.text == template.text and answer.model == "template"
    assert answer.fallback_reason.startswith("the LLM's answer left out Cash out")
    assert "cash out in the next 8 weeks" in answer.fallback_reason


def test_an_llm_answer_citing_a_clause_not_retrieved_is_replaced(world):
    question = "What does the Demo Retail agreement say about payment terms?"
    llm = GenericFakeChatModel(
        messages=iter(
            [AIMessage(content="Payment is due in 14 days [retail §4], see also [retail §9].")]
        )
    )

    answer = ask(world["auditor"], question, llm=llm)

    assert answer.model == "template"
    assert "not retrieved: [retail §9]" in answer.fallback_reason


def test_an_llm_may_call_our_tools_and_must_then_state_what_they_returned(world):
    owed_call = AIMessage(
        content="",
        tool_calls=[
            {
                "name": "finance_figure",
                "args": {"name": "valuation", "buyer": "eu-stores"},
                "id": "c1",
            }
        ],
    )
    llm = FakeMessagesListChatModel(
        responses=[
            owed_call,
            AIMessage(content="EU Stores holds stock worth 12,000.00 USD [retail §4]."),
        ]
    )

    answer = ask(
        world["auditor"], "What does the Demo Retail agreement say about payment terms?", llm=llm
    )

    # The tool ran our valuation; the LLM stated its closing value but not the historical one.
    assert answer.model == "template"
    assert "left out inventory at historical rates" in answer.fallback_reason


def test_the_api_and_the_command_answer_and_record(world):
    client = APIClient()
    client.force_authenticate(world["auditor"])

    response = client.post("/api/v1/assistant/ask", {"question": "What is our DIO?"}, format="json")
    out = io.StringIO()
    call_command(
        "ask", "How much cash goes out in the next 4 weeks?", "--as", "aud", "--json", stdout=out
    )

    assert response.status_code == 200
    body = response.json()
    assert body["figures"][0]["key"] == "query.dio" and body["query"]["metric"] == "dio"
    assert "turnover.dio" in [f["key"] for f in body["figures"]]
    assert body["restatement"].startswith("Days inventory outstanding (DIO), from 2026-")
    cash = json.loads(out.getvalue())
    assert "cash out in the next 4 weeks" in [f["label"] for f in cash["figures"]]
    assert cash["query"]["weeks"] == 4
    assert AssistantQuestion.objects.count() == 2
    client.force_authenticate(person("plan", "planner"))
    assert client.post("/api/v1/assistant/ask", {"question": "x"}, format="json").status_code == 403


def test_the_chat_page_answers_lists_history_and_opens_cited_clauses(world, client):
    client.force_login(world["auditor"])

    page = client.post(
        "/assistant/", {"question": "Which agreements make us liable for obsolete stock?"}
    )
    clause = AgreementClause.objects.get(agreement__code="retail", number="7")
    opened = client.get(f"/assistant/clauses/{clause.vector_id}/")

    assert page.status_code == 200 and 'id="citations"' in page.text
    assert f"/assistant/clauses/{clause.vector_id}/" in page.text
    assert "not liable for obsolete consigned stock" in opened.text
    assert "Which agreements make us liable" in client.get("/assistant/").text  # history


def test_reindexing_replaces_an_agreements_clauses(world):
    agreement = SupplyAgreement.objects.get(code="retail")
    agreement.text = "## 1. Scope\nEverything.\n\n## 2. Payment terms\nCash on delivery."
    agreement.save()

    assert agreement_index(agreement_id=agreement.pk) == 2

    answer = ask(world["auditor"], "What does the Demo Retail agreement say about payment terms?")
    assert next((c.number, c.quote) for c in answer.citations) == ("2", "Cash on delivery.")
    assert AgreementClause.objects.filter(agreement=agreement).count() == 2


def test_editing_an_agreements_text_in_the_admin_reindexes_it(world, client):
    from tests.orders import person as staff

    admin_user = staff("root", superuser=True)
    client.force_login(admin_user)
    agreement = SupplyAgreement.objects.get(code="retail")
    page = client.get(f"/admin/smi_core/supplyagreement/{agreement.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "text": "## 1. Payment terms\nBuyer pays within 60 days.",
            "buyer": agreement.buyer_id,
            "supplier": agreement.supplier_id,
            "effective_from": "2026-01-01",
            "terms-TOTAL_FORMS": "0",
            "terms-INITIAL_FORMS": "0",
        }
    )
    data.pop("effective_to", None)

    response = client.post(f"/admin/smi_core/supplyagreement/{agreement.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        AgreementClause.objects.filter(agreement=agreement).values_list("text", flat=True)
    ) == ["Buyer pays within 60 days."]


def test_a_reading_chosen_on_the_chat_page_or_the_api_is_computed_as_is(world, client):
    client.force_login(world["auditor"])
    first = client.post("/assistant/", {"question": "stock worth at EU Stores, in euros?"})
    answer = first.context["answer"]
    in_usd = next(r for r in first.context["readings"] if r["label"] == "in USD")

    page = client.post("/assistant/", {"question": answer.question, "query": in_usd["json"]})
    api = APIClient()
    api.force_authenticate(world["auditor"])
    bad = api.post(
        "/api/v1/assistant/ask",
        {"question": "x", "query": {"metric": "ebitda", "as_of": "2026-11-25"}},
        format="json",
    )

    assert answer.restatement.startswith("Inventory value, all owners, converted to EUR")
    chosen = page.context["answer"]
    assert chosen.restatement.startswith("Inventory value, all owners, converted to USD")
    assert "buyer EU Stores" in chosen.restatement
    # 1,000 TEA at EUR 10.00, at the closing EUR/USD 1.20 of 2026-11-20
    assert chosen.facts[0].value == "12000.00" and chosen.facts[0].unit == "USD"
    assert b'id="restatement"' in page.content and b"Change the reading" in page.content
    assert bad.status_code == 400 and "metric must be one of" in bad.json()["message"]


class ToolCallingFake(GenericFakeChatModel):
    """A fake chat model that accepts tools (the real ones bind the JSON schema)."""

    def bind_tools(self, tools, **kwargs):
        assert tools[0]["title"] == "finance_query"
        assert "inventory_value" in tools[0]["properties"]["metric"]["enum"]
        return self


def _filled(args: dict) -> ToolCallingFake:
    call = {"name": "finance_query", "args": args, "id": "call-1", "type": "tool_call"}
    return ToolCallingFake(messages=iter([AIMessage(content="", tool_calls=[call])]))


def test_an_llm_fills_the_query_model_and_the_selectors_compute_the_figure(world):
    llm = _filled(
        {
            "metric": "inventory_value",
            "as_of": "2026-11-25",
            "currency": "EUR",
            "filters": [{"kind": "buyer", "key": "eu-stores"}],
        }
    )

    answer = ask(world["auditor"], "Zorgle blimp for the Berlin folks, in their money", llm=llm)

    # 1,000 TEA at EUR 10.00: the valuation's own figure, not a number the model gave
    assert answer.restatement.startswith(
        "Inventory value, all owners, converted to EUR at closing rates, buyer EU Stores"
    )
    assert answer.facts[0].value == "10000.00" and answer.facts[0].unit == "EUR"
    assert answer.model == "ToolCallingFake"


def test_an_llm_query_naming_a_code_not_in_the_data_is_refused(world):
    llm = _filled(
        {"metric": "owed", "as_of": "2026-11-25", "filters": [{"kind": "buyer", "key": "globex"}]}
    )

    answer = ask(world["auditor"], "Zorgle blimp for the Globex folks", llm=llm)

    assert not answer.facts and answer.model == "template"
    assert "buyer 'globex', which is not in the data you may see" in answer.fallback_reason
