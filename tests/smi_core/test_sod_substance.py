"""SoD on the substance of a change (SOD-05): who may not approve is whoever set a line's
current quantity by an actual change, not whoever saved last. The finding: P (planner and
approver) raises a quantity by 1,000, Q saves the same quantity again, Q is the last editor
and P approves his own change."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from smi_core.exceptions import ApplicationError
from smi_core.models import Approval, AuditEvent, ProposalLine, ReplenishmentProposal
from smi_core.services.audit import Actor, audit_record
from smi_core.services.proposals import (
    approval_is_valid,
    override_grant,
    override_request,
    proposal_approve,
    proposal_line_edit,
)
from smi_core.services.roles import user_roles_set
from smi_core.services.sod import SodViolation, approval_breaches
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status
JUSTIFICATION = "Only approver on site during the stock-take weekend; stores run out Monday."


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


@pytest.fixture
def order(world):
    """ACME-1001 x 24 and ACME-1002 x 12, proposed by the world's planner."""
    return approved_order(world, approve=False)


def edit(order, n: int, quantity, user):
    line = order.lines.order_by("item_id")[n]
    return proposal_line_edit(
        proposal_id=order.pk, item_id=line.item_id, quantity=Decimal(quantity), user=user
    )


def codes(order, user) -> list[str]:
    order.refresh_from_db()
    return [b.code for b in approval_breaches(proposal=order, user=user)]


def edit_events(order) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.before["quantity"], e.after["quantity"])
        for e in AuditEvent.objects.filter(
            action="proposal.line.edit", object_id=str(order.pk)
        ).order_by("id")
    ]


@pytest.mark.parametrize("superuser", [False, True], ids=["planner-approver", "superuser"])
def test_a_resave_of_the_same_quantity_leaves_the_raiser_the_author(order, superuser):
    pat = person("pat", "planner", "approver", superuser=superuser)
    quinn = person("quinn", "planner", "approver")

    raised = edit(order, 0, 1024, pat)
    resaved = edit(order, 0, "1024.00", quinn)
    with pytest.raises(SodViolation) as denied:
        proposal_approve(proposal_id=order.pk, user=pat)

    assert raised.changed and raised.message == f"proposal #{order.pk}, ACME-1001: 24 -> 1024"
    assert not resaved.changed
    assert (
        resaved.message
        == f"proposal #{order.pk}, ACME-1001: no change (the quantity is already 1024)"
    )
    assert denied.value.rule_codes == ["SOD-05"]
    assert "pat set the current quantity of ACME-1001 (1024). Whoever set the current" in str(
        denied.value
    )
    line = order.lines.get(item__vendor_item="ACME-1001")
    assert (line.quantity, line.quantity_set_by) == (Decimal(1024), pat)
    assert edit_events(order) == [("pat", "24.0000", "1024.0000")]  # quinn's save is not an edit
    order.refresh_from_db()
    assert order.status == P.PROPOSED and order.last_edited_by == pat
    assert Approval.objects.get(proposal=order).decision == Approval.Decision.DENIED
    # quinn changed nothing, so nothing stops him being the second pair of eyes
    assert proposal_approve(proposal_id=order.pk, user=quinn).decision == "approved"


def test_a_real_change_by_someone_else_makes_them_the_author(order):
    pat = person("pat", "planner", "approver")
    quinn = person("quinn", "planner", "approver")

    edit(order, 0, 1024, pat)
    edit(order, 0, 1000, quinn)

    assert codes(order, quinn) == ["SOD-05"]
    assert codes(order, pat) == []
    approval = proposal_approve(proposal_id=order.pk, user=pat)
    assert approval.decision == "approved"
    assert [Decimal(line["quantity"]) for line in approval.lines] == [1000, 12]


def test_editors_of_different_lines_are_both_authors_and_neither_approves(world, order):
    pat = person("pat", "planner", "approver")
    quinn = person("quinn", "planner", "approver")
    edit(order, 0, 1024, pat)
    edit(order, 1, 30, quinn)  # quinn saved last; pat's 1024 still stands

    with pytest.raises(SodViolation) as pat_denied:
        proposal_approve(proposal_id=order.pk, user=pat)
    with pytest.raises(SodViolation) as quinn_denied:
        proposal_approve(proposal_id=order.pk, user=quinn)

    assert pat_denied.value.rule_codes == quinn_denied.value.rule_codes == ["SOD-05"]
    assert "pat set the current quantity of ACME-1001 (1024)." in pat_denied.value.message
    assert "quinn set the current quantity of ACME-1002 (30)." in quinn_denied.value.message
    assert proposal_approve(proposal_id=order.pk, user=world.users["approver"]).decision == (
        "approved"
    )


@pytest.mark.parametrize("restorer", ["quinn", "rita"], ids=["Q-sets-it-back", "R-sets-it-back"])
def test_who_sets_a_quantity_back_is_its_author(order, restorer):
    people = {name: person(name, "planner", "approver") for name in ("pat", "quinn", "rita")}
    edit(order, 0, 1024, people["pat"])
    edit(order, 0, 500, people["quinn"])
    edit(order, 0, 1024, people[restorer])

    assert {name: codes(order, user) for name, user in people.items()} == {
        name: (["SOD-05"] if name == restorer else []) for name in people
    }
    assert order.lines.get(item__vendor_item="ACME-1001").quantity_set_by == people[restorer]
    assert proposal_approve(proposal_id=order.pk, user=people["pat"]).decision == "approved"


def test_the_proposer_keeps_sod_01_and_an_editor_who_proposed_gets_both(world, order):
    planner = world.users["planner"]
    user_roles_set(user=planner, roles=["planner", "approver"], actor=Actor.system("test"))

    assert codes(order, planner) == ["SOD-01"]
    edit(order, 1, 13, planner)
    assert codes(order, planner) == ["SOD-01", "SOD-05"]


def test_saving_the_same_quantity_on_an_approved_order_keeps_the_approval(world):
    order = approved_order(world)
    moves = list(order.status_changes.values_list("from_status", "to_status"))

    result = edit(order, 0, 24, world.users["planner"])

    order.refresh_from_db()
    assert not result.changed
    assert order.status == P.APPROVED and order.last_edited_by is None
    assert Approval.objects.get(proposal=order).decision == Approval.Decision.APPROVED
    assert approval_is_valid(order)
    assert edit_events(order) == []
    assert list(order.status_changes.values_list("from_status", "to_status")) == moves


def test_api_and_command_refuse_the_raiser_after_a_resave(order):
    pat = person("pat", "planner", "approver")
    edit(order, 0, 1024, pat)
    edit(order, 0, 1024, person("quinn", "planner", "approver"))
    client = APIClient()
    client.force_authenticate(pat)

    response = client.post(f"/api/v1/proposals/{order.pk}/approve/")
    with pytest.raises(CommandError) as command:
        call_command("proposal_approve", str(order.pk), "--as", "pat")

    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "sod_violation" and body["rule_codes"] == ["SOD-05"]
    assert "pat set the current quantity of ACME-1001 (1024)" in body["message"]
    assert command.value.returncode == 3 and "denied (SOD-05)" in str(command.value)
    order.refresh_from_db()
    assert order.status == P.PROPOSED


def test_an_author_of_a_line_may_not_grant_an_override_though_not_the_last_editor(world, order):
    cora = person("cora", "planner", "compliance")
    quinn = person("quinn", "planner", "approver")
    edit(order, 0, 1024, cora)
    edit(order, 1, 30, quinn)
    override = override_request(
        proposal_id=order.pk, rule_codes=["SOD-05"], justification=JUSTIFICATION, user=quinn
    )

    with pytest.raises(SodViolation) as denied:
        override_grant(override_id=override.pk, user=cora)

    assert denied.value.rule_codes == ["OVERRIDE"]
    override.refresh_from_db()
    assert override.granted_by is None


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "-1", "100000000000000"])
def test_a_quantity_that_cannot_be_stored_is_refused_in_words(order, quantity):
    with pytest.raises(ApplicationError) as refused:
        edit(order, 0, Decimal(quantity), person("pat", "planner"))

    assert refused.value.code == "bad_quantity"
    assert refused.value.message == "a quantity is a number from 0 to 99,999,999,999,999"
    assert order.lines.get(item__vendor_item="ACME-1001").quantity == Decimal(24)


def test_the_migration_gives_lines_edited_before_it_their_author_from_the_audit_trail(order):
    pat = person("pat", "planner", "approver")
    quinn = person("quinn", "planner", "approver")
    edit(order, 0, 1024, pat)
    edit(order, 1, 30, quinn)
    # as before the migration: no author on the lines, quinn the last editor, and quinn's
    # old-style re-save of pat's line recorded as an edit that changed nothing
    ProposalLine.objects.filter(proposal=order).update(quantity_set_by=None, quantity_set_at=None)
    audit_record(
        actor=Actor("user", "quinn"),
        action="proposal.line.edit",
        object_type="proposal",
        object_id=order.pk,
        before={"item_id": order.lines.order_by("item_id")[0].item_id, "quantity": "1024.0000"},
        after={"item_id": order.lines.order_by("item_id")[0].item_id, "quantity": "1024"},
    )
    migration = importlib.import_module("smi_core.migrations.0011_proposal_line_quantity_author")

    migration.add_rule_and_authors(apps, None)

    authors = dict(order.lines.values_list("item__vendor_item", "quantity_set_by__username"))
    assert authors == {"ACME-1001": "pat", "ACME-1002": "quinn"}
    assert codes(order, pat) == ["SOD-05"]


def test_a_line_changed_without_a_recorded_author_counts_as_the_last_editors(order):
    quinn = person("quinn", "planner", "approver")
    edit(order, 1, 30, quinn)
    # ACME-1001 changed by hand before authors were recorded, and nothing in the audit trail
    ProposalLine.objects.filter(proposal=order, item__vendor_item="ACME-1001").update(
        quantity=Decimal(1024)
    )

    assert codes(order, quinn) == ["SOD-05"]
    order.refresh_from_db()
    reasons = [b.reason for b in approval_breaches(proposal=order, user=quinn)]
    assert reasons[0].startswith(
        "quinn set the current quantity of ACME-1001 (1024; changed before authors were "
        "recorded, so counted as the last editor's), ACME-1002 (30)."
    )
