"""The role workflows in the admin (issue 16), through Django's test client: each button
calls the same service as the API and the command line, SoD refusals show their rule codes,
exceptions name items and locations by code, and exports say what they hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from smi_core.models import Approval, AuditEvent, ExceptionItem, ReplenishmentProposal
from smi_core.services.proposals import proposal_approve
from smi_core.services.sod import SodViolation
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_sod_exceptions_export_states_its_kind_scope_and_rows(world, client):
    denied = approved_order(world, approve=False)
    with pytest.raises(SodViolation):
        proposal_approve(proposal_id=denied.pk, user=world.users["planner"])
    approved_order(world)  # an ordinary approval: not an SoD exception
    client.force_login(person("aud", "auditor"))

    text = client.get("/admin/smi_core/sodexception/?export=csv").content.decode()

    header = text.splitlines()[:4]
    assert header[0] == "# SMI Hub export of SoD exceptions (denials and overrides)"
    assert (
        header[1] == "# filters: none (scope: decisions denied by SoD or approved with an override)"
    )
    assert header[3] == "# rows: 1"
    assert f"\r\n{Approval.objects.get(decision='denied').pk},{denied.pk},denied," in text


def test_a_refused_approval_shows_its_rule_codes_and_an_allowed_one_approves(world, client):
    proposal = approved_order(world, approve=False)
    client.force_login(world.users["planner"])
    page = client.get(f"/admin/smi_core/replenishmentproposal/{proposal.pk}/change/")
    assert "SOD-01" in page.content.decode() and "ACME-1001" in page.content.decode()
    assert "57.60 USD" in page.content.decode()  # 24 x 2.40

    refused = client.post(
        f"/admin/smi_core/replenishmentproposal/{proposal.pk}/approve/", follow=True
    )

    (message,) = _messages(refused)
    assert message.startswith("Refused by SoD rule(s) ROLE, SOD-01")
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "proposed"
    assert AuditEvent.objects.filter(action="proposal.approve.denied").count() == 1

    client.force_login(world.users["approver"])
    client.post(f"/admin/smi_core/replenishmentproposal/{proposal.pk}/approve/")
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "approved"


def test_reject_needs_a_reason(world, client):
    proposal = approved_order(world, approve=False)
    client.force_login(world.users["approver"])

    response = client.post(
        f"/admin/smi_core/replenishmentproposal/{proposal.pk}/reject/", {"reason": " "}, follow=True
    )

    assert _messages(response) == ["a rejection needs a reason"]
    assert ReplenishmentProposal.objects.get(pk=proposal.pk).status == "proposed"


def test_a_planner_edits_a_line_with_a_reason_and_the_approval_lapses(world, client):
    order = approved_order(world)
    client.force_login(world.users["planner"])
    url = f"/admin/smi_core/replenishmentproposal/{order.pk}/edit-line/"
    item = world.items[0]

    no_reason = client.post(url, {"item": item.pk, "quantity": "30"}, follow=True)
    same = client.post(url, {"item": item.pk, "quantity": "24", "reason": "check"}, follow=True)
    edited = client.post(url, {"item": item.pk, "quantity": "30", "reason": "promo"}, follow=True)

    assert _messages(no_reason) == ["a line edit needs a reason"]
    assert "no change" in _messages(same)[0]
    assert "The approval lapsed" in _messages(edited)[0]
    order.refresh_from_db()
    assert order.status == "proposed" and order.value == Decimal("100.80")  # 42 x 2.40
    event = AuditEvent.objects.filter(action="proposal.line.edit").get()
    assert event.after == {"item_id": item.pk, "quantity": "30.0000", "reason": "promo"}
    assert Approval.objects.get(proposal=order).decision == "voided"


def test_an_exception_names_item_and_location_by_code_and_is_assigned_and_resolved(world, client):
    store, item = world.stores["S001"], world.items[0]
    exception = ExceptionItem.objects.create(
        kind="projected_stockout",
        partner=world.buyer.party,
        subject=f"item {item.pk} at location {store.pk}",
        message="m",
        action="a",
        item=item,
        location=store,
    )
    planner = world.users["planner"]
    client.force_login(planner)

    listing = client.get("/admin/smi_core/exceptionitem/?kind__exact=projected_stockout")
    url = f"/admin/smi_core/exceptionitem/{exception.pk}/change/"
    client.post(url, {"_work": "assign", "assign_to": planner.pk})
    client.post(url, {"_work": "resolve", "note": "stock moved from S002"})

    text = listing.content.decode()
    assert "ACME-1001" in text and "S001" in text and f"item {item.pk} at" not in text
    exception.refresh_from_db()
    assert exception.assigned_to == planner and exception.status == "resolved"
    assert exception.resolution_note == "stock moved from S002"
    assert list(
        AuditEvent.objects.filter(object_type="exception").values_list("action", flat=True)
    ) == ["exception.assign", "exception.resolve"]


def test_a_shipper_confirms_and_ships_an_order_from_its_page(world, client):
    order = approved_order(world)
    client.force_login(world.users["shipper"])
    base = f"/admin/smi_core/replenishmentproposal/{order.pk}"

    confirmed = client.post(f"{base}/confirm/", follow=True)
    shipped = client.post(f"{base}/ship/", {"ship_date": "2026-11-25"}, follow=True)

    assert _messages(confirmed)[0].startswith(f"Order {order.po_number} confirmed: 855 ISA13")
    assert "shipped: shipment" in _messages(shipped)[0]
    assert ReplenishmentProposal.objects.get(pk=order.pk).status == "shipped"


def test_the_approver_of_an_order_may_not_ship_it(world, client):
    from smi_core.services.audit import Actor
    from smi_core.services.roles import user_roles_set

    order = approved_order(world)
    client.force_login(world.users["shipper"])
    client.post(f"/admin/smi_core/replenishmentproposal/{order.pk}/confirm/")
    approver = world.users["approver"]
    user_roles_set(user=approver, roles=["approver", "shipper"], actor=Actor.system("t"))
    client.force_login(approver)

    refused = client.post(f"/admin/smi_core/replenishmentproposal/{order.pk}/ship/", follow=True)

    assert _messages(refused)[-1].startswith("Refused by SoD rule(s) SOD-03")
    assert ReplenishmentProposal.objects.get(pk=order.pk).status == "ordered"


def test_an_override_is_requested_granted_by_compliance_and_used_from_the_page(world, client):
    from smi_core.models import SodOverride

    approver = world.users["approver"]
    proposal = approved_order(world, approve=False)
    ReplenishmentProposal.objects.filter(pk=proposal.pk).update(proposed_by=approver)
    base = f"/admin/smi_core/replenishmentproposal/{proposal.pk}"
    client.force_login(approver)

    page = client.get(f"{base}/change/").content.decode()
    client.post(
        f"{base}/override/",
        {"rule_codes": ["SOD-01"], "justification": "planner on leave, store runs out Friday"},
    )
    override = SodOverride.objects.get(proposal=proposal)
    client.force_login(person("compliance", "compliance"))
    granted = client.post(  # from the overrides list (the proposal page has a button too)
        "/admin/smi_core/sodoverride/",
        {"action": "grant", "_selected_action": [override.pk]},
        follow=True,
    )
    client.force_login(approver)
    client.post(f"{base}/approve/")

    assert "Ask for an override of SOD-01" in page
    assert _messages(granted)[-1] == "1 override(s) granted"
    override.refresh_from_db()
    assert override.granted_by.username == "compliance" and override.used_at is not None
    approval = Approval.objects.get(proposal=proposal, decision="approved")
    assert approval.override_id == override.pk


def test_a_planner_replans_one_proposal_and_lands_on_the_new_one(client, settings, tmp_path):
    from tests.smi_core.test_planning import history, planning_world

    world = planning_world.__wrapped__(settings, tmp_path)
    history()  # ingestion plans: one proposal per ship-to that needs goods
    old = ReplenishmentProposal.objects.get(ship_to__code="S001", status="proposed")
    planner = person("plan", "planner")
    client.force_login(person("app", "approver"))
    refused = client.post(f"/admin/smi_core/replenishmentproposal/{old.pk}/replan/", follow=True)
    client.force_login(planner)

    response = client.post(f"/admin/smi_core/replenishmentproposal/{old.pk}/replan/")

    assert "Refused by SoD rule(s) ROLE" in _messages(refused)[0]
    new = ReplenishmentProposal.objects.get(ship_to__code="S001", status="proposed")
    assert new.pk != old.pk and new.proposed_by == planner
    assert ReplenishmentProposal.objects.get(pk=old.pk).status == "cancelled"
    assert response["Location"] == f"/admin/smi_core/replenishmentproposal/{new.pk}/change/"
    assert world["soap"].pk in set(new.lines.values_list("item_id", flat=True))


def test_the_auditor_filters_overrides_and_audit_events_by_user_po_and_rule(world, client):
    from smi_core.services.proposals import override_request

    approver = world.users["approver"]
    mine = approved_order(world, approve=False)
    other = approved_order(world, approve=False)
    override_request(
        proposal_id=mine.pk,
        rule_codes=["SOD-01"],
        justification="planner on leave, store runs out Friday",
        user=approver,
    )
    with pytest.raises(SodViolation):
        proposal_approve(proposal_id=other.pk, user=world.users["planner"])
    client.force_login(person("aud", "auditor"))

    by_user = client.get("/admin/smi_core/sodoverride/?user=approver").context["cl"]
    by_nobody = client.get("/admin/smi_core/sodoverride/?user=planner").context["cl"]
    by_rule = client.get("/admin/smi_core/auditevent/?rule=SOD-01&user=planner").context["cl"]

    assert [o.proposal_id for o in by_user.result_list] == [mine.pk]
    assert list(by_nobody.result_list) == []
    assert [(e.action, e.object_id) for e in by_rule.result_list] == [
        ("proposal.approve.denied", str(other.pk))
    ]


def test_an_approval_page_states_value_and_terms_by_code_not_by_id(world, client):
    order = approved_order(world)
    approval = Approval.objects.get(proposal=order)
    client.force_login(person("aud", "auditor"))

    text = client.get(f"/admin/smi_core/approval/{approval.pk}/change/").content.decode()

    assert "86.40 USD" in text and "service level 95 %" in text  # stored as 0.9500
    assert "<td>ACME-1001</td><td>every location</td>" in text
    assert f'"{world.items[0].pk}@*"' not in text  # the stored key, by database id
    assert "<td>2.40 USD</td>" in text


def test_an_exception_page_does_not_show_the_id_keyed_subject(world, client):
    store, item = world.stores["S001"], world.items[0]
    exception = ExceptionItem.objects.create(
        kind="excess_stock",
        partner=world.buyer.party,
        subject=f"item {item.pk} at location {store.pk}",
        message="m",
        action="a",
        item=item,
        location=store,
    )
    client.force_login(world.users["planner"])

    text = client.get(f"/admin/smi_core/exceptionitem/{exception.pk}/change/").content.decode()

    assert f"item {item.pk} at location {store.pk}" not in text
    assert "ACME-1001" in text and "S001" in text
