"""Gaps an audit found in segregation of duties: the admin could rewrite who last edited a
proposal, an override's grantor could approve with it, anyone could edit lines, a
re-approval kept the old ordered quantities, the approval binding was never enforced, and a
refused role assignment left no trace."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from smi_core.models import (
    Approval,
    AuditEvent,
    ProposalLine,
    ReplenishmentProposal,
    SodOverride,
)
from smi_core.selectors.planning_output import proposal_as_dict, proposals_list
from smi_core.services.audit import Actor
from smi_core.services.orders import order_open
from smi_core.services.proposals import (
    ApprovalInvalid,
    TransitionRefused,
    override_grant,
    override_request,
    proposal_approve,
    proposal_cancel,
    proposal_close,
    proposal_line_edit,
)
from smi_core.services.roles import RoleConflict, user_roles_set
from smi_core.services.sod import SodViolation
from smi_edi.models import OutboundDocument
from smi_edi.services.order_documents import order_acknowledge
from smi_edi.services.raw_store import raw_path
from smi_edi.x12.reader import X12Reader
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status
User = get_user_model()
JUSTIFICATION = "Only approver on site during the stock-take weekend; stores run out Monday."


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def changed_agreement_lately(world, user) -> None:
    """``user`` edits the governing agreement: SOD-02 keeps them from approving under it."""
    agreement = world.agreement
    agreement.service_level = Decimal("0.97")
    agreement._history_user = user
    agreement.save()


# -- 1. the admin cannot rewrite who proposed or last edited ---------------------------------


def test_the_proposal_admin_cannot_change_who_last_edited(world):
    order = approved_order(world, approve=False)
    proposal_line_edit(
        proposal_id=order.pk,
        item_id=world.items[0].pk,
        quantity=Decimal(30),
        user=world.users["planner"],
    )
    boss = User.objects.create_superuser("boss", password="pw")
    url = f"/admin/smi_core/replenishmentproposal/{order.pk}/change/"
    client = logged_in(boss)
    page = client.get(url)
    data = {}  # the lines are shown (and edited through the service), not as a formset
    for inline in page.context["inline_admin_formsets"]:
        lines = inline.formset
        data |= {
            f"{lines.prefix}-TOTAL_FORMS": str(lines.total_form_count()),
            f"{lines.prefix}-INITIAL_FORMS": str(lines.initial_form_count()),
            f"{lines.prefix}-MIN_NUM_FORMS": "0",
            f"{lines.prefix}-MAX_NUM_FORMS": "1000",
        }
        for n, form in enumerate(lines.forms):
            data[f"{lines.prefix}-{n}-id"] = str(form.instance.pk)
            data[f"{lines.prefix}-{n}-proposal"] = str(order.pk)

    client.post(
        url,
        {
            **data,
            "last_edited_by": str(boss.pk),
            "last_edited_at_0": "2026-01-01",
            "last_edited_at_1": "00:00:00",
            "proposed_by": str(boss.pk),
            "status": "approved",
        },
    )

    order.refresh_from_db()
    assert page.context["adminform"].form.fields == {}  # nothing on the proposal is editable
    assert order.last_edited_by == world.users["planner"]
    assert order.proposed_by == world.users["planner"]
    assert order.status == P.PROPOSED


# -- 2. an override needs a third person, and binds its approver ----------------------------


@pytest.mark.parametrize("superuser", [False, True], ids=["staff", "superuser"])
def test_whoever_grants_an_override_cannot_approve_with_it(world, superuser):
    order = approved_order(world, approve=False)
    both = person("approver-compliance", "approver", "compliance", superuser=superuser)
    changed_agreement_lately(world, both)  # SOD-02 stops "both" from approving
    for_both = override_request(
        proposal_id=order.pk,
        rule_codes=["SOD-02"],
        justification=JUSTIFICATION,
        user=world.users["planner"],
        approver=both,
    )
    for_planner = override_request(
        proposal_id=order.pk,
        rule_codes=["SOD-02"],
        justification=JUSTIFICATION,
        user=world.users["planner"],
    )

    with pytest.raises(SodViolation) as refused:
        override_grant(override_id=for_both.pk, user=both)  # grantor = the named approver
    override_grant(override_id=for_planner.pk, user=both)  # granted, but names someone else
    with pytest.raises(SodViolation) as denied:
        proposal_approve(proposal_id=order.pk, user=both)

    assert refused.value.rule_codes == ["OVERRIDE"]
    assert [e.rule_codes for e in events("override.grant.denied")] == [["OVERRIDE"]]
    assert denied.value.rule_codes == ["SOD-02"]
    assert Approval.objects.get(proposal=order).decision == "denied"
    assert SodOverride.objects.filter(used_at__isnull=False).count() == 0
    order.refresh_from_db()
    assert order.status == P.PROPOSED


def test_the_named_approver_uses_an_override_a_third_person_granted(world):
    order = approved_order(world, approve=False)
    approver = world.users["approver"]
    changed_agreement_lately(world, approver)
    override = override_request(
        proposal_id=order.pk,
        rule_codes=["SOD-02"],
        justification=JUSTIFICATION,
        user=approver,
    )
    override_grant(override_id=override.pk, user=person("compliance", "compliance"))

    approval = proposal_approve(proposal_id=order.pk, user=approver)

    assert approval.decision == "approved" and approval.override_id == override.pk
    assert proposal_as_dict(order)["approved_with_override"] == override.pk  # flagged
    listed = {p.pk: proposal_as_dict(p) for p in proposals_list()}  # one query, annotated
    assert listed[order.pk]["approved_with_override"] == override.pk
    assert proposal_as_dict(approved_order(world, approve=False))["approved_with_override"] is None
    with pytest.raises(Exception, match="already granted, used or expired"):
        override_grant(override_id=override.pk, user=person("compliance2", "compliance"))


def test_the_override_admin_grants_and_shows_refusals(world):
    order = approved_order(world, approve=False)
    compliance = person("compliance", "compliance", "approver")
    mine = override_request(
        proposal_id=order.pk,
        rule_codes=["SOD-02"],
        justification=JUSTIFICATION,
        user=world.users["planner"],
        approver=compliance,
    )
    theirs = override_request(
        proposal_id=order.pk,
        rule_codes=["SOD-02"],
        justification=JUSTIFICATION,
        user=world.users["approver"],
    )

    response = logged_in(compliance).post(
        "/admin/smi_core/sodoverride/",
        {"action": "grant", "_selected_action": [str(mine.pk), str(theirs.pk)]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages[0].startswith(f"compliance may not grant override #{mine.pk}")
    assert messages[1] == "1 override(s) granted"
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.granted_by is None and theirs.granted_by == compliance


# -- 3. only planners edit; cancel and close go through the transition table -----------------


@pytest.mark.parametrize("superuser", [False, True], ids=["approver", "superuser-approver"])
def test_only_a_planner_edits_lines_and_a_refusal_is_recorded(world, superuser):
    order = approved_order(world, approve=False)
    someone = person("someone", "approver", superuser=superuser)

    with pytest.raises(SodViolation) as denied:
        proposal_line_edit(
            proposal_id=order.pk, item_id=world.items[0].pk, quantity=Decimal(99), user=someone
        )

    assert denied.value.rule_codes == ["ROLE"]
    assert [(e.actor, e.object_id, e.rule_codes) for e in events("proposal.line.edit.denied")] == [
        ("someone", str(order.pk), ["ROLE"])
    ]
    line = order.lines.get(item=world.items[0])
    assert line.quantity == Decimal(24)
    order.refresh_from_db()
    assert order.last_edited_by is None


def test_cancel_and_close_follow_the_transition_table_and_are_audited(world):
    planner = world.users["planner"]
    order = approved_order(world)
    received = approved_order(world, approve=False)
    ReplenishmentProposal.objects.filter(pk=received.pk).update(status=P.RECEIVED)

    with pytest.raises(SodViolation):
        proposal_cancel(proposal_id=order.pk, user=person("auditor", "auditor"), reason="no")
    proposal_cancel(proposal_id=order.pk, user=planner, reason="store closed for refit")
    with pytest.raises(TransitionRefused, match="is cancelled"):
        proposal_cancel(proposal_id=order.pk, user=planner, reason="again")
    with pytest.raises(TransitionRefused, match="is cancelled"):
        proposal_close(proposal_id=order.pk, user=planner)
    proposal_close(proposal_id=received.pk, user=world.users["approver"])

    order.refresh_from_db()
    received.refresh_from_db()
    assert order.status == P.CANCELLED and received.status == P.CLOSED
    assert list(order.status_changes.values_list("from_status", "to_status", "actor", "reason"))[
        -1
    ] == ("approved", "cancelled", "planner", "store closed for refit")
    assert [e.rule_codes for e in events("proposal.cancel.denied")] == [["ROLE"]]
    assert AuditEvent.objects.filter(
        action="proposal.status", object_id=str(received.pk), after__status="closed"
    ).exists()


def test_the_proposal_admin_cancels_and_shows_refusals(world):
    proposed = approved_order(world, approve=False)
    rejected = approved_order(world, approve=False)
    ReplenishmentProposal.objects.filter(pk=rejected.pk).update(status=P.REJECTED)

    response = logged_in(world.users["planner"]).post(
        "/admin/smi_core/replenishmentproposal/",
        {"action": "cancel", "_selected_action": [str(proposed.pk), str(rejected.pk)]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"proposal #{rejected.pk} is rejected; it cannot become cancelled",
        "1 proposal(s) cancelled",
    ]
    proposed.refresh_from_db()
    assert proposed.status == P.CANCELLED


# -- 4. a re-approval after an edit orders the approved quantities ---------------------------


def test_reapproval_after_an_edit_orders_the_new_quantity_and_the_855_accepts_it(world):
    order = approved_order(world)
    first = order.lines.get(item=world.items[0])
    assert first.ordered_quantity == Decimal(24)

    proposal_line_edit(
        proposal_id=order.pk,
        item_id=world.items[0].pk,
        quantity=Decimal(36),
        user=world.users["planner"],
    )
    proposal_approve(proposal_id=order.pk, user=world.users["approver"])
    document = order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    first.refresh_from_db()
    assert first.ordered_quantity == Decimal(36)
    acks = [
        s[1:3]
        for s in X12Reader(raw_path(document.raw_file).read_bytes()).segments()
        if s[0] == "ACK"
    ]
    assert acks == [["IA", "36"], ["IA", "12"]]


# -- 5. the approval binding is enforced where the order opens and is acknowledged -----------


def test_an_855_is_refused_once_the_agreement_changed_after_approval(world):
    order = approved_order(world)
    changed_agreement_lately(world, person("manager", "agreement_manager"))

    with pytest.raises(ApprovalInvalid, match="changed after approval") as refused:
        order_acknowledge(order_id=order.pk, actor=Actor.system("test"))

    assert refused.value.code == "approval_invalid"
    order.refresh_from_db()
    assert order.status == P.APPROVED
    assert not OutboundDocument.objects.filter(order=order).exists()
    assert [e.after["po_number"] for e in events("order.acknowledge.refused")] == [order.po_number]


def test_an_855_is_refused_and_the_order_not_opened_when_lines_changed_behind_the_services(
    world,
):
    order = approved_order(world)
    ProposalLine.objects.filter(proposal=order, item=world.items[0]).update(quantity=99)

    with pytest.raises(ApprovalInvalid, match="lines of proposal"):
        order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    with pytest.raises(ApprovalInvalid, match="cannot be opened"):
        order_open(order=order, actor=Actor.system("test"))

    assert len(events("order.acknowledge.refused")) == 1
    assert not OutboundDocument.objects.filter(order=order).exists()


# -- 6. a refused role assignment is recorded ----------------------------------------------


def test_a_refused_role_assignment_is_recorded_with_the_rule_codes(world):
    user = person("both", "approver")

    with pytest.raises(RoleConflict):
        user_roles_set(
            user=user, roles=["approver", "agreement_manager"], actor=Actor.system("test")
        )

    [event] = events("roles.set.denied")
    assert (event.actor, event.object_id, event.rule_codes) == ("test", str(user.pk), ["SOD-04"])
    assert event.before == {"roles": ["approver"]}
    assert event.after == {"roles": ["agreement_manager", "approver"]}
    assert sorted(user.groups.values_list("name", flat=True)) == ["approver"]


def test_a_role_conflict_refused_in_the_user_admin_is_recorded(world):
    from django.contrib.auth.models import Group

    boss = User.objects.create_superuser("boss", password="pw")
    user = person("both", "approver")
    groups = Group.objects.filter(name__in=["approver", "agreement_manager"])

    response = logged_in(boss).post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "both",
            "groups": [str(g.pk) for g in groups],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "on",
        },
    )

    assert response.status_code == 200  # the form comes back with the error
    [event] = events("roles.set.denied")
    assert (event.actor, event.rule_codes) == ("boss", ["SOD-04"])
    assert sorted(user.groups.values_list("name", flat=True)) == ["approver"]
