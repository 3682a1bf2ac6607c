"""The pages people read: the landing page's links by role, the same navigation on every
page, readable 403/404 pages, the API documentation from our own static files, and the
finance pages and commands formatted for people (no Python None, headings in words)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.core.management import call_command

from smi_core.models import AgreementTerm
from smi_core.services.audit import Actor
from smi_core.services.reporting_date import reporting_date_set
from tests.finance_world import build_finance_world
from tests.orders import person

AS_OF = "2026-11-25"


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def nav_keys(html: str) -> set[str]:
    nav = html[html.index('id="smi-nav"') : html.index("</nav>", html.index('id="smi-nav"'))]
    return set(re.findall(r'class="smi-nav-([a-z-]+)', nav))


@pytest.mark.django_db
def test_anonymous_visitors_of_the_landing_page_are_sent_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("planner", {"admin", "api-docs"}),
        ("finance", {"admin", "finance", "simulate", "assistant", "api-docs"}),
        ("auditor", {"admin", "finance", "simulate", "assistant", "api-docs"}),
    ],
)
def test_the_landing_page_links_what_each_role_may_use(client, role, expected):
    client.force_login(person(role, role))

    page = client.get("/")

    assert page.status_code == 200
    assert set(re.findall(r'id="card-([a-z-]+)"', page.text)) == expected
    assert nav_keys(page.text) == expected
    assert f"Your role: {role}." in visible_text(page.text)


@pytest.mark.django_db
def test_the_admin_links_to_our_pages_and_view_site_goes_home(client):
    client.force_login(person("fin", "finance"))

    page = client.get("/admin/")

    assert page.status_code == 200
    bar = page.text[page.text.index('id="smi-admin-nav"') :]
    assert 'href="/finance/"' in bar and 'href="/assistant/"' in bar
    assert 'href="/api/docs/"' in bar
    assert re.search(r'<a href="/">\s*View site\s*</a>', page.text)


@pytest.mark.django_db
def test_a_refused_page_is_readable_and_says_why(client):
    client.force_login(person("plan", "planner"))

    page = client.get("/finance/")

    assert page.status_code == 403
    text = visible_text(page.text)
    assert "You cannot open this page" in text
    assert "holds neither the finance nor the auditor role" in text
    assert nav_keys(page.text) == {"admin", "api-docs"}


@pytest.mark.django_db
def test_a_missing_page_is_readable_with_the_navigation(client, settings):
    settings.DEBUG = False
    client.force_login(person("plan", "planner"))

    page = client.get("/no/such/page/")

    assert page.status_code == 404
    assert "There is no page here" in visible_text(page.text)
    assert "/no/such/page/" in page.text
    assert nav_keys(page.text) == {"admin", "api-docs"}
    # the API keeps its JSON error shape
    assert client.get("/api/v1/nothing/").json()["error"] == "not_found"


def test_the_error_page_needs_neither_the_database_nor_the_user(rf):
    from smi_core.site import server_error

    page = server_error(rf.get("/finance/"))

    assert page.status_code == 500
    text = visible_text(page.content.decode())
    assert "Something went wrong on our side" in text
    assert "Traceback" not in text and 'href="/"' in page.content.decode()


@pytest.mark.django_db
def test_the_api_documentation_is_served_from_our_static_files(client):
    assert client.get("/api/docs/").status_code == 302  # sign in first
    client.force_login(person("plan", "planner"))

    page = client.get("/api/docs/")

    assert page.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page.text
    assert not re.search(r"https?://(cdn|unpkg|cdnjs)", page.text)
    assert nav_keys(page.text) == {"admin", "api-docs"}
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_the_finance_dashboard_reads_like_a_finance_product(client, settings, tmp_path):
    build_finance_world(settings, tmp_path)
    client.force_login(person("aud", "auditor"))

    page = client.get(f"/finance/?as_of={AS_OF}")

    assert page.status_code == 200
    text = visible_text(page.text)
    assert not re.search(r"\bNone\b", text)
    for machine_name in ("currency_of_value", "dio_days", "value_closing", "week_start"):
        assert machine_name not in text
    assert "Days inventory outstanding" in text and "At closing rates (USD)" in text
    # money with its currency, thousands separators and two decimals
    closing = re.search(r'id="total-closing">([^<]+)<', page.text).group(1)
    assert re.fullmatch(r"USD \d{1,3}(,\d{3})*\.\d{2}", closing), closing
    # rates as one footnote per table, not a column
    assert "Exchange rates used (pair, rate, date): EUR/USD 1.1 (2026-10-02)" in text
    assert "<th>Rates</th>" not in page.text
    # weekly series over time: a line and a column chart
    assert 'id="chart-trend"' in page.text and 'data-kind="line"' in page.text
    assert 'id="chart-cash"' in page.text and 'data-kind="column"' in page.text
    assert nav_keys(page.text) == {"admin", "finance", "simulate", "assistant", "api-docs"}


@pytest.mark.django_db
def test_the_simulation_page_charts_baseline_against_scenario(client, settings, tmp_path):
    build_finance_world(settings, tmp_path)
    client.force_login(person("fin", "finance"))

    page = client.get(f"/finance/simulate/?weeks=4&demand_factor=1.5&as_of={AS_OF}")

    assert page.status_code == 200
    text = visible_text(page.text)
    assert not re.search(r"\bNone\b", text)
    assert "Fill rate" in text and "fill_rate" not in text
    assert "Current policy" in text and "Scenario" in text
    chart = page.text[page.text.index('id="chart-simulation"') :]
    assert chart.index("</svg>") > chart.index("<polyline") > 0
    assert chart[: chart.index("</svg>")].count("<polyline") == 2  # baseline and scenario
    assert nav_keys(page.text) == {"admin", "finance", "simulate", "assistant", "api-docs"}


@pytest.mark.django_db
def test_the_commands_print_tables_for_people_and_json_for_machines(settings, tmp_path):
    build_finance_world(settings, tmp_path)

    report = io.StringIO()
    call_command("finance_report", "--as-of", AS_OF, stdout=report)
    simulate = io.StringIO()
    call_command("simulate", "--as-of", AS_OF, "--weeks", "4", stdout=simulate)
    machine = io.StringIO()
    call_command(
        "finance_report", "--as-of", AS_OF, "--figure", "valuation", "--json", stdout=machine
    )

    for out in (report.getvalue(), simulate.getvalue()):
        assert not re.search(r"\bNone\b", out)
        assert "{'" not in out  # no Python dicts
    assert "At closing rates (USD)" in report.getvalue()
    assert re.search(r"\n +Supplier +Owner +Currency +Units +Value", report.getvalue())
    assert "Exchange rates used: EUR/USD 1.1 (2026-10-02)" in report.getvalue()
    assert re.search(r"Fill rate\s+\d+\.\d %", simulate.getvalue())
    assert '"value_closing": "' in machine.getvalue()  # full precision, machine names


@pytest.mark.django_db
def test_the_assistant_pages_share_the_navigation_and_the_readable_refusal(client):
    client.force_login(person("plan", "planner"))
    refused = client.get("/assistant/")
    client.force_login(person("fin", "finance"))
    page = client.get("/assistant/")

    assert refused.status_code == 403
    assert "You cannot open this page" in visible_text(refused.text)
    assert page.status_code == 200
    assert nav_keys(page.text) == {"admin", "finance", "simulate", "assistant", "api-docs"}


def _pin_reporting_date(day: str):
    reporting_date_set(day=date.fromisoformat(day), actor=Actor.system("test"))


@pytest.mark.django_db
def test_the_as_of_boxes_show_the_day_the_figures_are_as_of_when_none_is_asked(
    client, settings, tmp_path
):
    build_finance_world(settings, tmp_path)
    _pin_reporting_date("2026-11-08")
    client.force_login(person("fin", "finance"))

    dashboard = client.get("/finance/").text
    simulation = client.get("/finance/simulate/").text
    ran = client.get("/finance/simulate/?weeks=4").text

    # the box is empty (nothing asked) but shows the reporting date, not YYYY-MM-DD
    assert re.search(r'name="as_of" value="" placeholder="2026-11-08"', dashboard)
    assert re.search(r'name="as_of" value="" size="10" placeholder="2026-11-08"', simulation)
    # the simulation page before its first run says what Run will do, not a blank page
    assert re.search(
        r'id="hint">Nothing run yet: press Run to replay the 8 weeks to 2026-11-08 ', simulation
    )
    assert 'id="hint"' not in ran and 'id="chart-simulation"' in ran


@pytest.mark.django_db
def test_a_write_down_never_tested_reads_as_a_dash_not_as_zero(client, settings, tmp_path):
    build_finance_world(settings, tmp_path)
    AgreementTerm.objects.update(net_selling_price=None)  # no selling price: no NRV test
    client.force_login(person("aud", "auditor"))

    page = client.get(f"/finance/?as_of={AS_OF}").text

    assert (
        'id="total-write-down">\u2014<small class="note">not tested (no selling price)</small>'
        in page
    )
    valuation = page[page.index('id="valuation"') : page.index('id="trend"')]
    assert "<td>not tested (no selling price)</td>" in valuation
    assert '<td class="num">0.00</td>' not in valuation  # the column shows the dash too


@pytest.mark.django_db
def test_the_dashboards_codes_charts_and_empty_sections_read_plainly(client, settings, tmp_path):
    build_finance_world(settings, tmp_path)
    client.force_login(person("aud", "auditor"))

    page = client.get(f"/finance/?as_of={AS_OF}").text

    # a party's code is one cell that the page does not break at its hyphen
    assert '<td class="code">acme-supply</td>' in page
    assert '<td class="code">buyer:eu-stores</td>' in page
    # each FX bar names its currency: 1,000 TEA x EUR 10.00 x 25 % margin = EUR 2,500.00
    fx = page[page.index('id="chart-fx"') :]
    fx = fx[: fx.index("</svg>")]
    assert ">-2,500.00 EUR</text>" in fx
    assert ">0.00 USD</text>" in fx  # the FX gain/loss on invoices, in USD
    # no settlement invoiced: no chart of zeros, a sentence that says so
    assert 'id="chart-settlement"' not in page
    assert (
        "No consignment settlement invoiced on or before 2026-11-25 for this selection: "
        "nothing is owed." in visible_text(page)
    )


@pytest.mark.django_db
def test_the_assistants_figures_align_right_under_their_headings(client, settings, tmp_path):
    build_finance_world(settings, tmp_path)
    client.force_login(person("aud", "auditor"))

    page = client.post(
        "/assistant/", {"question": f"inventory value by owner in USD as of {AS_OF}"}
    ).text

    figures = page[page.index('id="figures"') :]
    assert figures.startswith('id="figures"><tr><th>figure</th><th class="num">value</th>')
    breakdown = page[
        page.index('id="breakdown"') : page.index("</table>", page.index('id="breakdown"'))
    ]
    assert re.search(r'<th>group</th><th class="num">value</th>', breakdown), breakdown
    # the owner's code stays text, its value is a number: 1,000 TEA x EUR 10.00 x 1.20
    assert '<td>buyer:eu-stores</td><td class="num">12,000.00</td>' in breakdown


@pytest.mark.django_db
def test_an_auditor_reads_the_reporting_date_as_a_date_and_finance_can_change_it(client):
    _pin_reporting_date("2026-11-22")
    client.force_login(person("aud", "auditor"))
    read = client.get("/admin/smi_core/reportingdate/1/change/").text
    client.force_login(person("fin", "finance"))
    change = client.get("/admin/smi_core/reportingdate/1/change/").text

    assert re.search(r'<div class="readonly">2026-11-22</div>', read)
    assert "Nov. 22, 2026" not in read
    assert 'name="date" value="2026-11-22"' in change  # the finance role keeps the input
