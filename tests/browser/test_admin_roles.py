"""Each role's main task end to end in the admin, in headless Chromium at 1366 px: the
approver (refused, then allowed), the planner (a line edit lapses the approval), the
shipper (confirm and ship), the auditor (export the audit trail and check its hash), and
the main lists fit the screen without horizontal scrolling."""

from __future__ import annotations

import hashlib
import os

import pytest

from smi_core.models import AuditEvent, ExceptionItem, ReplenishmentProposal
from smi_core.services.audit import Actor, audit_record
from tests.orders import approved_order, build_world, person

SHOTS = os.environ.get("SMI_SHOTS", "/tmp/shots")
WIDTH = {"width": 1366, "height": 900}


@pytest.fixture
def world(transactional_db):
    return build_world()


def _login(browser, live_server, username: str):
    page = browser.new_page(viewport=WIDTH, accept_downloads=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def _shot(page, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _messages(page) -> str:
    return page.inner_text("ul.messagelist")


@pytest.mark.django_db(transaction=True)
def test_approver_is_refused_with_rule_codes_then_an_allowed_user_approves(
    browser, live_server, world
):
    proposal = approved_order(world, approve=False)
    url = f"{live_server.url}/admin/smi_core/replenishmentproposal/{proposal.pk}/change/"

    page = _login(browser, live_server, "planner")  # proposed it, and no approver role
    page.goto(url)
    assert "SOD-01" in page.inner_text("#sod-checks")
    page.click("#approve-button")
    refused = _messages(page)
    page.close()

    page = _login(browser, live_server, "approver")
    page.goto(url)
    _shot(page, "proposal-approver")
    assert "none applies" in page.inner_text("#sod-checks")
    assert page.inner_text("#proposal-value") == "86.40 USD"
    assert "ACME-1001" in page.inner_text("#proposal-lines")
    page.click("#approve-button")
    approved = _messages(page)

    assert "Refused by SoD rule(s) ROLE, SOD-01" in refused
    assert "proposed this proposal" in refused
    assert f"Proposal #{proposal.pk} approved" in approved
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "approved"


@pytest.mark.django_db(transaction=True)
def test_planner_edits_a_line_and_sees_the_approval_lapse(browser, live_server, world):
    order = approved_order(world)
    page = _login(browser, live_server, "planner")
    page.goto(f"{live_server.url}/admin/smi_core/replenishmentproposal/{order.pk}/change/")

    row = page.locator("tr.proposal-line[data-item=ACME-1001]")
    row.locator("input[name=quantity]").fill("30")
    row.locator("input[name=reason]").fill("store promotion next week")
    row.locator("input[type=submit]").click()
    page.wait_for_selector("ul.messagelist")
    _shot(page, "proposal-planner-edited")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )

    assert "24 -> 30" in _messages(page) and "The approval lapsed" in _messages(page)
    assert "needs approving again" in page.inner_text("#approval-lapsed")
    assert "30" in row.locator(".line-quantity").inner_text()
    assert page.locator("#approve-button").is_visible()  # back to proposed
    assert ReplenishmentProposal.objects.get(pk=order.pk).status == "proposed"
    assert widths[0] <= widths[1]  # the page with its edit forms fits 1366 px


@pytest.mark.django_db(transaction=True)
def test_shipper_confirms_and_ships_an_order(browser, live_server, world):
    order = approved_order(world)
    page = _login(browser, live_server, "shipper")
    page.goto(f"{live_server.url}/admin/smi_core/replenishmentproposal/{order.pk}/change/")

    page.click("#confirm-button")
    confirmed = _messages(page)
    page.fill("#ship-form input[name=carrier_scac]", "UPSN")
    page.click("#ship-button")
    shipped = _messages(page)
    _shot(page, "order-shipped")

    assert f"Order {order.po_number} confirmed: 855 ISA13" in confirmed
    assert f"Order {order.po_number} shipped: shipment" in shipped
    order.refresh_from_db()
    assert order.status == "shipped"
    assert "856 #" in page.inner_text("#content")  # the documents sent, on the page


@pytest.mark.django_db(transaction=True)
def test_auditor_exports_the_audit_trail_and_its_hash_checks(browser, live_server, world, tmp_path):
    approved_order(world)
    person("aud", "auditor")
    page = _login(browser, live_server, "aud")
    page.goto(f"{live_server.url}/admin/smi_core/auditevent/")
    page.fill("input[name=user]", "approver")
    page.press("input[name=user]", "Enter")
    page.wait_for_url("**user=approver**")
    _shot(page, "audit-events")

    with page.expect_download() as info:
        page.click("#export-csv")
    path = tmp_path / "audit.csv"
    info.value.save_as(path)
    lines = path.read_bytes().decode().split("\r\n")
    digest_line = next(line for line in lines if line.startswith("# sha256"))
    above = "\r\n".join(lines[: lines.index(digest_line)]) + "\r\n"

    assert lines[0] == "# SMI Hub export of audit events (the hash-chained audit trail)"
    assert lines[1] == "# filters: user=approver"
    expected = AuditEvent.objects.filter(actor="approver").count()
    assert lines[3] == f"# rows: {expected}" and expected >= 2
    assert (
        digest_line == f"# sha256 of the lines above: {hashlib.sha256(above.encode()).hexdigest()}"
    )


@pytest.mark.django_db(transaction=True)
def test_main_lists_show_their_key_columns_at_1366_px_without_scrolling(
    browser, live_server, world
):
    for n in range(3):
        approved_order(world, approve=n != 0, store="S002" if n else "S001")
    store, item = world.stores["S001"], world.items[0]
    ExceptionItem.objects.create(
        kind="projected_stockout",
        partner=world.buyer.party,
        subject=f"item {item.pk} at location {store.pk}",
        message="short",
        action="expedite",
        item=item,
        location=store,
    )
    # A task's actor names its run: long and without spaces (it widened the list in the demo).
    audit_record(
        actor=Actor.system("task:smi_edi.ingest_interchange:10e9ffb1-7caf-46cb-8c28-00878b12e8fa"),
        action="interchange.status",
        object_type="interchange",
        object_id=1,
    )
    person("aud", "auditor")
    page = _login(browser, live_server, "aud")
    pages = {
        "proposals": (
            "/admin/smi_core/replenishmentproposal/",
            ["ship to", "status", "value", "PO number"],
        ),
        "audit-events": ("/admin/smi_core/auditevent/", ["at", "actor", "action", "rules"]),
        "exceptions": ("/admin/smi_core/exceptionitem/", ["kind", "about", "status"]),
        "approvals": (
            "/admin/smi_core/approval/",
            ["proposal / PO", "decision", "actor", "value", "SoD rules"],
        ),
    }
    for name, (url, columns) in pages.items():
        page.goto(f"{live_server.url}{url}")
        _shot(page, f"list-{name}")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
            " document.querySelector('#changelist .results').scrollWidth,"
            " document.querySelector('#changelist .results').clientWidth]"
        )
        headers = [h.strip() for h in page.locator("#result_list thead th").all_inner_texts()]
        assert widths[0] <= widths[1] and widths[2] <= widths[3], (name, widths)
        for column in columns:
            assert any(h.lower() == column.lower() for h in headers), (name, column, headers)
            header = page.locator("#result_list thead th", has_text=column).first
            box = header.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1366, (name, column, box)
