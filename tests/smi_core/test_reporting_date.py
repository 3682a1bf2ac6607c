"""The reporting date: the day finance reports default to when a request names none (a
month-end being closed), set in the admin by the finance role and audited. Known answers
from the finance world: Demo Retail holds 80 SOAP at USD 2.00 in the week to 2026-11-08
(160.00) and 100 in the week to 2026-11-22 (200.00), its last report."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from smi_core.models import AuditEvent, ReportingDate
from smi_core.selectors.reporting_date import reporting_day
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant
from smi_core.services.reporting_date import BadReportingDate, reporting_date_set
from tests.finance_world import build_finance_world
from tests.orders import person

pytestmark = pytest.mark.django_db

PINNED = date(2026, 11, 8)
RETAIL = "?buyer=demo-retail"


@pytest.fixture
def world(settings, tmp_path):
    found = build_finance_world(settings, tmp_path)
    found["fin"] = person("fin", "finance")
    finance_access_grant(user=found["fin"], party=found["retail"].party, actor=Actor.system("t"))
    return found


def _pin(day=PINNED, note=""):
    fin = get_user_model().objects.get(username="fin")
    return reporting_date_set(day=day, note=note, actor=Actor.user(fin))


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_figure_asked_without_a_date_is_the_figure_as_of_the_reporting_date(world):
    _pin()
    api = _api(world["fin"])

    default = api.get(f"/api/v1/finance/valuation/{RETAIL}").json()
    explicit = api.get(f"/api/v1/finance/valuation/{RETAIL}&as_of=2026-11-08").json()

    # 80 SOAP x USD 2.00 in the week to 2026-11-08
    assert default["total"]["value_historical"] == "160.00"
    assert default["as_of"] == "2026-11-08"
    assert default["total"] == explicit["total"] and default["rows"] == explicit["rows"]
    assert default["stale_partners"] == []
    today = timezone.localdate()
    assert default["reporting_date"] == {
        "as_of": "2026-11-08",
        "basis": "reporting_date",
        "today": today.isoformat(),
        "reporting_date": "2026-11-08",
        "set_by": "fin",
        "set_at": ReportingDate.objects.get().set_at.isoformat(),
        "note": "",
        "statement": f"as of 2026-11-08, the reporting date set by fin on {today}; "
        f"today is {today}",
    }
    # a period figure ends on the reporting date: the 13 weeks to 2026-11-08
    turnover = api.get(f"/api/v1/finance/turnover/{RETAIL}").json()
    asked = api.get(f"/api/v1/finance/turnover/{RETAIL}&start=2026-08-10&end=2026-11-08").json()
    assert turnover["overall"] == asked["overall"]
    assert turnover["overall"]["inventory_by_period"][-1]["period_end"] == "2026-11-08"


def test_clearing_the_reporting_date_goes_back_to_today(world):
    _pin()
    reporting_date_set(day=None, actor=Actor.user(world["fin"]))

    data = _api(world["fin"]).get(f"/api/v1/finance/valuation/{RETAIL}").json()

    today = timezone.localdate()
    # 100 SOAP carried forward from the last report (2026-11-22), now older than its
    # cadence plus grace: stale, still counted
    assert data["as_of"] == today.isoformat()
    assert data["total"]["value_historical"] == "200.00"
    assert data["stale_partners"] == ["demo-retail"]
    assert data["reporting_date"]["basis"] == "today"
    assert data["reporting_date"]["statement"] == (
        f"as of {today}, today (no reporting date is set)"
    )


def test_an_as_of_asked_for_wins_over_the_reporting_date(world):
    _pin()

    data = _api(world["fin"]).get(f"/api/v1/finance/valuation/{RETAIL}&as_of=2026-11-22").json()

    assert data["as_of"] == "2026-11-22"
    assert data["total"]["value_historical"] == "200.00"  # 100 SOAP x 2.00
    assert data["reporting_date"]["basis"] == "asked"
    assert data["reporting_date"]["statement"] == (
        "as of 2026-11-22, the date asked for (the reporting date is 2026-11-08)"
    )


def test_the_csv_names_its_date(world):
    _pin()

    response = _api(world["fin"]).get(f"/api/v1/finance/valuation/{RETAIL}&export=csv")

    assert 'filename="smi-finance-valuation-2026-11-08.csv"' in response["Content-Disposition"]
    assert response["X-SMI-As-Of"].startswith("as of 2026-11-08, the reporting date set by fin")
    lines = response.content.decode().splitlines()
    assert lines[1].startswith("acme-supply,supplier:acme-supply,USD,80.0000,160.00,160.00,")


def test_the_dashboard_says_it_reports_as_of_the_reporting_date_with_a_link_to_today(client, world):
    _pin()
    client.force_login(world["fin"])
    today = timezone.localdate()

    page = client.get("/finance/?buyer=demo-retail").content.decode()

    assert (
        f"Figures as of 2026-11-08, the reporting date set by fin on {today}; "
        f"today is {today}." in page
    )
    assert (
        f'id="view-today" href="?buyer=demo-retail&amp;as_of={today}">View as of today ({today})'
        in page
    )
    assert '<span id="as-of">2026-11-08</span>' in page
    assert 'id="stale"' not in page

    asked = client.get(f"/finance/?buyer=demo-retail&as_of={today}").content.decode()

    assert f"Figures as of {today}, the date asked for (the reporting date is 2026-11-08)." in asked
    assert 'id="view-reporting-date" href="?buyer=demo-retail"' in asked
    assert f'<span id="as-of">{today}</span>' in asked
    assert 'id="stale"' in asked  # as of today Demo Retail's last report is too old


def test_finance_report_defaults_to_the_reporting_date_and_says_so(world):
    _pin(note="closing October")
    out = io.StringIO()

    call_command("finance_report", "--figure", "valuation", "--buyer", "demo-retail", stdout=out)

    text = out.getvalue()
    today = timezone.localdate()
    assert (
        f"Figures as of 2026-11-08, the reporting date set by fin on {today} "
        f"(closing October); today is {today}." in text
    )
    assert "USD 160.00" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert rows["demo-retail"] == ["2026-11-08", "0", "10", "no"]  # fresh as of that day
    assert "stale:" not in text


def test_the_simulation_runs_to_the_reporting_date(world):
    _pin()
    out = io.StringIO()

    call_command("simulate", "--weeks", "2", stdout=out)

    assert "Simulated as of 2026-11-08, the reporting date set by fin" in out.getvalue()
    assert "weeks to 2026-11-08" in out.getvalue()


def test_the_simulation_page_runs_to_the_reporting_date(client, world):
    _pin()
    client.force_login(world["fin"])

    page = client.get("/finance/simulate/?weeks=2").content.decode()

    assert "1 item-locations, 2 weeks to 2026-11-08" in page
    assert "Figures as of 2026-11-08, the reporting date set by fin" in page


# -- who may change it, and the audit trail ----------------------------------------------


def test_the_finance_role_sets_it_in_the_admin_and_the_change_is_audited(client, world):
    client.force_login(world["fin"])

    page = client.get("/admin/smi_core/reportingdate/", follow=True)
    assert page.redirect_chain[-1][0] == "/admin/smi_core/reportingdate/1/change/"
    today = timezone.localdate()
    assert (
        f"Figures without a date are as of {today}, today (no reporting date is set). An "
        "as-of date asked for always wins." in page.content.decode()
    )
    response = client.post(
        "/admin/smi_core/reportingdate/1/change/",
        {"date": "2026-11-08", "note": "closing October"},
    )

    assert response.status_code == 302
    row = ReportingDate.objects.get()
    assert (row.date, row.note, row.set_by) == (PINNED, "closing October", "fin")
    event = AuditEvent.objects.filter(action="reporting_date.set").get()
    assert (event.actor, event.object_type) == ("fin", "reporting_date")
    assert event.before == {"date": None, "note": "", "set_by": ""}
    assert event.after == {"date": "2026-11-08", "note": "closing October"}

    client.post("/admin/smi_core/reportingdate/1/change/", {"date": "", "note": ""})

    assert ReportingDate.objects.get().date is None
    assert reporting_day().basis == "today"
    assert AuditEvent.objects.filter(action="reporting_date.set").count() == 2


@pytest.mark.parametrize("role", ["planner", "approver", "compliance"])
def test_other_roles_may_not_open_or_change_it(client, world, role):
    client.force_login(person(role, role))

    assert client.get("/admin/smi_core/reportingdate/1/change/").status_code == 403
    response = client.post("/admin/smi_core/reportingdate/1/change/", {"date": "2026-11-08"})

    assert response.status_code == 403
    assert not ReportingDate.objects.exists()
    assert not AuditEvent.objects.filter(action="reporting_date.set").exists()


def test_an_auditor_sees_it_but_may_not_change_it(client, world):
    _pin()
    client.force_login(person("aud", "auditor"))

    page = client.get("/admin/smi_core/reportingdate/1/change/")
    response = client.post("/admin/smi_core/reportingdate/1/change/", {"date": "2026-11-22"})

    assert page.status_code == 200 and "2026-11-08" in page.content.decode()
    assert response.status_code == 403
    assert ReportingDate.objects.get().date == PINNED


def test_the_admin_refuses_a_date_after_today(client, world):
    client.force_login(world["fin"])
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.post("/admin/smi_core/reportingdate/1/change/", {"date": tomorrow})

    assert response.status_code == 200  # the form again, with the reason
    assert f"the reporting date {tomorrow} is after today" in response.content.decode()
    assert not ReportingDate.objects.exists()
    with pytest.raises(BadReportingDate):
        reporting_date_set(day=tomorrow, actor=Actor.user(world["fin"]))


def test_the_command_sets_it_only_as_a_user_allowed_to(world):
    person("plan", "planner")
    out = io.StringIO()

    with pytest.raises(CommandError, match="plan may not change the reporting date"):
        call_command("reporting_date", "2026-11-08", "--as", "plan")
    call_command("reporting_date", "2026-11-08", "--as", "fin", stdout=out)

    assert (
        "Figures without a date are as of 2026-11-08, the reporting date set by fin"
        in out.getvalue()
    )
    call_command("reporting_date", "--clear", "--as", "fin", stdout=out)
    assert reporting_day().basis == "today"


def test_setting_the_same_date_again_writes_nothing(world):
    _pin()
    first = ReportingDate.objects.get().set_at

    _pin()

    assert ReportingDate.objects.get().set_at == first
    assert AuditEvent.objects.filter(action="reporting_date.set").count() == 1


# -- demo_load ---------------------------------------------------------------------------


def test_demo_load_moves_the_reporting_date_with_its_data_and_leaves_a_persons_alone(world):
    from smi_core.management.commands.demo_load import _reporting_date

    line = _reporting_date(date(2026, 11, 22))
    _reporting_date(date(2026, 11, 22))  # a re-run: nothing new

    assert line.startswith("reporting date set to 2026-11-22")
    assert reporting_day().as_of == date(2026, 11, 22)
    assert reporting_day().set_by == "system:demo_load"
    assert AuditEvent.objects.filter(action="reporting_date.set").count() == 1

    _reporting_date(date(2026, 11, 29))  # newer samples

    assert reporting_day().as_of == date(2026, 11, 29)

    _pin()  # a person closes October
    line = _reporting_date(date(2026, 12, 6))

    assert reporting_day().as_of == PINNED
    assert line.startswith("reporting date left at 2026-11-08 (set by fin)")
