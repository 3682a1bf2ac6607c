"""The finance user opens the dashboard in a real browser; the figures it shows are the
API's, and every chart is drawn without the internet."""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.test import APIClient

from smi_core.models import AgreementTerm, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant, fx_load
from smi_core.services.roles import user_roles_set
from smi_core.templatetags.smi_format import money
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest
from tests.x12_builders import interchange, report_852

User = get_user_model()


@pytest.mark.django_db(transaction=True)
def test_the_finance_user_sees_the_apis_figures_on_the_dashboard(
    browser, live_server, tmp_path, settings
):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    buyer, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    other, _ = partner_add(code="city-mart", name="City Mart", isa="ZZ:CITYMART")
    LocationFactory(party=buyer.party, code="S001")
    LocationFactory(party=other.party, code="CM1")
    item = ItemFactory(supplier=supplier.party, vendor_item="SOAP", gtin="")
    for code, party, currency in (("retail", buyer.party, "EUR"), ("mart", other.party, "USD")):
        agreement = SupplyAgreement.objects.create(
            code=code,
            buyer=party,
            supplier=supplier.party,
            currency=currency,
            effective_from=date(2026, 1, 1),
        )
        AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=Decimal("2.50"))
    fx_load(text="currency,quote,date,rate\nEUR,USD,2026-10-01,1.10\n", actor=Actor.system("t"))
    for n, (sender, store) in enumerate((("DEMORETAIL", "S001"), ("CITYMART", "CM1"))):
        body = report_852(
            "20261109",
            "20261115",
            ship_to=store,
            lines=[("VN*SOAP", ["ZA*QA*40*EA", "ZA*QS*8*EA"])],
        )
        body[1] = f"N1*BY*Buyer*92*{sender}"
        ingest(interchange([body], sender=sender, control=10 + n))
    finance = User.objects.create_user("finance", password="finance-pass-123", is_staff=True)
    user_roles_set(user=finance, roles=["finance"], actor=Actor.system("test"))
    finance_access_grant(user=finance, party=buyer.party, actor=Actor.system("test"))
    api = APIClient()
    api.force_authenticate(finance)
    expected = api.get("/api/v1/finance/valuation/?as_of=2026-11-25").json()
    cash = api.get("/api/v1/finance/cashflow/?as_of=2026-11-25").json()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/finance/")
    page.fill("#id_username", "finance")
    page.fill("#id_password", "finance-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/finance/")
    page.goto(f"{live_server.url}/finance/?as_of=2026-11-25")

    # the API's figures, formatted for people: currency, thousands separators, two decimals
    expect(page.locator("#total-closing")).to_have_text(
        money(expected["total"]["value_closing"], "USD")
    )
    assert expected["total"]["value_closing"] == "110.00"  # 40 SOAP at EUR 2.50, at 1.10
    assert page.inner_text("#total-closing") == "USD 110.00"
    assert page.inner_text("#total-historical") == money(
        expected["total"]["value_historical"], "USD"
    )
    assert page.inner_text("#cash-total") == money(cash["total_reporting"], "USD")
    assert "city-mart" not in page.inner_text("#valuation")  # not granted to this user
    for chart in ("chart-valuation", "chart-trend", "chart-dio", "chart-cash", "chart-fx"):
        assert page.locator(f"svg#{chart}").count() == 1
    page.screenshot(path=str(tmp_path / "finance-dashboard.png"), full_page=True)
    assert (tmp_path / "finance-dashboard.png").stat().st_size > 10_000


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"{page.url} is {width} px wide at 1366"


@pytest.mark.django_db(transaction=True)
def test_landing_and_dashboard_fit_1366_px_and_show_formatted_money(
    browser, live_server, tmp_path, settings
):
    from tests.finance_world import build_finance_world
    from tests.orders import person

    build_finance_world(settings, tmp_path)
    user = person("fin", "finance", "auditor")
    user.set_password("finance-pass-123")
    user.save()
    shots = Path(os.environ.get("SMI_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "fin")
    page.fill("#id_password", "finance-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("#card-finance").is_visible()
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "landing.png"), full_page=True)

    page.click("#card-finance a")
    page.wait_for_url("**/finance/")
    page.goto(f"{live_server.url}/finance/?as_of=2026-11-25")
    _no_horizontal_scroll(page)
    closing = page.inner_text("#total-closing")
    assert re.fullmatch(r"USD \d{1,3}(,\d{3})*\.\d{2}", closing), closing
    body = page.inner_text("main")
    assert not re.search(r"\bNone\b", body) and "dio_days" not in body
    assert page.locator("#smi-nav a.smi-nav-assistant").is_visible()
    page.screenshot(path=str(shots / "finance-dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/finance/simulate/?weeks=4&demand_factor=1.3&as_of=2026-11-25")
    _no_horizontal_scroll(page)
    assert page.locator("svg#chart-simulation polyline").count() == 2
    page.screenshot(path=str(shots / "simulation.png"), full_page=True)
