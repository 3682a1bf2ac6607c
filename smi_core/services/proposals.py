"""The proposal lifecycle: edit, approve, reject, cancel, and every status change, with the
SoD checks and the audit events written in the same transaction as the change.

proposed -> approved | rejected | cancelled; approved -> ordered | cancelled | proposed (an
edit voids the approval); ordered -> shipped | cancelled; shipped -> received; received ->
closed. Edits are allowed only before approval (an edit of an approved, not yet ordered
proposal voids the approval and puts it back to proposed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    Approval,
    ProposalLine,
    ProposalStatusChange,
    ReplenishmentProposal,
    SodOverride,
)
from smi_core.services.audit import Actor, audit_record
from smi_core.services.hooks import order_event
from smi_core.services.sod import (
    SodViolation,
    approval_breaches,
    quantity_authors,
    usable_override,
)

P = ReplenishmentProposal.Status
QTY_PLACES = Decimal("0.0001")  # ProposalLine.quantity's decimal places
TRANSITIONS: dict[str, set[str]] = {
    P.PROPOSED: {P.APPROVED, P.REJECTED, P.CANCELLED},
    P.APPROVED: {P.ORDERED, P.CANCELLED, P.PROPOSED},
    P.ORDERED: {P.SHIPPED, P.CANCELLED},
    P.SHIPPED: {P.RECEIVED},
    P.RECEIVED: {P.CLOSED},
    P.REJECTED: set(),
    P.CLOSED: set(),
    P.CANCELLED: set(),
}


class TransitionRefused(ApplicationError):
    code = "transition_refused"
    http_status = 409


def lines_snapshot(proposal: ReplenishmentProposal) -> list[dict]:
    return [
        {
            "item": line.item.vendor_item,
            "item_id": line.item_id,
            "quantity": str(line.quantity.normalize()),
            "unit_cost": str(line.unit_cost.normalize()),
        }
        for line in proposal.lines.select_related("item").order_by("item_id")
    ]


def lines_hash(proposal: ReplenishmentProposal, agreement_version: int | None) -> str:
    """What an approval is bound to: the lines and the agreement version."""
    payload = json.dumps(
        {"lines": lines_snapshot(proposal), "agreement_version": agreement_version}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _thresholds(proposal: ReplenishmentProposal) -> dict:
    agreement = proposal.agreement
    terms = AgreementTerm.objects.filter(
        agreement=agreement, item_id__in=proposal.lines.values("item_id")
    )
    return {
        "agreement": agreement.code,
        "service_level": str(agreement.service_level),
        "lead_time_days": str(agreement.lead_time_days),
        "terms": {
            f"{t.item_id}@{t.location_id or '*'}": {
                k: (str(getattr(t, k)) if getattr(t, k) is not None else None)
                for k in (
                    "min_quantity",
                    "max_quantity",
                    "min_days",
                    "max_days",
                    "moq",
                    "pack_multiple",
                    "unit_cost",
                )
            }
            for t in terms
        },
    }


def proposal_transition(
    *, proposal: ReplenishmentProposal, to: str, actor: Actor, reason: str = ""
) -> None:
    """The one way a proposal's status changes: checked against TRANSITIONS, recorded twice
    (status change row and audit event)."""
    current = proposal.status
    if to not in TRANSITIONS.get(current, set()):
        raise TransitionRefused(
            f"proposal #{proposal.pk} is {current}; it cannot become {to}",
            extra={"from": current, "to": to, "allowed": sorted(TRANSITIONS.get(current, set()))},
        )
    proposal.status = to
    proposal.save(update_fields=["status"])
    ProposalStatusChange.objects.create(
        proposal=proposal, from_status=current, to_status=to, actor=actor.name, reason=reason
    )
    audit_record(
        actor=actor,
        action="proposal.status",
        object_type="proposal",
        object_id=proposal.pk,
        before={"status": current},
        after={"status": to, "reason": reason},
    )


def _locked(proposal_id: int) -> ReplenishmentProposal:
    return (
        ReplenishmentProposal.objects.select_for_update()
        .select_related("agreement", "buyer", "supplier")
        .get(pk=proposal_id)
    )


def proposal_approve(*, proposal_id: int, user, actor: Actor | None = None) -> Approval:
    """Approve after the SoD check; a denial is recorded (approval row + audit event) and
    raised as SodViolation with the rule codes."""
    actor = actor or Actor.user(user)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.status != P.PROPOSED:
            raise TransitionRefused(
                f"proposal #{proposal.pk} is {proposal.status}; only proposed ones are approved"
            )
        breaches = approval_breaches(proposal=proposal, user=user)
        codes = [b.code for b in breaches]
        override = (
            usable_override(proposal=proposal, codes=codes, user=user)
            if breaches and "ROLE" not in codes
            else None
        )
        version = proposal.agreement.version
        common = {
            "proposal": proposal,
            "actor": user,
            "decided_at": timezone.now(),
            "proposer": proposal.created_by,
            "proposed_at": proposal.created_at,
            "value": proposal.value,
            "currency": proposal.currency,
            "lines_hash": lines_hash(proposal, version),
            "lines": lines_snapshot(proposal),
            "agreement_version": version,
            "thresholds": _thresholds(proposal),
            "rule_codes": codes,
        }
        if breaches and override is None:
            approval = Approval.objects.create(
                decision=Approval.Decision.DENIED,
                reason="; ".join(b.reason for b in breaches),
                **common,
            )
            audit_record(
                actor=actor,
                action="proposal.approve.denied",
                object_type="proposal",
                object_id=proposal.pk,
                after={"approval": approval.pk},
                rule_codes=codes,
            )
        else:
            approval = Approval.objects.create(
                decision=Approval.Decision.APPROVED, override=override, **common
            )
            if override is not None:
                override.used_at = timezone.now()
                override.save(update_fields=["used_at"])
            proposal_transition(
                proposal=proposal,
                to=P.APPROVED,
                actor=actor,
                reason=f"approved{' with override #' + str(override.pk) if override else ''}",
            )
            from smi_core.services.orders import order_open  # orders builds on this module

            order_open(order=proposal, actor=actor)
            # The webhook row commits with the approval; only its POST waits for the commit.
            order_event(event="order.approved", order_id=proposal_id)
            audit_record(
                actor=actor,
                action="proposal.approve",
                object_type="proposal",
                object_id=proposal.pk,
                after={
                    "approval": approval.pk,
                    "lines_hash": approval.lines_hash,
                    "agreement_version": version,
                    "override": override.pk if override else None,
                },
                rule_codes=codes,
            )
    if approval.decision == Approval.Decision.DENIED:
        # The denial is recorded (committed above); now refuse.
        raise SodViolation(
            f"{user.get_username()} may not approve proposal #{proposal_id}: "
            + " ".join(f"[{b.code}] {b.reason}" for b in breaches),
            codes,
        )
    return approval


def proposal_reject(*, proposal_id: int, user, reason: str, actor: Actor | None = None) -> Approval:
    if not reason.strip():
        raise ApplicationError("a rejection needs a reason", code="reason_required")
    actor = actor or Actor.user(user)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        breaches = [b for b in approval_breaches(proposal=proposal, user=user) if b.code == "ROLE"]
        if breaches:
            audit_record(
                actor=actor,
                action="proposal.reject.denied",
                object_type="proposal",
                object_id=proposal.pk,
                rule_codes=["ROLE"],
            )
    if breaches:
        raise SodViolation(
            f"{user.get_username()} may not reject proposals: {breaches[0].reason}", ["ROLE"]
        )
    with transaction.atomic():
        proposal = _locked(proposal_id)
        version = proposal.agreement.version
        rejection = Approval.objects.create(
            proposal=proposal,
            decision=Approval.Decision.REJECTED,
            actor=user,
            decided_at=timezone.now(),
            proposer=proposal.created_by,
            proposed_at=proposal.created_at,
            value=proposal.value,
            currency=proposal.currency,
            lines_hash=lines_hash(proposal, version),
            lines=lines_snapshot(proposal),
            agreement_version=version,
            thresholds=_thresholds(proposal),
            reason=reason,
        )
        proposal_transition(proposal=proposal, to=P.REJECTED, actor=actor, reason=reason)
    return rejection


@dataclass(frozen=True)
class LineEdit:
    """What ``proposal_line_edit`` did: ``changed`` is False when the quantity was already
    the one asked for (nothing saved, no authorship, no audit event)."""

    line: ProposalLine
    changed: bool
    message: str


def proposal_line_edit(
    *,
    proposal_id: int,
    item_id: int,
    quantity: Decimal,
    user,
    actor: Actor | None = None,
    reason: str = "",
) -> LineEdit:
    """Change a line's quantity before approval; editing an approved proposal voids the
    approval. Only a planner edits (deny by default; superusers are not exempt).

    The editor becomes the author of the line's quantity (``quantity_set_by``, which SOD-05
    checks) only by actually changing it: saving the quantity the line already has changes
    nothing, records nothing and answers "no change". ``reason`` (why the planner changed
    it) is kept in the audit event."""
    quantity = Decimal(quantity)
    if not quantity.is_finite() or quantity < 0 or quantity >= 10**14:
        raise ApplicationError(
            "a quantity is a number from 0 to 99,999,999,999,999", code="bad_quantity"
        )
    actor = actor or Actor.user(user)
    _require_role(
        user=user,
        roles={"planner"},
        actor=actor,
        action="proposal.line.edit.denied",
        proposal_id=proposal_id,
        doing="edit proposals",
    )
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.status not in (P.PROPOSED, P.APPROVED):
            raise TransitionRefused(
                f"proposal #{proposal.pk} is {proposal.status}; only proposals not yet ordered can be edited"
            )
        line = proposal.lines.select_related("item").filter(item_id=item_id).first()
        if line is None:
            raise ApplicationError(
                f"proposal #{proposal.pk} has no line for item {item_id}", code="no_such_line"
            )
        # Compared as stored (4 decimal places), so 24 and 24.00001 are the same quantity.
        stored = quantity.quantize(QTY_PLACES)
        where = f"proposal #{proposal.pk}, {line.item.vendor_item}"
        if stored == line.quantity:
            return LineEdit(
                line, False, f"{where}: no change (the quantity is already {_qty(stored)})"
            )
        before = str(line.quantity)
        message = f"{where}: {_qty(line.quantity)} -> {_qty(stored)}"
        now = timezone.now()
        line.quantity, line.quantity_set_by, line.quantity_set_at = stored, user, now
        line.save(update_fields=["quantity", "quantity_set_by", "quantity_set_at"])
        proposal.value = sum(
            (x.quantity * x.unit_cost for x in proposal.lines.all()), Decimal(0)
        ).quantize(Decimal("0.01"))
        proposal.last_edited_by = user
        proposal.last_edited_at = now
        proposal.save(update_fields=["value", "last_edited_by", "last_edited_at"])
        audit_record(
            actor=actor,
            action="proposal.line.edit",
            object_type="proposal",
            object_id=proposal.pk,
            before={"item_id": item_id, "quantity": before},
            after={"item_id": item_id, "quantity": str(stored)}
            | ({"reason": reason.strip()} if reason.strip() else {}),
        )
        if proposal.status == P.APPROVED:
            Approval.objects.filter(proposal=proposal, decision=Approval.Decision.APPROVED).update(
                decision=Approval.Decision.VOIDED
            )
            proposal_transition(
                proposal=proposal,
                to=P.PROPOSED,
                actor=actor,
                reason="edited after approval: approval voided",
            )
    return LineEdit(line, True, message)


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _require_role(
    *, user, roles: set[str], actor: Actor, action: str, proposal_id: int, doing: str
) -> None:
    """Refuse (recorded, then raised as SodViolation ROLE) unless ``user`` holds one of
    ``roles`` as a group: a permission a superuser merely has is not enough."""
    from smi_core.services.roles import role_names

    if role_names(user) & roles:
        return
    audit_record(
        actor=actor,
        action=action,
        object_type="proposal",
        object_id=proposal_id,
        rule_codes=["ROLE"],
    )
    raise SodViolation(
        f"{user.get_username()} may not {doing}: that needs the {' or '.join(sorted(roles))} role",
        ["ROLE"],
    )


def proposal_cancel(*, proposal_id: int, user, reason: str, actor: Actor | None = None) -> None:
    """Cancel a proposal or an order not yet shipped (as TRANSITIONS allows), by a planner
    or an approver, with a reason; recorded as a status change and an audit event."""
    if not reason.strip():
        raise ApplicationError("a cancellation needs a reason", code="reason_required")
    _move_by_role(proposal_id, user, P.CANCELLED, reason, actor, "cancel", "cancel proposals")


def proposal_close(
    *, proposal_id: int, user, reason: str = "received and closed", actor: Actor | None = None
) -> None:
    """Close a received order (as TRANSITIONS allows), by a planner or an approver."""
    _move_by_role(proposal_id, user, P.CLOSED, reason, actor, "close", "close orders")


def _move_by_role(proposal_id, user, to, reason: str, actor, verb: str, doing: str) -> None:
    """A move a planner or an approver makes (cancel, close); anyone else is refused."""
    actor = actor or Actor.user(user)
    _require_role(
        user=user,
        roles={"planner", "approver"},
        actor=actor,
        action=f"proposal.{verb}.denied",
        proposal_id=proposal_id,
        doing=doing,
    )
    with transaction.atomic():
        proposal = _locked(proposal_id)
        proposal_transition(proposal=proposal, to=to, actor=actor, reason=reason)


class ApprovalInvalid(ApplicationError):
    """The approval no longer matches the lines or the agreement version it was bound to."""

    code = "approval_invalid"
    http_status = 409


def approval_invalid_reason(proposal: ReplenishmentProposal) -> str | None:
    """Why the latest approval no longer binds the proposal (None while it does): no
    approval, lines changed since, or a newer agreement version than the one it saw."""
    approval = (
        proposal.approvals.filter(decision=Approval.Decision.APPROVED)
        .order_by("-decided_at", "-id")
        .first()
    )
    if approval is None:
        return f"proposal #{proposal.pk} has no approval in force"
    if approval.agreement_version != proposal.agreement.version:
        return (
            f"agreement {proposal.agreement.code} changed after approval #{approval.pk} "
            f"(version {approval.agreement_version}, now {proposal.agreement.version})"
        )
    if approval.lines_hash != lines_hash(proposal, approval.agreement_version):
        return f"the lines of proposal #{proposal.pk} changed after approval #{approval.pk}"
    return None


def approval_is_valid(proposal: ReplenishmentProposal) -> bool:
    """Whether the latest approval still matches the lines and the agreement version."""
    return approval_invalid_reason(proposal) is None


def override_request(
    *,
    proposal_id: int,
    rule_codes: list[str],
    justification: str,
    user,
    approver=None,
    hours: int = 24,
) -> SodOverride:
    """Ask for an override that lets ``approver`` (by default the requester) approve this
    one proposal despite ``rule_codes``; only that person may use it once granted."""
    approver = approver or user
    if len(justification.strip()) < 20:
        raise ApplicationError(
            "an override needs a written justification of at least 20 characters",
            code="justification_required",
        )
    with transaction.atomic():
        proposal = _locked(proposal_id)
        override = SodOverride.objects.create(
            proposal=proposal,
            rule_codes=sorted(set(rule_codes)),
            justification=justification,
            requested_by=user,
            approver=approver,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        audit_record(
            actor=Actor.user(user),
            action="override.request",
            object_type="proposal",
            object_id=proposal.pk,
            after={
                "override": override.pk,
                "approver": approver.get_username(),
                "justification": justification,
                "expires_at": override.expires_at,
            },
            rule_codes=override.rule_codes,
        )
    return override


def override_grant(*, override_id: int, user) -> SodOverride:
    """A third person holding the override permission (the compliance role) grants it: not
    the requester, the proposer, whoever set a line's current quantity (SOD-05's authors),
    nor the approver it names (superusers are not exempt), so nobody approves with an
    override they granted."""
    from smi_core.services.roles import role_names

    with transaction.atomic():
        override = (
            SodOverride.objects.select_for_update().select_related("proposal").get(pk=override_id)
        )
        if override.granted_by_id or override.used_at or override.expires_at <= timezone.now():
            raise ApplicationError(
                f"override #{override.pk} is already granted, used or expired",
                code="override_not_grantable",
            )
        proposal = override.proposal
        third = override.approver_id is not None and user.pk not in (
            override.requested_by_id,
            override.approver_id,
            proposal.proposed_by_id,
            *quantity_authors(proposal),
        )
        if "compliance" not in role_names(user) or not third:
            audit_record(
                actor=Actor.user(user),
                action="override.grant.denied",
                object_type="proposal",
                object_id=proposal.pk,
                rule_codes=["OVERRIDE"],
            )
            denied = True
        else:
            override.granted_by, override.granted_at = user, timezone.now()
            override.save(update_fields=["granted_by", "granted_at"])
            audit_record(
                actor=Actor.user(user),
                action="override.grant",
                object_type="proposal",
                object_id=proposal.pk,
                after={"override": override.pk},
                rule_codes=override.rule_codes,
            )
            denied = False
    if denied:
        raise SodViolation(
            f"{user.get_username()} may not grant override #{override_id}: an override is "
            "granted only by a third person (not the requester, the proposer, whoever set a "
            "current quantity, or the approver it names) holding the compliance role",
            ["OVERRIDE"],
        )
    return override
