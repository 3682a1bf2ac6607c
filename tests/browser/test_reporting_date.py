"""In a real browser: the finance user sets the reporting date in the admin, the dashboard
opened from the navigation reports as of it and says so, and one click shows today."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from smi_core.models import AuditEvent
from tests.finance_world import build_finance_world
from tests.orders import person


@pytest.mark.django_db(transaction=True)
def test_the_reporting_date_set_in_the_admin_is_the_dashboards_date_until_today_is_clicked(
    browser, live_server, tmp_path, settings
):
    build_finance_world(settings, tmp_path)
    user = person("fin", "finance", "auditor")
    user.set_password("finance-pass-123")
    user.save()
    today = timezone.localdate()
    shots = Path(os.environ.get("SMI_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/smi_core/reportingdate/")
    page.fill("#id_username", "fin")
    page.fill("#id_password", "finance-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/smi_core/reportingdate/1/change/")
    page.fill("#id_date", "2026-11-08")
    page.fill("#id_note", "closing October")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/smi_core/reportingdate/1/change/")
    assert "Saved. Figures without a date are as of 2026-11-08, the reporting date" in (
        page.inner_text("body")
    )
    assert AuditEvent.objects.filter(action="reporting_date.set", actor="fin").count() == 1

    page.goto(f"{live_server.url}/")
    page.click("#smi-nav a.smi-nav-finance")  # the navigation's link names no date
    page.wait_for_url("**/finance/")
    banner = page.inner_text("#reporting-date")
    assert banner.startswith(
        f"Figures as of 2026-11-08, the reporting date set by fin on {today} "
        f"(closing October); today is {today}."
    )
    assert page.inner_text("#as-of") == "2026-11-08"
    # Demo Retail reported for the week to 2026-11-08: fresh then; EU Stores last reported
    # in the week to 2026-10-04
    assert "demo-retail" not in page.inner_text("#stale")
    assert "eu-stores" in page.inner_text("#stale")
    page.screenshot(path=str(shots / "finance-reporting-date.png"), full_page=True)

    assert page.inner_text("#view-today") == f"View as of today ({today})"
    page.click("#view-today")
    page.wait_for_url(f"**/finance/?as_of={today}")

    assert page.inner_text("#as-of") == today.isoformat()
    assert "demo-retail" in page.inner_text("#stale")  # its last report, 2026-11-22, is old
    assert page.inner_text("#reporting-date").startswith(
        f"Figures as of {today}, the date asked for (the reporting date is 2026-11-08)."
    )
    page.click("#view-reporting-date")
    page.wait_for_url("**/finance/?")
    assert page.inner_text("#as-of") == "2026-11-08"
