"""Inventory positions rebuilt from product activity (they are derived, never the source)."""

from __future__ import annotations

from itertools import groupby

from django.db import transaction
from django.db.models import F, Q

from smi_core.models import InventoryPosition, Party, ProductActivity
from smi_core.services.activity import (
    POSITION_FIELDS,
    SetFigures,
    merge_position,
    positions_lock,
    upsert_positions,
)


def positions_rebuild(*, buyer: Party | None = None) -> int:
    """Recompute every position (of ``buyer``, or all) from activity, as ingestion would have
    left them: per item-location the newest report period, its reports applied in order.
    Returns the number of positions written. Holds the buyers' positions lock from the
    first read to commit, so no 852 merges into them meanwhile."""
    with transaction.atomic():
        buyers = [buyer.pk] if buyer is not None else Party.objects.values_list("pk", flat=True)
        positions_lock(buyers)
        return _rebuild(buyer)


def _rebuild(buyer: Party | None) -> int:
    activity = ProductActivity.objects.all()
    positions = InventoryPosition.objects.all()
    if buyer is not None:
        activity = activity.filter(location__party=buyer)
        positions = positions.filter(location__party=buyer)
    # Quantities in another unit than the item's never count (ingestion flags them).
    activity = activity.filter(Q(unit=F("item__unit")) | Q(unit=""))
    rows = (
        activity.order_by(
            "location_id", "item_id", "period_end", "source_set_id", "segment_number", "position"
        )
        .values_list(
            "item_id",
            "location_id",
            "period_end",
            "source_set_id",
            "activity_code",
            "activity_date",
            "quantity",
        )
        .iterator(chunk_size=20_000)
    )
    out: list[tuple] = []
    for (item_id, location_id), history in groupby(rows, key=lambda r: (r[0], r[1])):
        newest = None
        for newest, period in groupby(history, key=lambda r: r[2]):  # noqa: B007 - the last period wins
            period_rows = list(period)
        values, last_set = None, None
        for source_set_id, set_rows in groupby(period_rows, key=lambda r: r[3]):
            figures = SetFigures()
            for row in set_rows:
                figures.add((item_id, location_id), row[4], row[5], row[6])
            stated = figures.stated((item_id, location_id))
            if stated or values is None:
                current = None if values is None else {**values, "as_of": newest}
                values = merge_position(current, stated, as_of=newest)
                last_set = source_set_id
        out.append((item_id, location_id, *(values[f] for f in POSITION_FIELDS), newest, last_set))
    positions.delete()
    upsert_positions(out)
    return len(out)
