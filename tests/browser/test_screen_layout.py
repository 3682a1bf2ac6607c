"""In a real browser at 1366 px, as the README's screenshots are taken: the reporting-date
band's link is not broken across lines, the headline figures sit in one row, a party's code
is not broken at its hyphen, and the simulation's form keeps its Run button in the row."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from smi_core.models import AgreementTerm
from smi_core.services.audit import Actor
from smi_core.services.reporting_date import reporting_date_set
from tests.finance_world import build_finance_world
from tests.orders import person

LINES = """(selector) => {
  const el = document.querySelector(selector);
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return tops.size;
}"""


def _tops(page, selector: str) -> list[int]:
    return page.eval_on_selector_all(
        selector, "(els) => els.map((e) => Math.round(e.getBoundingClientRect().top))"
    )


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_and_simulation_read_in_rows_at_1366_px(
    browser, live_server, tmp_path, settings
):
    build_finance_world(settings, tmp_path)
    # no selling price: the write-down card carries its "not tested" note, the widest case
    AgreementTerm.objects.update(net_selling_price=None)
    reporting_date_set(
        day=date(2026, 11, 22),
        note="the date of the demo's latest 852 data",
        actor=Actor.system("demo_load"),
    )
    user = person("aud", "auditor")
    user.set_password("auditor-pass-123")
    user.save()
    shots = Path(os.environ.get("SMI_SCREENSHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/?next=/finance/")
    page.fill("#id_username", "aud")
    page.fill("#id_password", "auditor-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/finance/")

    # "View as of today (...)" is one piece of text, moved whole to the next line if need be
    assert page.evaluate(LINES, "#view-today") == 1
    assert page.eval_on_selector("#view-today", "(a) => getComputedStyle(a).whiteSpace") == (
        "nowrap"
    )
    # the five headline figures in one row, the write-down's note under its dash
    cards = _tops(page, ".headline > div")
    assert len(cards) == 5 and len(set(cards)) == 1, cards
    assert page.inner_text("#total-write-down").splitlines() == [
        "\u2014",
        "not tested (no selling price)",
    ]
    # a supplier's code on one line, not "acme-" over "supply"
    assert page.evaluate(LINES, "#valuation td.code") == 1
    assert page.inner_text("#valuation td.code") == "acme-supply"
    page.screenshot(path=str(shots / "finance-layout.png"), full_page=True)

    page.goto(f"{live_server.url}/finance/simulate/")
    fields = _tops(page, "form.filters input, form.filters button")
    assert len(fields) == 7 and max(fields) - min(fields) <= 4, fields  # Run in the row
    assert page.inner_text("#hint").startswith(
        "Nothing run yet: press Run to replay the 8 weeks to 2026-11-22"
    )
