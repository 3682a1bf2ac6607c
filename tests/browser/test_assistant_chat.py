"""A finance user asks two questions on the chat page in a real browser; the figures shown
are the finance API's, and a cited clause opens."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.test import APIClient

from smi_core.services.audit import Actor
from smi_core.services.roles import user_roles_set
from tests.finance_world import build_finance_world, index_agreement_texts

User = get_user_model()


@pytest.mark.django_db(transaction=True)
def test_two_questions_on_the_chat_page_match_the_finance_api(
    browser, live_server, tmp_path, settings
):
    build_finance_world(settings, tmp_path)
    index_agreement_texts()
    auditor = User.objects.create_user("auditor", password="auditor-pass-123", is_staff=True)
    user_roles_set(user=auditor, roles=["auditor"], actor=Actor.system("test"))
    api = APIClient()
    api.force_authenticate(auditor)
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    valuation = api.get(
        f"/api/v1/finance/valuation/?as_of={today}&buyer=eu-stores&currency=EUR"
    ).json()
    cash = api.get(f"/api/v1/finance/cashflow/?as_of={today}&weeks=8").json()

    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/assistant/")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", "auditor-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/assistant/")

    page.fill("#question", "What is our inventory exposure to EU Stores in EUR?")
    page.click("#ask")
    page.wait_for_selector("#figures")
    closing = page.locator('#figures tr[data-key="valuation.total.closing"] .value')
    expect(closing).to_have_attribute("data-raw", valuation["total"]["value_closing"])
    expect(closing).to_have_text(f"USD {Decimal(valuation['total']['value_closing']):,.2f}")

    page.fill("#question", "How much cash goes out for replenishment in the next 8 weeks?")
    page.click("#ask")
    cash_shown = page.locator('#figures tr[data-key="cashflow.total"] .value')
    expect(cash_shown).to_have_attribute("data-raw", cash["total_reporting"])
    expect(cash_shown).to_have_text(f"USD {Decimal(cash['total_reporting']):,.2f}")
    assert page.locator("#history li").count() == 2

    page.fill("#question", "Which agreements make us liable for obsolete stock?")
    page.click("#ask")
    page.click("#citations li >> nth=0 >> a")
    page.wait_for_url("**/assistant/clauses/**")
    assert "obsolete" in page.inner_text("#clause-text").lower()
    page.screenshot(path=str(tmp_path / "assistant.png"), full_page=True)
