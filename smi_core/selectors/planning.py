"""Reads for planning, set-based: one query per kind of fact, never one per item-location."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum

from smi_core.models import (
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


def weekly_demand(keys: set[Key], *, as_of: date, weeks: int = 52) -> dict[Key, list[float]]:
    """Units sold (852 QS) per ISO week, oldest first, over the ``weeks`` before ``as_of``.

    A week in which the location reported sales of anything but not of this item counts as
    zero; weeks with no report from the location at all are left out (unknown, not zero).
    """
    start = as_of - timedelta(weeks=weeks)
    location_ids = sorted({loc for _, loc in keys})
    item_ids = {item for item, _ in keys}
    sums: dict[Key, dict[date, float]] = defaultdict(dict)
    report_weeks: dict[int, set[date]] = defaultdict(set)
    for start_loc in range(0, len(location_ids), CHUNK):
        chunk = location_ids[start_loc : start_loc + CHUNK]
        for item_id, location_id, week, quantity in _qs_by_week(chunk, start, as_of):
            report_weeks[location_id].add(week)
            if item_id in item_ids:
                sums[(item_id, location_id)][week] = quantity
    series: dict[Key, list[float]] = {}
    for key in keys:
        weeks_reported = sorted(report_weeks.get(key[1], ()))
        by_week = sums.get(key, {})
        series[key] = [by_week.get(week, 0.0) for week in weeks_reported]
    return series


def _qs_by_week(location_ids: list[int], start: date, end: date):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT item_id, location_id, date_trunc('week', period_end)::date AS week, SUM(quantity)::float8
                FROM {ProductActivity._meta.db_table}
                WHERE activity_code = 'QS' AND period_end > %s AND period_end <= %s AND location_id = ANY(%s)
                GROUP BY item_id, location_id, week
                """,
                [start, end, location_ids],
            )
            yield from cursor.fetchall()
        return
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
    merged: dict[tuple[int, int, date], float] = defaultdict(float)
    for item_id, location_id, period_end, total in rows:
        merged[(item_id, location_id, period_end - timedelta(days=period_end.weekday()))] += float(
            total
        )
    for (item_id, location_id, week), total in merged.items():
        yield item_id, location_id, week, total


def pending_quantities(keys: set[Key]) -> dict[Key, Decimal]:
    """Proposed, approved and ordered quantities not yet shipped, per item and ship-to."""
    rows = (
        ProposalLine.objects.filter(proposal__status__in=ReplenishmentProposal.PENDING)
        .values_list("item_id", "proposal__ship_to_id")
        .annotate(total=Sum("quantity"))
    )
    return {(i, loc): total for i, loc, total in rows if (i, loc) in keys}


def terms_for(agreement_ids: set[int]) -> dict[tuple[int, int, int | None], AgreementTerm]:
    """(agreement_id, item_id, location_id or None) -> term."""
    return {
        (t.agreement_id, t.item_id, t.location_id): t
        for t in AgreementTerm.objects.filter(agreement_id__in=agreement_ids)
    }
