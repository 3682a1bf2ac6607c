"""Benchmark: replenishment planning for 10,000 and 100,000 item-locations with 52 weeks of
852 history each, on PostgreSQL (its own database, created if missing).

The history is loaded with COPY (this measures planning, not ingestion); then
`plan_replenishment` runs over every item-location and the table prints total time and
item-locations per second. Target: 100,000 in at most 30 s, time linear in the count.

    python bench/plan.py [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench_plan"
AS_OF = date(2026, 11, 24)
STORES = 100


def load(item_locations: int, advance=lambda amount: None) -> None:
    """A supplier, a buyer with 100 stores, item_locations / 100 items, an agreement with a
    term per item, a position per item-location and 52 weekly QS rows per item-location.
    ``advance(n)`` hears of each item's item-locations as they are written."""
    from benchdb import bench_agreement, bench_parties, copy_activity, truncate
    from django.db import connection, transaction

    from smi_core.models import (
        AgreementTerm,
        ExceptionItem,
        InventoryPosition,
        Item,
        Location,
        PlanRun,
        ProductActivity,
        ProposalLine,
        ReplenishmentProposal,
        SeriesForecast,
        SupplyAgreement,
    )
    from smi_edi.models import InboundSet, Interchange

    items = item_locations // STORES
    rnd = random.Random(42)
    with transaction.atomic():
        truncate([ProductActivity])  # PostgreSQL: the segment table, not row by row
        for model in (
            ProposalLine,
            ReplenishmentProposal,
            SeriesForecast,
            PlanRun,
            ExceptionItem,
            AgreementTerm,
            SupplyAgreement,
            InventoryPosition,
            InboundSet,
            Interchange,
        ):
            model.objects.all().delete()
        supplier, buyer = bench_parties(supplier_isa="ZZ:BENCHSUP", buyer_isa="ZZ:BENCHBUY")
        item_objs = Item.objects.bulk_create(
            [Item(supplier=supplier, vendor_item=f"B-{i:06d}", pack_size=6) for i in range(items)]
        )
        loc_objs = Location.objects.bulk_create(
            [Location(party=buyer, code=f"S{s:03d}") for s in range(STORES)]
        )
        bench_agreement("bench", buyer=buyer, supplier=supplier, items=item_objs)
        interchange = Interchange.objects.create(
            transport="cli", sha256="bench", size=0, raw_file="bench", status="applied"
        )
        source = InboundSet.objects.create(
            interchange=interchange,
            functional_id="PD",
            group_control_number="1",
            version="004010",
            set_id="852",
            control_number="1",
            first_segment=3,
            status="accepted",
        )
        weeks = [
            AS_OF - timedelta(days=AS_OF.weekday() + 1) - timedelta(weeks=w) for w in range(52)
        ]
        positions, activity = io.StringIO(), io.StringIO()
        now = "2026-11-24T00:00:00+00:00"
        for i, item in enumerate(item_objs):
            base = rnd.uniform(1, 40)
            intermittent = rnd.random() < 0.3
            for s, loc in enumerate(loc_objs):
                on_hand = rnd.randint(0, 80)
                positions.write(
                    f"{item.pk}\t{loc.pk}\t{on_hand}\t0\t0\t0\t{int(base)}\t{weeks[0]}\t{source.pk}\t{now}\n"
                )
                for w, end in enumerate(weeks):
                    qty = (
                        0
                        if intermittent and rnd.random() < 0.7
                        else max(0, int(rnd.gauss(base, base / 4)))
                    )
                    # as an 852 sends them: each week's stores 10 to an SDQ segment
                    segment = ((i * 52 + w) * STORES + s) // 10 + 1
                    activity.write(
                        f"{end - timedelta(days=6)}\t{end}\t{source.pk}\t{item.pk}\t{loc.pk}\tQS\t{qty}\tEA\t\t\\N\t{segment}\t{s % 10 + 1}\n"
                    )
            advance(len(loc_objs))
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(
                "COPY smi_core_inventoryposition (item_id, location_id, on_hand, on_order, in_transit, committed, "
                "sold_last_period, as_of, source_set_id, updated_at) FROM STDIN"
            ) as copy:
                copy.write(positions.getvalue())
            copy_activity(
                raw,
                "period_start, period_end, source_set_id, item_id, location_id, activity_code, "
                "quantity, unit, date_qualifier, activity_date, segment_number, position",
                activity.getvalue(),
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    from benchdb import setup_django

    setup_django(os.environ.get("SMI_BENCH_PLAN_DATABASE_URL") or DEFAULT_DB)
    from smi_core.cli_output import progress_bar
    from smi_core.services.planning import plan_replenishment

    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        start = time.perf_counter()
        with progress_bar(sys.stderr, f"loading {size:,} item-locations x 52 weeks", size) as bar:
            load(size, bar)
        print(f"  loaded in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        with progress_bar(sys.stderr, f"planning {size:,}", None) as bar:
            seen = {"done": 0}

            def progress(done: int, total: int, stage: str, bar=bar, seen=seen) -> None:
                bar(done - seen["done"], total=total, of=f"{total:,}", description=stage)
                seen["done"] = done

            start = time.perf_counter()
            result = plan_replenishment(as_of=AS_OF, actor="bench", progress=progress)
            seconds = time.perf_counter() - start
        rows.append((size, seconds, result.run.proposals, result.run.lines, result.run.exceptions))
    print()
    print(
        f"{'item-locations':>15} {'seconds':>9} {'per second':>11} {'proposals':>10} {'lines':>8} {'exceptions':>11}"
    )
    for size, seconds, proposals, lines, exceptions in rows:
        print(
            f"{size:>15,} {seconds:>9.1f} {size / seconds:>11,.0f} {proposals:>10,} {lines:>8,} {exceptions:>11,}"
        )
    if len(rows) > 1:
        (a, ta, *_), (b, tb, *_) = rows[0], rows[-1]
        print(
            f"time ratio {tb / ta:.1f}x for {b / a:.0f}x the item-locations (linear = {b / a:.0f}x); target: 100,000 in <= 30 s"
        )


if __name__ == "__main__":
    main()
