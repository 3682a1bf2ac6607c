"""An auditor logs in, filters approvals, opens one and exports the CSV, in a real browser."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from smi_core.models import (
    AgreementTerm,
    AuditEvent,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.services.audit import Actor
from smi_core.services.proposals import proposal_approve, proposal_reject
from smi_core.services.roles import user_roles_set
from tests.factories import ItemFactory, LocationFactory, PartyFactory

User = get_user_model()


def _proposal(supplier, buyer, store, agreement, item, planner, n):
    proposal = ReplenishmentProposal.objects.create(
        supplier=supplier,
        buyer=buyer,
        ship_to=store,
        agreement=agreement,
        currency="USD",
        value=Decimal("24.00") * n,
        as_of=date(2026, 11, 24),
        created_by="user:planner",
        proposed_by=planner,
    )
    ProposalLine.objects.create(
        proposal=proposal,
        item=item,
        quantity=10 * n,
        proposed_quantity=10 * n,
        raw_quantity=10 * n,
        unit_cost=Decimal("2.40"),
        explanation={},
    )
    return proposal


@pytest.mark.django_db(transaction=True)
def test_auditor_filters_opens_and_exports_approvals(browser, live_server, tmp_path):
    supplier = PartyFactory(code="acme-supply", role="supplier")
    buyer = PartyFactory(code="demo-retail", role="buyer")
    store = LocationFactory(party=buyer, code="S001")
    item = ItemFactory(supplier=supplier, vendor_item="ACME-1001")
    agreement = SupplyAgreement.objects.create(
        code="acme-demo",
        buyer=buyer,
        supplier=supplier,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=Decimal("2.40"))
    people = {}
    for role in ("planner", "approver", "auditor"):
        people[role] = User.objects.create_user(role, password=f"{role}-pass-123", is_staff=True)
        user_roles_set(user=people[role], roles=[role], actor=Actor.system("test"))
    approved = _proposal(supplier, buyer, store, agreement, item, people["planner"], 1)
    rejected = _proposal(supplier, buyer, store, agreement, item, people["planner"], 2)
    proposal_approve(proposal_id=approved.pk, user=people["approver"])
    proposal_reject(
        proposal_id=rejected.pk, user=people["approver"], reason="Store closed for refit"
    )
    exports_before = AuditEvent.objects.filter(action="approval.export").count()

    page = browser.new_page(accept_downloads=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", "auditor-pass-123")
    page.click("input[type=submit]")
    assert "Audit chain intact" in page.inner_text("#audit-chain")

    page.goto(f"{live_server.url}/admin/smi_core/approval/")
    page.click("#changelist-filter >> text=Approved")
    page.wait_for_url("**decision__exact=approved**")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert "approved" in rows.first.inner_text().lower()

    page.click("#result_list tbody tr >> nth=0 >> th a")
    page.wait_for_url("**/change/**")
    detail = page.inner_text("#content")
    assert "as proposed" in detail and "ACME-1001" in detail and "proposal.approve" in detail
    page.go_back()
    page.wait_for_url("**decision__exact=approved**")

    with page.expect_download() as info:
        page.click("#export-csv")
    path = tmp_path / "approvals.csv"
    info.value.save_as(path)
    text = path.read_text()
    assert text.startswith("# SMI Hub export of approvals")
    assert "# filters: decision__exact=approved" in text
    assert "# rows: 1" in text
    assert f"{approved.pk}," in text and "Store closed" not in text
    assert text.strip().splitlines()[-1].startswith("# sha256 of the lines above: ")
    assert AuditEvent.objects.filter(action="approval.export").count() == exports_before + 1
    page.screenshot(path=str(tmp_path / "auditor.png"))
