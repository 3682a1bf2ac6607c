"""A finance user works a consignment settlement in the admin in headless Chromium at 1366
px: the list and the page fit the width, Approve and Issue are buttons that call the
services (SoD holds: the preparer gets the refusal), and the dashboard's settlement section
shows what the buyer owes, also within 1366 px."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import SettlementInvoice
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant
from smi_core.services.settlement import settlement_prepare
from smi_core.services.settlement_payments import RemittanceIn, RemittanceLineIn, remittance_apply
from tests.smi_core.test_settlement import TODAY, world  # noqa: F401 (fixture)

WIDTH = {"width": 1366, "height": 900}


def _login(browser, live_server, username: str):
    page = browser.new_page(viewport=WIDTH)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"{page.url} is {width} px wide at 1366"


def _table_fits(page, selector: str) -> None:
    """The table is not wider than the box it scrolls in (every column visible)."""
    table, box = page.evaluate(
        f"(() => {{ const t = document.querySelector('{selector}'); "
        "return [t.scrollWidth, t.parentElement.clientWidth]; })()"
    )
    assert table <= box, f"{selector} is {table} px in a {box} px box"


@pytest.mark.django_db(transaction=True)
def test_a_settlement_is_approved_and_issued_in_the_admin_at_1366_px(
    browser,
    live_server,
    world,  # noqa: F811
):
    for user in (world["preparer"], world["approver"]):
        finance_access_grant(user=user, party=world["buyer"].party, actor=Actor.system("test"))
    invoice, _ = settlement_prepare(
        agreement_id=world["agreement"].pk,
        day=date(2027, 2, 15),
        user=world["preparer"],
        today=TODAY,
    )
    change = f"{live_server.url}/admin/smi_core/settlementinvoice/{invoice.pk}/change/"

    page = _login(browser, live_server, "pat")  # the preparer
    page.goto(change)
    page.click("#approve-button")
    assert "Refused by SoD rule(s) SOD-06" in page.inner_text(".messagelist")
    page.close()

    page = _login(browser, live_server, "ann")
    page.goto(f"{live_server.url}/admin/smi_core/settlementinvoice/")
    _fits(page)
    row = page.inner_text("#result_list tbody tr")
    assert invoice.number in row and "USD 428.25" in row
    assert "February 2027" in row  # a calendar-month cycle in words
    _table_fits(page, "#result_list")  # no column hidden behind the filter panel
    page.goto(change)
    _fits(page)
    assert page.inner_text("#settlement-total") == "USD 428.25"
    # the fields as a person reads them: money with its currency, ISO dates, who in
    # words, notes as text (not a JSON list), lines priced with the currency
    assert page.inner_text(".field-total_money .readonly") == "USD 428.25"
    assert page.inner_text(".field-prepared .readonly").startswith("pat on 20")
    assert page.inner_text(".field-sets .readonly").startswith("#")
    lines = page.inner_text("#lines-group")
    assert "USD 4.25" in lines and "USD 191.25" in lines and "45 EA" in lines
    assert "x 4.2500" not in lines  # no per-row caption of raw decimals
    page.click("#approve-button")
    assert "approved" in page.inner_text(".messagelist")
    page.click("#issue-button")
    assert "810 ISA13" in page.inner_text(".messagelist")
    _fits(page)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.document.set_id) == ("issued", "810")

    remittance_apply(
        advice=RemittanceIn(
            payer=world["buyer"].party,
            payee=world["supplier"].party,
            trace_number="T-BROWSER",
            payment_date=date(2027, 4, 5),
            amount=Decimal("300.00"),
            currency="USD",
            lines=(RemittanceLineIn(reference=invoice.number, paid=Decimal("300.00")),),
        ),
        actor=Actor.partner("north"),
    )
    page.goto(change)
    assert "T-BROWSER" in page.inner_text("#settlement-payments")
    assert page.inner_text("#settlement-balance") == "USD 128.25"
    page.click("#settlement-payments a")  # the remittance, as a person reads it
    _fits(page)
    assert page.inner_text(".fieldBox.field-amount_money .readonly") == "USD 300.00"
    assert page.inner_text(".fieldBox.field-payment_date_text .readonly") == "2027-04-05"
    assert "USD 300.00" in page.inner_text(".inline-group")
    page.goto(f"{live_server.url}/finance/?as_of=2027-04-30")
    _fits(page)
    section = page.inner_text("#settlement")
    _table_fits(page, "#settlement table")
    assert "DSO (owed / invoiced over the 90 days x 90)" in section
    assert "north" in section and "128.25" in section
    assert page.locator("svg#chart-settlement").count() == 1
    assert SettlementInvoice.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_demos_issued_settlement_lists_every_column_at_1366_px(
    browser, live_server, settings, tmp_path
):
    """The demo's invoice runs to thousands of dollars; issued, part paid and corrected by
    a credit memo, its row has a due date and its age and the memo's number is longer, and
    still every column shows beside the filter panel."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from smi_core.services.settlement import (
        MemoLine,
        settlement_approve,
        settlement_issue,
        settlement_memo_create,
    )

    settings.VAR_DIR = tmp_path
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    call_command("demo_load", verbosity=0)
    finance = get_user_model().objects.get(username="finance")
    finance.set_password("pw")
    finance.save()
    invoice = SettlementInvoice.objects.get()
    settlement_approve(invoice_id=invoice.pk, user=finance)
    invoice = settlement_issue(invoice_id=invoice.pk, user=finance)
    remittance_apply(
        advice=RemittanceIn(
            payer=invoice.buyer,
            payee=invoice.supplier,
            trace_number="T-DEMO",
            payment_date=invoice.invoice_date,
            amount=Decimal("1000.00"),
            currency=invoice.currency,
            lines=(RemittanceLineIn(reference=invoice.number, paid=Decimal("1000.00")),),
        ),
        actor=Actor.partner(invoice.buyer.code),
    )
    line = invoice.lines.first()
    memo = settlement_memo_create(
        original_id=invoice.pk,
        kind="credit_memo",
        lines=[MemoLine(line.item_id, line.location_id, line.quantity, line.unit_price)],
        reason="returned damaged",
        user=finance,
    )

    page = _login(browser, live_server, "finance")
    page.goto(f"{live_server.url}/admin/smi_core/settlementinvoice/")
    memo_row, invoice_row = (
        page.inner_text(f"#result_list tbody tr:nth-child({n})") for n in (1, 2)
    )
    assert memo.number in memo_row and "Credit memo" in memo_row
    assert invoice_row.startswith(invoice.number) and "Partially paid" in invoice_row
    assert f"{invoice.due_date:%Y-%m-%d}" in invoice_row and "not yet due" in invoice_row
    _fits(page)
    _table_fits(page, "#result_list")
    page.goto(f"{live_server.url}/admin/smi_core/settlementinvoice/{memo.pk}/change/")
    _fits(page)
    corrects = page.inner_text("#settlement-summary div:has(> span:text-is('corrects')) strong")
    assert corrects == invoice.number
    # a memo is entered, not worked out from 852s: its notes do not claim otherwise
    notes = page.inner_text(".field-notes_text .readonly")
    assert "not worked out from 852s" in notes and "every consumed" not in notes
