"""The finance user opens the dashboard in a real browser; the figures it shows are the
API's, and every chart is drawn without the internet."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect
from rest_framework.test import APIClient

from smi_core.models import AgreementTerm, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant, fx_load
from smi_core.services.roles import user_roles_set
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

    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/finance/")
    page.fill("#id_username", "finance")
    page.fill("#id_password", "finance-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/finance/")
    page.goto(f"{live_server.url}/finance/?as_of=2026-11-25")

    expect(page.locator("#total-closing")).to_have_text(expected["total"]["value_closing"])
    assert expected["total"]["value_closing"] == "110.00"  # 40 SOAP at EUR 2.50, at 1.10
    assert page.inner_text("#total-historical") == expected["total"]["value_historical"]
    assert page.inner_text("#cash-total") == cash["total_reporting"]
    assert "city-mart" not in page.inner_text("#valuation")  # not granted to this user
    for chart in ("chart-valuation", "chart-trend", "chart-dio", "chart-cash", "chart-fx"):
        assert page.locator(f"svg#{chart}").count() == 1
    page.screenshot(path=str(tmp_path / "finance-dashboard.png"), full_page=True)
    assert (tmp_path / "finance-dashboard.png").stat().st_size > 10_000
