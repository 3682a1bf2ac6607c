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


POSITION_FIELDS = {
    "partner": "location__party__code",
    "supplier": "item__supplier__code",
    "gtin": "item__gtin",
    "vendor_item": "item__vendor_item",
    "description": "item__description",
    "location": "location__code",
    "location_name": "location__name",
    "unit": "item__unit",
}
POSITION_QUANTITIES = ("on_hand", "on_order", "in_transit", "committed", "sold_last_period")


def positions_page(
    *,
    after: tuple[int, int] | None = None,
    limit: int,
    partner: str | None = None,
    item: str | None = None,
    location: str | None = None,
    visible_to: Party | None = None,
) -> list[dict]:
    """Up to ``limit`` positions as the API shows them, in (item id, location id) order
    after the key ``after``: one walk along the unique (item, location) index, no count and
    no sort of the whole set, so a page costs the same at the start and deep in 150,000
    positions. Filters as ``positions_list``; ``visible_to`` is applied through the party's
    own locations and items (small sets) rather than joins on every position."""
    from smi_core.models import Item, ItemCrossReference, Location
    from smi_core.services.shipments import in_transit_by_item_location

    qs = InventoryPosition.objects.all()
    if visible_to is not None:
        qs = qs.filter(
            Q(location_id__in=Location.objects.filter(party=visible_to).values("pk"))
            | Q(item_id__in=Item.objects.filter(supplier=visible_to).values("pk"))
        )
    if partner:
        qs = qs.filter(
            Q(location_id__in=Location.objects.filter(party__code=partner).values("pk"))
            | Q(item_id__in=Item.objects.filter(supplier__code=partner).values("pk"))
        )
    # Item and location filters name a few rows: their ids are read first, so the planner
    # sees a short list it looks up along the index instead of guessing at a subquery.
    if item:
        gtin = item.zfill(14) if item.isdigit() and len(item) in (8, 12, 13) else item
        ids = set(
            Item.objects.filter(Q(vendor_item=item) | Q(gtin=gtin)).values_list("pk", flat=True)
        )
        ids.update(
            ItemCrossReference.objects.filter(buyer_item=item).values_list("item_id", flat=True)
        )
        qs = qs.filter(item_id__in=sorted(ids))
    if location:
        ids = Location.objects.filter(Q(code=location) | Q(gln=location)).values_list(
            "pk", flat=True
        )
        qs = qs.filter(location_id__in=sorted(ids))
    if after is not None:
        qs = qs.filter(Q(item_id__gt=after[0]) | Q(item_id=after[0], location_id__gt=after[1]))
    rows = list(
        qs.order_by("item_id", "location_id").values(
            "item_id", "location_id", "as_of", *POSITION_QUANTITIES, *POSITION_FIELDS.values()
        )[:limit]
    )
    shipped = in_transit_by_item_location(
        item_ids={r["item_id"] for r in rows}, location_ids={r["location_id"] for r in rows}
    )
    return [
        {
            **{name: row[path] for name, path in POSITION_FIELDS.items() if name != "unit"},
            **{name: decimal_text(row[name]) for name in POSITION_QUANTITIES[:3]},
            "in_transit_shipped": decimal_text(
                shipped.get((row["item_id"], row["location_id"]), Decimal(0))
            ),
            **{name: decimal_text(row[name]) for name in POSITION_QUANTITIES[3:]},
            "unit": row["item__unit"],
            "as_of": row["as_of"].isoformat(),
            "key": (row["item_id"], row["location_id"]),
        }
        for row in rows
    ]
