"""Orders: an approved proposal with a PO number. The PO number is ours (assigned at
approval) until the buyer sends its own 850 for the order; the supplier's ERP confirms or
changes the lines, which decides each line's ACK code in the 855.

The order lives on ReplenishmentProposal (approved -> ordered -> shipped -> received); its
lines carry what was ordered, confirmed and promised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    ItemCrossReference,
    Location,
    Party,
    ProposalLine,
    ReplenishmentProposal,
    ShipmentLine,
)
from smi_core.services.audit import Actor, audit_record
from smi_core.services.exceptions import exception_raise
from smi_core.services.proposals import TransitionRefused, proposal_transition
from smi_edi.x12.ts852 import normalise_gtin
from smi_edi.x12.ts855 import ack_code_for

P = ReplenishmentProposal.Status
ZERO = Decimal(0)


class OrderLineError(ApplicationError):
    code = "order_line_invalid"


@dataclass(frozen=True)
class LineChange:
    """What the supplier's ERP says about one line: the quantity it will ship, the date it
    promises, whether the rest is backordered (with no quantity: the whole line), and why."""

    quantity: Decimal | None = None
    promised_date: date | None = None
    backordered: bool = False
    note: str = ""


def po_number_for(order: ReplenishmentProposal) -> str:
    return f"{settings.SMI_PO_PREFIX}{order.pk:07d}"


def order_open(*, order: ReplenishmentProposal, actor: Actor) -> None:
    """Give a just-approved proposal its PO number and number its lines (caller holds the
    lock and the transaction).

    The approval is new, so the ordered quantities are the approved ones (a re-approval
    after an edit must not keep the old ones); only a buyer's 850 already linked keeps its
    own ordered quantities. Refused when the approval no longer binds the lines."""
    from smi_core.services.proposals import ApprovalInvalid, approval_invalid_reason

    invalid = approval_invalid_reason(order)
    if invalid:
        raise ApprovalInvalid(f"order {order.po_number or order.pk} cannot be opened: {invalid}")
    if not order.po_number:
        order.po_number = po_number_for(order)
        order.po_source = "smi"
    order.po_date = order.po_date or timezone.localdate()
    order.save(update_fields=["po_number", "po_source", "po_date"])
    lines = list(order.lines.order_by("item_id"))
    for n, line in enumerate(lines, start=1):
        line.line_number = line.line_number or str(n)
        if order.po_source != "850" or line.ordered_quantity is None:
            line.ordered_quantity = line.quantity
        # Our own orders ship at once: a promised ship date after the PO date is a DR.
        line.requested_date = line.requested_date or order.po_date
    ProposalLine.objects.bulk_update(lines, ["line_number", "ordered_quantity", "requested_date"])
    audit_record(
        actor=actor,
        action="order.open",
        object_type="proposal",
        object_id=order.pk,
        after={"po_number": order.po_number, "po_source": order.po_source},
    )


def shipped_quantities(order_line_ids: Iterable[int]) -> dict[int, Decimal]:
    rows = (
        ShipmentLine.objects.filter(order_line_id__in=list(order_line_ids))
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["order_line_id"]: row["total"] for row in rows}


def order_lines_confirm(
    *,
    order: ReplenishmentProposal,
    changes: Mapping[int, LineChange] | None = None,
    erp_reference: str = "",
    actor: Actor,
) -> list[ProposalLine]:
    """Record the supplier's confirmation of an approved order's lines and their ACK codes.

    A line the ERP does not mention is confirmed as approved. A backordered line is
    confirmed in full (what ships now plus the backordered rest, which stays open to ship)
    with ACK code IB; each returned line carries ``backordered_quantity`` (the rest) for
    the 855's ACK*IB. The caller holds the order locked in a transaction.
    """
    if order.status != P.APPROVED:
        raise TransitionRefused(
            f"order {order.po_number or order.pk} is {order.status}; only approved orders are "
            "confirmed (an 855 goes once per order)"
        )
    changes = dict(changes or {})
    lines = list(order.lines.select_related("item").order_by("line_number", "item_id"))
    known = {line.pk for line in lines}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise OrderLineError(
            f"order {order.po_number} has no line(s) {', '.join(map(str, unknown))}",
            extra={"lines": sorted(known)},
        )
    before = []
    for line in lines:
        change = changes.get(line.pk, LineChange())
        confirmed = line.quantity if change.quantity is None else change.quantity
        if change.backordered and change.quantity is None:
            confirmed = ZERO  # backordered, nothing said about now: the whole line waits
        if confirmed < 0:
            raise OrderLineError(f"line {line.pk}: a confirmed quantity cannot be negative")
        ordered = line.ordered_quantity if line.ordered_quantity is not None else line.quantity
        before.append({"line": line.pk, "confirmed": _text(line.confirmed_quantity)})
        backordered = max(ordered - confirmed, ZERO) if change.backordered else ZERO
        line.backordered_quantity = backordered  # not stored: the 855's ACK*IB quantity
        line.confirmed_quantity = confirmed + backordered  # the backorder stays open
        line.promised_date = change.promised_date or line.requested_date
        line.ack_code = (
            "IB"
            if backordered
            else ack_code_for(
                ordered=ordered,
                confirmed=confirmed,
                requested=line.requested_date or order.requested_delivery,
                promised=change.promised_date,
                backordered=change.backordered,
            )
        )
        line.ack_note = change.note[:200]
    ProposalLine.objects.bulk_update(
        lines, ["confirmed_quantity", "promised_date", "ack_code", "ack_note"]
    )
    if erp_reference:
        order.erp_reference = erp_reference[:30]
        order.save(update_fields=["erp_reference"])
    audit_record(
        actor=actor,
        action="order.confirm",
        object_type="proposal",
        object_id=order.pk,
        before={"lines": before},
        after={
            "erp_reference": order.erp_reference,
            "lines": [
                {
                    "line": line.pk,
                    "confirmed": _text(line.confirmed_quantity),
                    "backordered": _text(line.backordered_quantity),
                    "ack": line.ack_code,
                    "promised": line.promised_date.isoformat() if line.promised_date else None,
                }
                for line in lines
            ],
        },
    )
    return lines


def order_mark_ordered(*, order: ReplenishmentProposal, actor: Actor, reason: str) -> None:
    proposal_transition(proposal=order, to=P.ORDERED, actor=actor, reason=reason)
    order.confirmed_at = timezone.now()
    order.save(update_fields=["confirmed_at"])


# -- the buyer's own PO (850) ---------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseOrderLine:
    line_number: str
    quantity: Decimal
    ids: Mapping[str, str]  # X12 product id qualifier -> id (VN, UP, EN, IN, BP ...)
    requested_date: date | None = None


def order_link_850(
    *,
    buyer: Party,
    supplier: Party,
    po_number: str,
    po_date: date | None,
    ship_to_code: str | None,
    requested_delivery: date | None,
    lines: list[PurchaseOrderLine],
    actor: Actor,
    source: str,
) -> ReplenishmentProposal | None:
    """Adopt the buyer's PO number for the approved order it was issued for.

    The order is the approved one (855 not yet sent) for the same buyer, the supplier the
    850 was sent to (its interchange's receiver) and the same ship-to, whose items (that
    supplier's) cover every 850 line; the 850's quantities become the ordered quantities, so a
    difference from ours (pack rounding, capacity) shows as IQ in the 855. An 850 that
    matches nothing opens an exception. Receiving the same 850 again changes nothing.
    """
    existing = ReplenishmentProposal.objects.filter(
        buyer=buyer, supplier=supplier, po_number=po_number, po_source="850"
    ).first()
    if existing is not None:
        return existing
    items = {line.line_number: _item_for(buyer, supplier, line.ids) for line in lines}
    candidates = ReplenishmentProposal.objects.filter(
        buyer=buyer, supplier=supplier, status=P.APPROVED, po_source__in=["", "smi"]
    ).order_by("created_at", "pk")
    if ship_to_code:
        location = Location.objects.filter(party=buyer, code=ship_to_code).first()
        location = location or Location.objects.filter(party=buyer, gln=ship_to_code).first()
        candidates = candidates.filter(ship_to=location) if location else candidates.none()
    wanted = {item for item in items.values() if item is not None}
    match = None
    if wanted and None not in items.values():
        for candidate in candidates:
            if wanted <= set(candidate.lines.values_list("item_id", flat=True)):
                match = candidate
                break
    if match is None:
        exception_raise(
            kind="unmatched_850",
            partner=buyer,
            subject=f"PO {po_number}",
            message=(
                f"{buyer.code} sent purchase order {po_number} ({source}) to "
                f"{supplier.code}, which matches no approved order of {supplier.code} for the "
                "same ship-to and items."
            ),
            action="Check the PO against the approved proposals; approve the matching "
            "proposal, or tell the buyer which items or location are unknown.",
            details={
                "ship_to": ship_to_code,
                "lines": [
                    {"line": line.line_number, "ids": dict(line.ids), "qty": str(line.quantity)}
                    for line in lines
                ],
            },
        )
        return None
    with transaction.atomic():
        order = ReplenishmentProposal.objects.select_for_update().get(pk=match.pk)
        previous = order.po_number
        order.po_number = po_number[:22]
        order.po_source = "850"
        order.po_date = po_date or order.po_date
        order.requested_delivery = requested_delivery
        order.save(update_fields=["po_number", "po_source", "po_date", "requested_delivery"])
        by_item = {line.item_id: line for line in order.lines.all()}
        for po_line in lines:
            line = by_item.pop(items[po_line.line_number])
            line.line_number = po_line.line_number[:20]
            line.ordered_quantity = po_line.quantity
            line.requested_date = po_line.requested_date or requested_delivery
            line.save(update_fields=["line_number", "ordered_quantity", "requested_date"])
        for line in by_item.values():  # proposed, but not on the buyer's PO
            line.ordered_quantity = ZERO
            line.save(update_fields=["ordered_quantity"])
        audit_record(
            actor=actor,
            action="order.link_850",
            object_type="proposal",
            object_id=order.pk,
            before={"po_number": previous},
            after={"po_number": order.po_number, "source": source},
        )
    return order


def _item_for(buyer: Party, supplier: Party, ids: Mapping[str, str]) -> int | None:
    """The supplier's item the 850 line names: vendor item numbers are unique only per
    supplier, so every lookup is within ``supplier``'s items."""
    from smi_core.models import Item

    # VN and VP both name the vendor's (seller's) part number; buyers use either.
    for qualifier in ("VN", "VP", "UP", "EN", "UK"):
        value = ids.get(qualifier)
        if not value:
            continue
        vendor = qualifier in ("VN", "VP")
        field = "vendor_item" if vendor else "gtin"
        query = {field: value if vendor else normalise_gtin(value)}
        item_id = (
            Item.objects.filter(supplier=supplier, **query).values_list("pk", flat=True).first()
        )
        if item_id:
            return item_id
    for qualifier in ("IN", "BP"):
        value = ids.get(qualifier)
        if value:
            ref = ItemCrossReference.objects.filter(
                buyer=buyer, buyer_item=value, item__supplier=supplier
            ).first()
            if ref:
                return ref.item_id
    return None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.normalize())
