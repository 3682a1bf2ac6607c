"""Approvals with segregation of duties, and the tamper-evident audit trail."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from smi_core.models import (
    AgreementTerm,
    Approval,
    AuditEvent,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.services.audit import Actor, audit_verify
from smi_core.services.proposals import (
    TransitionRefused,
    approval_is_valid,
    override_grant,
    override_request,
    proposal_approve,
    proposal_line_edit,
    proposal_reject,
)
from smi_core.services.roles import RoleConflict, user_roles_set
from smi_core.services.sod import SodViolation
from tests.factories import ItemFactory, LocationFactory, PartyFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def person(name: str, *roles: str, superuser: bool = False):
    user = User.objects.create_user(name, password="pw", is_staff=True, is_superuser=superuser)
    if roles:
        user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    return user


@pytest.fixture
def proposal(db):
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
    AgreementTerm.objects.create(
        agreement=agreement, item=item, unit_cost=Decimal("2.40"), max_quantity=Decimal(100)
    )
    planner = person("planner", "planner")
    proposal = ReplenishmentProposal.objects.create(
        supplier=supplier,
        buyer=buyer,
        ship_to=store,
        agreement=agreement,
        currency="USD",
        value=Decimal("57.60"),
        as_of=date(2026, 11, 24),
        created_by="user:planner",
        proposed_by=planner,
    )
    ProposalLine.objects.create(
        proposal=proposal,
        item=item,
        quantity=24,
        proposed_quantity=24,
        raw_quantity=Decimal("21.5"),
        unit_cost=Decimal("2.40"),
        explanation={},
    )
    return proposal


def test_an_approver_approves_and_the_approval_is_bound_to_lines_and_agreement(proposal):
    approver = person("approver", "approver")

    approval = proposal_approve(proposal_id=proposal.pk, user=approver)

    proposal.refresh_from_db()
    assert proposal.status == "approved"
    assert approval.decision == "approved" and approval.rule_codes == []
    assert approval.agreement_version == proposal.agreement.version
    assert (
        approval.thresholds["terms"][f"{proposal.lines.get().item_id}@*"]["max_quantity"]
        == "100.0000"
    )
    assert approval.lines == [
        {
            "item": "ACME-1001",
            "item_id": proposal.lines.get().item_id,
            "quantity": "24",
            "unit_cost": "2.4",
        }
    ]
    assert approval_is_valid(proposal)
    assert list(proposal.status_changes.values_list("from_status", "to_status", "actor")) == [
        ("proposed", "approved", "approver")
    ]
    assert AuditEvent.objects.filter(
        object_type="proposal", object_id=str(proposal.pk), action="proposal.approve"
    ).exists()


def test_the_proposer_may_not_approve_even_as_superuser(proposal):
    proposal.proposed_by.groups.clear()
    user_roles_set(user=proposal.proposed_by, roles=["approver"], actor=Actor.system("test"))
    User.objects.filter(pk=proposal.proposed_by_id).update(is_superuser=True)
    proposer = User.objects.get(pk=proposal.proposed_by_id)

    with pytest.raises(SodViolation) as excinfo:
        proposal_approve(proposal_id=proposal.pk, user=proposer)

    assert excinfo.value.rule_codes == ["SOD-01"]
    denial = Approval.objects.get(proposal=proposal)
    assert denial.decision == "denied" and denial.rule_codes == ["SOD-01"]
    event = AuditEvent.objects.get(action="proposal.approve.denied")
    assert event.rule_codes == ["SOD-01"]
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_a_superuser_without_the_approver_role_is_denied(proposal):
    boss = person("boss", superuser=True)

    with pytest.raises(SodViolation) as excinfo:
        proposal_approve(proposal_id=proposal.pk, user=boss)

    assert excinfo.value.rule_codes == ["ROLE"]


def test_who_changed_the_agreement_lately_may_not_approve_under_it(proposal):
    approver = person("approver", "approver")
    agreement = proposal.agreement
    agreement.service_level = Decimal("0.97")
    agreement._history_user = approver
    agreement.save()

    with pytest.raises(SodViolation) as excinfo:
        proposal_approve(proposal_id=proposal.pk, user=approver)

    assert excinfo.value.rule_codes == ["SOD-02"]
    assert "changed agreement acme-demo in the last 30 days" in excinfo.value.message


def test_approver_and_agreement_manager_roles_cannot_be_held_together(proposal):
    user = person("both")

    with pytest.raises(RoleConflict) as excinfo:
        user_roles_set(
            user=user, roles=["approver", "agreement_manager"], actor=Actor.system("test")
        )

    assert excinfo.value.extra["rule_codes"] == ["SOD-04"]
    assert user.groups.count() == 0


def test_a_user_holding_both_roles_anyway_is_denied_at_approval(proposal):
    from django.contrib.auth.models import Group

    user = person("sneaky")
    user.groups.set(
        Group.objects.filter(name__in=["approver", "agreement_manager"])
    )  # behind the service's back

    with pytest.raises(SodViolation) as excinfo:
        proposal_approve(proposal_id=proposal.pk, user=user)

    assert "SOD-04" in excinfo.value.rule_codes


def test_an_override_needs_a_justification_and_a_third_person(proposal):
    proposer = User.objects.get(pk=proposal.proposed_by_id)
    user_roles_set(user=proposer, roles=["approver"], actor=Actor.system("test"))
    override = override_request(
        proposal_id=proposal.pk,
        rule_codes=["SOD-01"],
        user=proposer,
        justification="Only approver on site during the stock-take weekend; stores run out Monday.",
    )

    with pytest.raises(SodViolation):
        override_grant(override_id=override.pk, user=proposer)  # not a third person
    override_grant(override_id=override.pk, user=person("compliance", "compliance"))
    approval = proposal_approve(proposal_id=proposal.pk, user=proposer)

    assert (
        approval.decision == "approved"
        and approval.override_id == override.pk
        and approval.overridden
    )
    assert approval.rule_codes == ["SOD-01"]
    override.refresh_from_db()
    assert override.used_at is not None


def test_an_expired_override_does_not_help(proposal):
    proposer = User.objects.get(pk=proposal.proposed_by_id)
    user_roles_set(user=proposer, roles=["approver"], actor=Actor.system("test"))
    override = override_request(
        proposal_id=proposal.pk,
        rule_codes=["SOD-01"],
        user=proposer,
        justification="x" * 30,
        hours=1,
    )
    override_grant(override_id=override.pk, user=person("compliance", "compliance"))
    type(override).objects.filter(pk=override.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(SodViolation):
        proposal_approve(proposal_id=proposal.pk, user=proposer)


def test_an_edit_after_approval_voids_it(proposal):
    approver = person("approver", "approver")
    proposal_approve(proposal_id=proposal.pk, user=approver)

    proposal_line_edit(
        proposal_id=proposal.pk,
        item_id=proposal.lines.get().item_id,
        quantity=Decimal(36),
        user=proposal.proposed_by,
    )

    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert proposal.value == Decimal("86.40")
    assert Approval.objects.get(proposal=proposal).decision == "voided"
    assert not approval_is_valid(proposal)
    with pytest.raises(SodViolation):
        proposal_approve(
            proposal_id=proposal.pk, user=proposal.proposed_by
        )  # the editor cannot approve either


def test_transitions_outside_the_table_are_refused(proposal):
    approver = person("approver", "approver")
    proposal_reject(proposal_id=proposal.pk, user=approver, reason="Store is being refitted")

    with pytest.raises(TransitionRefused, match="is rejected"):
        proposal_approve(proposal_id=proposal.pk, user=approver)


def test_api_approve_answers_403_with_rule_codes_and_reject_needs_a_reason(proposal):
    client = APIClient()
    client.force_authenticate(proposal.proposed_by)

    denied = client.post(f"/api/v1/proposals/{proposal.pk}/approve/")
    client.force_authenticate(person("approver", "approver"))
    no_reason = client.post(f"/api/v1/proposals/{proposal.pk}/reject/", {}, format="json")
    approved = client.post(f"/api/v1/proposals/{proposal.pk}/approve/")

    assert denied.status_code == 403 and denied.json()["rule_codes"] == ["ROLE", "SOD-01"]
    assert no_reason.status_code == 400 and no_reason.json()["error"] == "reason_required"
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def test_commands_list_approve_and_reject(proposal, capsys):
    person("approver", "approver")

    with pytest.raises(CommandError) as excinfo:
        call_command("proposal_approve", str(proposal.pk), "--as", "planner")
    call_command("proposal_approve", str(proposal.pk), "--as", "approver")
    call_command("proposals", "--status", "approved", "--json")

    assert excinfo.value.returncode == 3 and "SOD-01" in str(excinfo.value)
    listed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [(p["id"], p["status"], p["partner"], p["value"], p["order"]) for p in listed] == [
        (proposal.pk, "approved", "demo-retail", "57.60", f"SMI{proposal.pk:07d}")
    ]


def test_audit_events_cannot_be_updated_or_deleted_in_sql(proposal):
    proposal_approve(proposal_id=proposal.pk, user=person("approver", "approver"))

    for sql in (
        "UPDATE smi_core_auditevent SET actor = 'mallory'",
        "DELETE FROM smi_core_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)

    assert audit_verify().intact


def test_verification_finds_a_row_altered_behind_the_triggers(proposal, capsys):
    proposal_approve(proposal_id=proposal.pk, user=person("approver", "approver"))
    victim = AuditEvent.objects.get(action="proposal.approve")
    recreate = _drop_triggers()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE smi_core_auditevent SET actor = 'mallory' WHERE id = %s", [victim.pk]
            )
    finally:
        recreate()

    with pytest.raises(SystemExit) as excinfo:
        call_command("verify_audit_chain")

    assert excinfo.value.code == 1
    assert f"BROKEN at event #{victim.pk}" in capsys.readouterr().err


def test_checkpoint_prints_the_head_hash(proposal, capsys):
    proposal_approve(proposal_id=proposal.pk, user=person("approver", "approver"))

    call_command("audit_checkpoint")
    call_command("verify_audit_chain")

    out = capsys.readouterr().out
    head = AuditEvent.objects.order_by("-id").first()
    assert f"event #{head.pk} {head.hash}" in out
    assert "audit chain intact" in out


def _drop_triggers():
    from importlib import import_module

    migration = import_module("smi_core.migrations.0004_audit_triggers_and_sod_rules")
    vendor = connection.vendor
    drops = {"sqlite": migration.SQLITE_DROP, "postgresql": migration.POSTGRES_DROP}[vendor]
    creates = {"sqlite": migration.SQLITE, "postgresql": migration.POSTGRES}[vendor]
    with connection.cursor() as cursor:
        for sql in drops:
            cursor.execute(sql)

    def recreate():
        with connection.cursor() as cursor:
            for sql in creates:
                cursor.execute(sql)

    return recreate


def test_the_approver_may_not_ship_what_they_approved(proposal):
    from smi_core.services.sod import shipping_breaches

    approver = person("approver", "approver")
    proposal_approve(proposal_id=proposal.pk, user=approver)
    shipper = person("shipper", "shipper")
    user_roles_set(user=approver, roles=["approver", "shipper"], actor=Actor.system("test"))

    assert [b.code for b in shipping_breaches(proposal=proposal, user=approver)] == ["SOD-03"]
    assert shipping_breaches(proposal=proposal, user=shipper) == []
    assert [b.code for b in shipping_breaches(proposal=proposal, user=person("clerk"))] == ["ROLE"]
