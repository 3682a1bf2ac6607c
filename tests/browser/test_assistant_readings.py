"""A colloquial question on the chat page in a real browser: the answer opens with its
restatement, one click changes the reading (the currency), and the figure shown is the
finance API's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from smi_core.services.audit import Actor
from smi_core.services.roles import user_roles_set
from tests.finance_world import build_finance_world

User = get_user_model()


@pytest.mark.django_db(transaction=True)
def test_a_colloquial_question_its_restatement_and_a_one_click_currency_change(
    browser, live_server, tmp_path, settings
):
    build_finance_world(settings, tmp_path)
    auditor = User.objects.create_user("auditor", password="auditor-pass-123", is_staff=True)
    user_roles_set(user=auditor, roles=["auditor"], actor=Actor.system("test"))
    api = APIClient()
    api.force_authenticate(auditor)
    today = timezone.localdate().isoformat()
    valuation = api.get(f"/api/v1/finance/valuation/?as_of={today}&buyer=eu-stores").json()
    usd = Decimal(valuation["total"]["value_closing"])

    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/assistant/")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", "auditor-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/assistant/")

    page.fill("#question", "how much stock is sitting at eu stores, in euros?")
    page.click("#ask")
    restated = page.locator("#restatement")
    expect(restated).to_contain_text("Inventory value, all owners, converted to EUR")
    expect(restated).to_contain_text("buyer EU Stores")

    page.click("#readings button.reading-currency >> text=in USD")
    expect(page.locator("#restatement")).to_contain_text("converted to USD at closing rates")
    shown = page.locator('#figures tr[data-key="query.inventory_value"] .value')
    expect(shown).to_have_attribute("data-raw", str(usd))
    expect(shown).to_have_text(f"USD {Decimal(usd):,.2f}")
    page.screenshot(path=str(tmp_path / "assistant-readings.png"), full_page=True)
