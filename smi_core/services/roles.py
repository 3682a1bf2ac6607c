"""Roles as Django groups, their permissions, and assigning them without breaking SoD."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from smi_core.exceptions import ApplicationError

# role -> permission codenames ("app_label.codename"); view_* of the listed models too.
ROLES: dict[str, list[str]] = {
    "planner": [
        "smi_core.view_replenishmentproposal",
        "smi_core.change_replenishmentproposal",
        "smi_core.view_proposalline",
        "smi_core.change_proposalline",
        "smi_core.view_inventoryposition",
        "smi_core.view_exceptionitem",
        "smi_core.change_exceptionitem",
        "smi_core.view_planrun",
        "smi_core.view_seriesforecast",
        "smi_core.view_supplyagreement",
        "smi_core.view_agreementterm",
        "smi_core.view_item",
        "smi_core.view_location",
    ],
    "approver": [
        "smi_core.view_replenishmentproposal",
        "smi_core.view_proposalline",
        "smi_core.view_approval",
        "smi_core.view_supplyagreement",
        "smi_core.view_agreementterm",
        "smi_core.view_inventoryposition",
        "smi_core.approve_replenishmentproposal",
    ],
    "agreement_manager": [
        "smi_core.view_supplyagreement",
        "smi_core.add_supplyagreement",
        "smi_core.change_supplyagreement",
        "smi_core.view_agreementterm",
        "smi_core.add_agreementterm",
        "smi_core.change_agreementterm",
        "smi_core.view_suppliercapacity",
        "smi_core.add_suppliercapacity",
        "smi_core.change_suppliercapacity",
        "smi_core.view_item",
        "smi_core.view_location",
        "smi_core.view_party",
    ],
    "shipper": [
        "smi_core.view_replenishmentproposal",
        "smi_core.view_proposalline",
        "smi_core.ship_replenishmentproposal",
        "smi_core.view_shipment",
        "smi_core.view_shipmentpack",
        "smi_core.view_shipmentline",
        "smi_edi.view_outbounddocument",
        "smi_edi.view_deliveryattempt",
    ],
    "partner_manager": [
        "smi_edi.view_tradingpartner",
        "smi_edi.add_tradingpartner",
        "smi_edi.change_tradingpartner",
        "smi_core.view_party",
        "smi_core.add_party",
        "smi_core.change_party",
        "smi_core.view_location",
        "smi_core.add_location",
        "smi_core.change_location",
        "smi_core.view_item",
        "smi_core.add_item",
        "smi_core.change_item",
        "smi_core.view_itemcrossreference",
        "smi_core.add_itemcrossreference",
        "smi_core.change_itemcrossreference",
        "smi_edi.view_interchange",
        "smi_edi.view_outbounddocument",
        "smi_edi.change_outbounddocument",
        "smi_edi.view_deliveryattempt",
        "smi_edi.view_webhookdelivery",
        "smi_edi.change_webhookdelivery",
    ],
    "auditor": ["*view*", "smi_core.export_auditevent", "smi_core.export_approval"],
    "finance": [
        "smi_core.view_exchangerate",
        "smi_core.add_exchangerate",
        "smi_core.change_exchangerate",
        # The reporting date (the date reports default to, e.g. a month-end being closed).
        "smi_core.view_reportingdate",
        "smi_core.change_reportingdate",
        # Settlements and remittances: the admin scopes them to the user's grants.
        "smi_core.view_settlementinvoice",
        "smi_core.view_settlementline",
        "smi_core.approve_settlementinvoice",
        "smi_core.issue_settlementinvoice",
        "smi_core.view_remittance",
        "smi_core.view_paymentapplication",
        # No view permission on positions, proposals, agreements, items, locations, parties
        # or the grants themselves: those would show every party's rows (and every user's
        # grants) in the admin and the API. Finance users see the finance views, scoped to
        # their grants (FinanceScope).
    ],
    "compliance": [
        "smi_core.view_sodoverride",
        "smi_core.grant_sodoverride",
        "smi_core.view_sodrule",
        "smi_core.view_approval",
        # The proposal an override or an approval is about, read only (its page is where an
        # override is granted): never change_*, so nothing on it is edited from here.
        "smi_core.view_replenishmentproposal",
        "smi_core.view_proposalline",
        "smi_core.view_item",
        "smi_core.view_location",
    ],
}


class RoleConflict(ApplicationError):
    code = "sod_violation"
    http_status = 403


def roles_ensure() -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set()
        for name in names:
            if name == "*view*":
                wanted |= {p for key, p in all_perms.items() if p.codename.startswith("view_")}
            elif name in all_perms:
                wanted.add(all_perms[name])
        group.permissions.set(wanted)


def role_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def exclusive_role_conflicts(role_set: set[str]) -> list[tuple[str, str]]:
    """(rule code, reason) of every exclusive-roles rule this set of roles breaks."""
    from smi_core.models import SodRule

    found = []
    for rule in SodRule.objects.filter(active=True, kind=SodRule.Kind.EXCLUSIVE_ROLES):
        roles = set(rule.parameters.get("roles", []))
        if roles and roles <= role_set:
            found.append((rule.code, rule.reason))
    return found


def user_roles_set(*, user, roles: list[str], actor) -> None:
    """Give ``user`` exactly these roles, refusing combinations an SoD rule forbids."""
    from smi_core.services.audit import Actor, audit_record

    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ApplicationError(
            f"unknown role(s): {', '.join(sorted(unknown))}; roles are {', '.join(ROLES)}"
        )
    conflicts = exclusive_role_conflicts(set(roles))
    if conflicts:
        role_conflict_record(user=user, roles=roles, conflicts=conflicts, actor=actor)
        raise RoleConflict(
            f"{user.get_username()} may not hold {' and '.join(sorted(roles))}: "
            + "; ".join(f"{code}: {reason}" for code, reason in conflicts),
            extra={"rule_codes": [c for c, _ in conflicts]},
        )
    with transaction.atomic():
        before = sorted(role_names(user))
        user.groups.set(Group.objects.filter(name__in=roles))
        audit_record(
            actor=actor if isinstance(actor, Actor) else Actor.user(actor),
            action="roles.set",
            object_type="user",
            object_id=user.pk,
            before={"roles": before},
            after={"roles": sorted(roles)},
        )


def role_conflict_record(*, user, roles, conflicts: list[tuple[str, str]], actor) -> None:
    """Record a refused role assignment like any other SoD denial, with the rule codes."""
    from smi_core.services.audit import Actor, audit_record

    audit_record(
        actor=actor if isinstance(actor, Actor) else Actor.user(actor),
        action="roles.set.denied",
        object_type="user",
        object_id=user.pk,
        before={"roles": sorted(role_names(user))},
        after={"roles": sorted(roles)},
        rule_codes=[code for code, _ in conflicts],
    )
