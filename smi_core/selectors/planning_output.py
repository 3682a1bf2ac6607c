"""Proposals and their lines as the command line and the API show them."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery

from smi_core.models import Approval, Party, ReplenishmentProposal
from smi_core.selectors.positions import decimal_text


def proposal_as_dict(proposal: ReplenishmentProposal, *, lines: bool = False) -> dict:
    data = {
        "id": proposal.pk,
        "status": proposal.status,
        "supplier": proposal.supplier.code,
        "partner": proposal.buyer.code,
        "ship_to": proposal.ship_to.code,
        "agreement": proposal.agreement.code,
        "value": str(proposal.value),
        "currency": proposal.currency,
        "as_of": proposal.as_of.isoformat(),
        "created_at": proposal.created_at.isoformat() if proposal.created_at else None,
        "created_by": proposal.created_by,
        "order": proposal.po_number or None,
        # Flagged wherever approvals show: the SoD override an approval of it used, if any.
        "approved_with_override": (
            proposal.override_used
            if hasattr(proposal, "override_used")  # annotated by proposals_list
            else _overrides_used().filter(proposal=proposal).first()
        ),
    }
    if lines:
        data["lines"] = [
            {
                "item": line.item_id,
                "vendor_item": line.item.vendor_item,
                "quantity": decimal_text(line.quantity),
                "raw_quantity": decimal_text(line.raw_quantity),
                "unit_cost": str(line.unit_cost),
                "explanation": line.explanation,
            }
            for line in proposal.lines.select_related("item").order_by("item__vendor_item")
        ]
    return data


def proposals_list(
    *, status: str | None = None, partner: str | None = None, visible_to: Party | None = None
) -> QuerySet[ReplenishmentProposal]:
    qs = (
        ReplenishmentProposal.objects.select_related("supplier", "buyer", "ship_to", "agreement")
        .annotate(override_used=Subquery(_overrides_used().filter(proposal=OuterRef("pk"))[:1]))
        .order_by("-created_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    if partner:
        qs = qs.filter(Q(buyer__code=partner) | Q(supplier__code=partner))
    if visible_to is not None:
        qs = qs.filter(Q(buyer=visible_to) | Q(supplier=visible_to))
    return qs


def _overrides_used() -> QuerySet:
    """The SoD overrides approvals used (their ids), newest approval first."""
    return (
        Approval.objects.filter(decision=Approval.Decision.APPROVED, override__isnull=False)
        .order_by("-decided_at", "-id")
        .values_list("override_id", flat=True)
    )
