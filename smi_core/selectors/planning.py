"""Reads for planning, set-based: one query per kind of fact, never one per item-location."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import Q, Sum

from smi_core.models import (
    ActivitySegment,
    AgreementTerm,
    InventoryPosition,
    ProductActivity,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)

Key = tuple[int, int]  # (item_id, location_id)
CHUNK = 900


def agreements_in_force(
    *, as_of: date, partner_code: str | None = None
) -> dict[tuple[int, int], SupplyAgreement]:
    """(supplier_id, buyer_id) -> the agreement in force on ``as_of``."""
    qs = SupplyAgreement.objects.filter(effective_from__lte=as_of).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=as_of)
    )
    if partner_code:
        qs = qs.filter(Q(buyer__code=partner_code) | Q(supplier__code=partner_code))
    found: dict[tuple[int, int], SupplyAgreement] = {}
    for agreement in qs.order_by("effective_from", "pk"):
        found[(agreement.supplier_id, agreement.buyer_id)] = agreement  # the latest one wins
    return found


def positions_in_scope(pairs: set[tuple[int, int]], keys: set[Key] | None = None) -> list[dict]:
    """Positions whose (supplier, buyer) has an agreement, optionally only ``keys``."""
    if not pairs:
        return []
    fields = (
        "item_id",
        "location_id",
        "on_hand",
        "on_order",
        "in_transit",
        "committed",
        "as_of",
        "item__supplier_id",
        "location__party_id",
        "item__pack_size",
        "item__group",
        "item__unit",
    )
    base = InventoryPosition.objects.filter(
        item__supplier_id__in={s for s, _ in pairs}, location__party_id__in={b for _, b in pairs}
    )
    if keys is None:
        rows = base.values(*fields).iterator(chunk_size=10_000)
        return [r for r in rows if (r["item__supplier_id"], r["location__party_id"]) in pairs]
    items = sorted({i for i, _ in keys})
    out = []
    for start in range(0, len(items), CHUNK):
        for row in base.filter(item_id__in=items[start : start + CHUNK]).values(*fields):
            if (row["item_id"], row["location_id"]) in keys and (
                row["item__supplier_id"],
                row["location__party_id"],
            ) in pairs:
                out.append(row)
    return out


EPOCH_MONDAY = date(2000, 1, 3)


def weekly_demand(keys: set[Key], *, as_of: date, weeks: int = 52) -> dict[Key, list[float]]:
    """Units sold (852 QS) per week (Monday to Sunday), oldest first, over the ``weeks``
    before ``as_of``.

    A week in which the location reported sales of anything but not of this item counts as
    zero; weeks with no report from the location at all are left out (unknown, not zero).
    """
    start = as_of - timedelta(weeks=weeks)
    location_ids = sorted({loc for _, loc in keys})
    series: dict[Key, list[float]] = {}
    # PostgreSQL reads the window's segments once, whatever the number of locations.
    step = CHUNK if connection.vendor != "postgresql" else max(len(location_ids), 1)
    for first in range(0, len(location_ids), step):
        chunk = location_ids[first : first + step]
        per_key, report_weeks = _sales_by_week(chunk, start, as_of)
        for key, (week_numbers, quantities) in per_key.items():
            if key not in keys:
                continue
            reported = report_weeks[key[1]]
            if len(week_numbers) == len(reported):
                series[key] = quantities
            else:
                by_week = dict(zip(week_numbers, quantities, strict=True))
                series[key] = [by_week.get(week, 0.0) for week in reported]
        for key in keys:
            if key[1] in report_weeks and key not in series:
                series[key] = [0.0] * len(report_weeks[key[1]])
    return series


def _series_from_segments(rows, location_ids: list[int]) -> dict[Key, tuple[list, list]]:
    """(item, location) -> (week numbers, quantities) in week order, from segment rows
    ``(item_id, week, locations, quantities)``: every quantity flattened into numpy arrays,
    sorted by item, location and week, a week reported twice summed."""
    counts = [len(row[2]) for row in rows]
    total = sum(counts)
    if not total:
        return {}
    items = np.repeat(np.fromiter((r[0] for r in rows), np.int64, len(rows)), counts)
    weeks = np.repeat(np.fromiter((r[1] for r in rows), np.int64, len(rows)), counts)
    locations = np.fromiter(chain.from_iterable(r[2] for r in rows), np.int64, total)
    quantities = np.fromiter(chain.from_iterable(r[3] for r in rows), np.float64, total)
    keep = np.isin(locations, np.asarray(location_ids, dtype=np.int64))
    items, weeks, locations, quantities = (
        items[keep],
        weeks[keep],
        locations[keep],
        quantities[keep],
    )
    if not len(items):
        return {}
    order = np.lexsort((weeks, locations, items))
    items, weeks, locations, quantities = (
        items[order],
        weeks[order],
        locations[order],
        quantities[order],
    )
    # one entry per (item, location, week): a week reported twice is summed
    new_week = np.ones(len(items), dtype=bool)
    new_week[1:] = (
        (items[1:] != items[:-1]) | (locations[1:] != locations[:-1]) | (weeks[1:] != weeks[:-1])
    )
    first = np.flatnonzero(new_week)
    quantities = np.add.reduceat(quantities, first)
    items, locations, weeks = items[first], locations[first], weeks[first]
    new_key = np.ones(len(items), dtype=bool)
    new_key[1:] = (items[1:] != items[:-1]) | (locations[1:] != locations[:-1])
    starts = np.flatnonzero(new_key).tolist()
    ends = [*starts[1:], len(items)]
    week_list, quantity_list = weeks.tolist(), quantities.tolist()
    item_list, location_list = items.tolist(), locations.tolist()
    return {
        (item_list[a], location_list[a]): (week_list[a:b], quantity_list[a:b])
        for a, b in zip(starts, ends, strict=True)
    }


def _sales_by_week(location_ids: list[int], start: date, end: date):
    """(item, location) -> (week numbers, quantities) in week order; location -> its report weeks."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The QS segments of the window straight from the segment table (one row per
            # SDQ: its locations and quantities in arrays, read in binary and decoded in C),
            # then grouped per item-location by numpy. Grouping the view's unnested rows by
            # item-location in SQL sorted every quantity of the window (13 s for a year of
            # 93,200 item-locations), and so did a Python loop over them (10 s).
            cursor.execute("SET LOCAL work_mem = '256MB'")
            raw = psycopg.Cursor(connection.connection)
            raw.execute(
                f"""
                SELECT item_id, (period_end - %s::date) / 7, locations, quantities::float8[]
                FROM {ActivitySegment._meta.db_table}
                WHERE activity_code = 'QS' AND period_end > %s AND period_end <= %s
                """,
                [EPOCH_MONDAY, start, end],
                binary=True,
            )
            per_key = _series_from_segments(raw.fetchall(), location_ids)
    else:
        rows = (
            ProductActivity.objects.filter(
                activity_code="QS",
                period_end__gt=start,
                period_end__lte=end,
                location_id__in=location_ids,
            )
            .values_list("item_id", "location_id", "period_end")
            .annotate(total=Sum("quantity"))
        )
        merged: dict[Key, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for item_id, location_id, period_end, total in rows:
            merged[(item_id, location_id)][(period_end - EPOCH_MONDAY).days // 7] += float(total)
        per_key = {
            key: (sorted(by_week), [by_week[w] for w in sorted(by_week)])
            for key, by_week in merged.items()
        }
    report_weeks: dict[int, set[int]] = defaultdict(set)
    for (_, location_id), (week_numbers, _) in per_key.items():
        report_weeks[location_id].update(week_numbers)
    return per_key, {loc: sorted(weeks) for loc, weeks in report_weeks.items()}


def pending_quantities(keys: set[Key]) -> dict[Key, Decimal]:
    """Proposed, approved and ordered quantities not yet shipped, per item and ship-to (a
    confirmed quantity replaces the proposed one; what a partial shipment sent is gone)."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce

    from smi_core.models import ShipmentLine

    lines = ProposalLine.objects.filter(proposal__status__in=ReplenishmentProposal.PENDING)
    rows = lines.values_list("item_id", "proposal__ship_to_id").annotate(
        total=Sum(Coalesce(F("confirmed_quantity"), F("quantity")))
    )
    totals = {(i, loc): total for i, loc, total in rows if (i, loc) in keys}
    shipped = (
        ShipmentLine.objects.filter(
            order_line__proposal__status=ReplenishmentProposal.Status.ORDERED
        )
        .values_list("order_line__item_id", "order_line__proposal__ship_to_id")
        .annotate(total=Sum("quantity", default=Value(Decimal(0))))
    )
    for i, loc, total in shipped:
        if (i, loc) in totals:
            totals[(i, loc)] -= total
    return totals


def terms_for(agreement_ids: set[int]) -> dict[tuple[int, int, int | None], AgreementTerm]:
    """(agreement_id, item_id, location_id or None) -> term."""
    return {
        (t.agreement_id, t.item_id, t.location_id): t
        for t in AgreementTerm.objects.filter(agreement_id__in=agreement_ids)
    }
