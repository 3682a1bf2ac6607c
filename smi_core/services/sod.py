"""Segregation of duties: the rules (data in SodRule) checked in the services, so the admin,
the API and the command line behave the same. Deny by default; superusers are not exempt:
acting needs the role itself (group membership), not merely a permission a superuser has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    ProposalLine,
    ReplenishmentProposal,
    SodOverride,
    SodRule,
    SupplyAgreement,
)
from smi_core.services.roles import exclusive_role_conflicts, role_names


class SodViolation(ApplicationError):
    """Refused by segregation of duties; ``rule_codes`` names the rules."""

    code = "sod_violation"
    http_status = 403

    def __init__(self, message: str, rule_codes: list[str]):
        super().__init__(message, extra={"rule_codes": rule_codes})
        self.rule_codes = rule_codes


@dataclass(frozen=True)
class Breach:
    code: str
    reason: str


def _rules(kind: str) -> list[SodRule]:
    return list(SodRule.objects.filter(active=True, kind=kind))


def approval_breaches(*, proposal: ReplenishmentProposal, user) -> list[Breach]:
    """Every rule approving ``proposal`` by ``user`` would break."""
    breaches: list[Breach] = []
    roles = role_names(user)
    if "approver" not in roles:
        breaches.append(Breach("ROLE", f"{user.get_username()} does not hold the approver role"))
    for rule in _rules(SodRule.Kind.PROPOSER_NOT_APPROVER):
        if user.pk == proposal.proposed_by_id:
            breaches.append(
                Breach(rule.code, f"{user.get_username()} proposed this proposal. {rule.reason}")
            )
    authored = quantity_authors(proposal).get(user.pk, [])
    for rule in _rules(SodRule.Kind.AUTHOR_NOT_APPROVER):
        if authored:
            what = ", ".join(_authored(line) for line in authored)
            breaches.append(
                Breach(
                    rule.code,
                    f"{user.get_username()} set the current quantity of {what}. {rule.reason}",
                )
            )
    for rule in _rules(SodRule.Kind.RECENT_TERMS_CHANGE):
        days = int(rule.parameters.get("days", 30))
        since = timezone.now() - timedelta(days=days)
        agreement_changed = SupplyAgreement.history.filter(
            id=proposal.agreement_id, history_user=user, history_date__gte=since
        ).exists()
        terms_changed = AgreementTerm.history.filter(
            agreement_id=proposal.agreement_id, history_user=user, history_date__gte=since
        ).exists()
        if agreement_changed or terms_changed:
            breaches.append(
                Breach(
                    rule.code,
                    f"{user.get_username()} changed agreement {proposal.agreement.code} in the last {days} days. {rule.reason}",
                )
            )
    for code, reason in exclusive_role_conflicts(roles):
        breaches.append(Breach(code, f"{user.get_username()} holds both roles. {reason}"))
    return breaches


def _qty(value) -> str:
    return f"{value.normalize():f}"


def _authored(line: ProposalLine) -> str:
    if line.quantity_set_by_id is None:  # see quantity_authors
        return (
            f"{line.item.vendor_item} ({_qty(line.quantity)}; changed before authors were "
            "recorded, so counted as the last editor's)"
        )
    return f"{line.item.vendor_item} ({_qty(line.quantity)})"


def quantity_authors(proposal: ReplenishmentProposal) -> dict[int, list[ProposalLine]]:
    """Who set each line's current quantity, by user id: the last person whose edit actually
    changed it (a save of the same quantity changes no authorship). Lines still as planning
    proposed them belong to the proposer (SOD-01) and are not listed. A line changed before
    authorship was recorded counts as the proposal's last editor's."""
    authors: dict[int, list[ProposalLine]] = {}
    for line in proposal.lines.select_related("item").order_by("item_id"):
        author = line.quantity_set_by_id
        if author is None and line.quantity != line.proposed_quantity:
            author = proposal.last_edited_by_id
        if author is not None:
            authors.setdefault(author, []).append(line)
    return authors


def shipping_breaches(*, proposal: ReplenishmentProposal, user) -> list[Breach]:
    """Rules shipping ``proposal`` by ``user`` would break."""
    from smi_core.models import Approval

    breaches: list[Breach] = []
    if "shipper" not in role_names(user):
        breaches.append(Breach("ROLE", f"{user.get_username()} does not hold the shipper role"))
    for rule in _rules(SodRule.Kind.APPROVER_NOT_SHIPPER):
        approved_by = (
            Approval.objects.filter(proposal=proposal, decision=Approval.Decision.APPROVED)
            .order_by("-decided_at")
            .values_list("actor_id", flat=True)
            .first()
        )
        if approved_by == user.pk:
            breaches.append(
                Breach(rule.code, f"{user.get_username()} approved this order. {rule.reason}")
            )
    return breaches


def usable_override(
    *, proposal: ReplenishmentProposal, codes: list[str], user
) -> SodOverride | None:
    """A granted, unexpired, unused override of this proposal covering every code, naming
    ``user`` as its approver and not granted by ``user`` (nobody approves with an override
    they granted themselves)."""
    now = timezone.now()
    for override in (
        SodOverride.objects.filter(
            proposal=proposal,
            approver=user,
            granted_by__isnull=False,
            used_at__isnull=True,
            expires_at__gt=now,
        )
        .exclude(granted_by=user)
        .order_by("-granted_at")
    ):
        if set(codes) <= set(override.rule_codes):
            return override
    return None
