"""Inventory positions as the API and the command line show them."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet

from smi_core.models import InventoryPosition, Party


def positions_list(
    *,
    partner: str | None = None,
    item: str | None = None,
    location: str | None = None,
    visible_to: Party | None = None,
) -> QuerySet[InventoryPosition]:
    """Current positions, filtered by partner code (buyer or supplier), item (vendor item,
    GTIN or buyer item number) and location (code or GLN). ``visible_to``: a partner sees
    only positions it is the buyer or supplier of."""
    qs = InventoryPosition.objects.select_related("item__supplier", "location__party").order_by(
        "location__party__code", "location__code", "item__vendor_item"
    )
    if visible_to is not None:
        qs = qs.filter(Q(location__party=visible_to) | Q(item__supplier=visible_to))
    if partner:
        qs = qs.filter(Q(location__party__code=partner) | Q(item__supplier__code=partner))
    if item:
        gtin = item.zfill(14) if item.isdigit() and len(item) in (8, 12, 13) else item
        qs = qs.filter(
            Q(item__vendor_item=item)
            | Q(item__gtin=gtin)
            | Q(item__cross_references__buyer_item=item)
        ).distinct()
    if location:
        qs = qs.filter(Q(location__code=location) | Q(location__gln=location))
    return qs


def position_as_dict(position: InventoryPosition, shipped: Decimal | None = None) -> dict:
    """The position as the command line and the API show it (quantities as strings).
    ``shipped``: units on our shipments to this location not yet received (856 sent)."""
    return {
        "partner": position.location.party.code,
        "supplier": position.item.supplier.code,
        "gtin": position.item.gtin,
        "vendor_item": position.item.vendor_item,
        "description": position.item.description,
        "location": position.location.code,
        "location_name": position.location.name,
        "on_hand": decimal_text(position.on_hand),
        "on_order": decimal_text(position.on_order),
        "in_transit": decimal_text(position.in_transit),
        "in_transit_shipped": decimal_text(shipped or Decimal(0)),
        "committed": decimal_text(position.committed),
        "sold_last_period": decimal_text(position.sold_last_period),
        "unit": position.item.unit,
        "as_of": position.as_of.isoformat(),
    }


def decimal_text(value: Decimal) -> str:
    """A quantity without meaningless trailing zeros and never in exponent form: 415, 2.5."""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")
