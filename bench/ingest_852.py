"""Benchmark: an 852 of a given size ingested end to end into PostgreSQL.

Generates an 852 (``--mb``, default 50; or exactly ``--items`` items) with ``--stores``
stores x 5 activity codes per item, then runs the production pipeline on it: the file is
received (stored with its sha256) and processed as the ingestion task does (validated, the
997 written, the set mapped to activity rows and applied, positions updated). Prints one
table with the time of each stage, MB/s, activity rows/s and the peak resident memory.
With ``--weeks 2`` a second week's file follows the first, as in steady operation: its
positions are updates and the activity table already holds a week.
Uses its own database (created if missing), so it never touches real data.

Stages are timed by wrapping the functions the pipeline calls (validation, the 997
builder, the 852 handler, the position update); nothing else is changed. Planning, which
the position hook queues for a worker, is not run here (it has its own benchmark).

    python bench/ingest_852.py [--mb 50] [--items N] [--stores 100] [--weeks 1] [--exclude-validation]

``--exclude-validation``: still measures validation, but checks the 60 s target on the
other stages only (while validation is pyx12, 0.3 MB/s).
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench"
TARGET_SECONDS = 60.0

seconds: dict[str, float] = defaultdict(float)


def timed(stage: str, function):
    """``function``, adding its wall time to ``seconds[stage]``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[stage] += time.perf_counter() - start

    return wrapper


def clean_slate() -> None:
    """Empty what an ingest writes, without dead rows: the activity, the stock ledger
    (StockLevel, else a run would keep the last run's rows, their set ids reused after the
    restart of the identities), positions, exceptions, sets and interchanges."""
    from django.db import connection

    from smi_core.models import ExceptionItem, InventoryPosition, ProductActivity, StockLevel
    from smi_edi.models import InboundSet, Interchange

    tables = ", ".join(
        m._meta.db_table
        for m in (
            ProductActivity,
            StockLevel,
            InventoryPosition,
            ExceptionItem,
            InboundSet,
            Interchange,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=50.0, help="file size in MB (default 50)")
    parser.add_argument("--items", type=int, default=None, help="exactly this many items")
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument(
        "--weeks",
        type=int,
        default=1,
        help="ingest this many weekly files in turn (week 2 on: positions and activity exist)",
    )
    parser.add_argument(
        "--exclude-validation",
        action="store_true",
        help="check the target without validation time (validation is still measured)",
    )
    args = parser.parse_args()

    url = os.environ.get("SMI_BENCH_DATABASE_URL") or DEFAULT_DB
    from benchdb import setup_django

    setup_django(url)
    from django.db import connection, transaction
    from gen852 import ACTIVITY_CODES, write_852

    import smi_core.services.activity as activity
    import smi_edi.services.interchanges as interchanges
    import smi_edi.x12.validation as validation
    from smi_core.models import (
        ExceptionItem,
        InventoryPosition,
        Item,
        Location,
        ProductActivity,
    )
    from smi_core.services import hooks
    from smi_edi.services.interchanges import interchange_process, interchange_receive
    from smi_edi.services.partners import partner_add

    OUT.mkdir(parents=True, exist_ok=True)
    files = []
    for week in range(1, args.weeks + 1):
        path = OUT / f"852_bench_{args.mb:g}mb_{args.stores}_w{week}.edi"
        if args.items is not None or week > 1:
            items = args.items if args.items is not None else files[0][1]["items"]
            path = OUT / f"852_bench_{items}x{args.stores}_w{week}.edi"
            info = write_852(path, items=items, stores=args.stores, seed=week, week=week)
        else:
            info = write_852(path, args.mb, stores=args.stores, seed=week, week=week)
        files.append((path, info))
    info = files[0][1]
    print(
        f"852: {info['bytes'] / 1e6:.1f} MB, {info['items']:,} items, "
        f"{info['quantities']:,} quantities per week, {args.weeks} week(s)",
        file=sys.stderr,
    )

    print("setting up partners, items and locations ...", file=sys.stderr, flush=True)
    with transaction.atomic():
        clean_slate()
        supplier, _ = partner_add(
            code="bench-supplier",
            name="Bench Supplier",
            isa="ZZ:SMIHUB",
            role="supplier",
            with_token=False,
        )
        buyer, _ = partner_add(
            code="bench-buyer", name="Bench Buyer", isa="ZZ:DEMOBUYER", with_token=False
        )
        Item.objects.filter(supplier=supplier.party).delete()
        Location.objects.filter(party=buyer.party).delete()
        Item.objects.bulk_create(
            [
                Item(supplier=supplier.party, vendor_item=f"V-{i:06d}", gtin=f"{i:014d}")
                for i in range(1, files[0][1]["items"] + 1)
            ],
            batch_size=5000,
        )
        Location.objects.bulk_create(
            [Location(party=buyer.party, code=f"S{s:04d}") for s in range(args.stores)]
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE smi_core_item")
        cursor.execute("VACUUM ANALYZE smi_core_location")

    # Time the stages where the pipeline calls them; planning is not run (see above).
    validation.validate = timed("validate", validation.validate)
    interchanges.acknowledgment_documents = timed("997", interchanges.acknowledgment_documents)
    interchanges.acknowledgments_send = timed("997", interchanges.acknowledgments_send)
    interchanges.SET_HANDLERS["852"] = timed("852 set", interchanges.SET_HANDLERS["852"])
    activity._update_positions = timed("positions", activity._update_positions)
    planned: list[int] = []
    hooks._listeners[:] = [lambda *, item_location_pairs, source: planned.append(1)]
    interchanges.positions_changed = timed("hook", interchanges.positions_changed)

    print(f"database    {connection.vendor} ({url.rsplit('@', 1)[-1]})")
    for week, (path, info) in enumerate(files, start=1):
        seconds.clear()
        print(f"week {week}: receiving and processing ...", file=sys.stderr, flush=True)
        baseline = peak_rss_mb()
        raised_before = exception_counts(ExceptionItem)
        start = time.perf_counter()
        with open(path, "rb") as source:
            received = timed("store", interchange_receive)(
                source=source, transport="cli", source_name=path.name, actor="bench"
            )
        summary = interchange_process(interchange_id=received.pk, actor="bench")
        total = time.perf_counter() - start
        report(
            week=week,
            info=info,
            summary=summary,
            total=total,
            baseline=baseline,
            stores=args.stores,
            codes=len(ACTIVITY_CODES),
            exclude_validation=args.exclude_validation,
            tables=(ProductActivity.objects.count(), InventoryPosition.objects.count()),
        )
        raised = exception_counts(ExceptionItem)
        found = {k: n - raised_before.get(k, 0) for k, n in raised.items()}
        print(
            "exceptions  "
            + (", ".join(f"{k} {n:,}" for k, n in sorted(found.items()) if n) or "none")
            + " (occurrences raised by this file)"
        )


def exception_counts(model) -> dict[str, int]:
    """Occurrences per exception kind so far (a condition met again counts again)."""
    from django.db.models import Sum

    return dict(model.objects.values_list("kind").annotate(n=Sum("occurrences")))


def report(*, week, info, summary, total, baseline, stores, codes, exclude_validation, tables):
    mb = info["bytes"] / 1e6
    apply_seconds = seconds["852 set"] - seconds["positions"]
    stages = [
        ("store (receive: sha256, fsync, record)", seconds["store"]),
        ("validate", seconds["validate"]),
        ("997 (build the acknowledgment)", seconds["997"]),
        ("apply activity (map + COPY)", apply_seconds),
        ("positions (set-based update)", seconds["positions"]),
        ("hook (positions changed)", seconds["hook"]),
    ]
    stages.append(("other (status, records, commits)", total - sum(s for _, s in stages)))
    without_validation = total - seconds["validate"]
    print()
    print(
        f"week {week}     {mb:.1f} MB, {info['items']:,} items x {stores} stores x {codes} codes = "
        f"{info['quantities']:,} quantities"
    )
    print(
        f"result      {summary.status}; {summary.activity_rows:,} activity rows, "
        f"{summary.positions_changed:,} positions changed (tables now: {tables[0]:,} activity "
        f"rows, {tables[1]:,} positions)"
    )
    print()
    print("| stage | seconds | MB/s |")
    print("|---|---|---|")
    for name, value in stages:
        rate = f"{mb / value:.1f}" if value > 0.001 else "-"
        print(f"| {name} | {value:.2f} | {rate} |")
    print(f"| **total** | **{total:.2f}** | {mb / total:.2f} |")
    print(
        f"| total without validation | {without_validation:.2f} | {mb / without_validation:.2f} |"
    )
    print()
    rows = summary.activity_rows
    print(f"activity rows/s (apply stage)   {rows / max(apply_seconds, 1e-9):,.0f}")
    print(f"activity rows/s (end to end)    {rows / total:,.0f}")
    print(f"peak RSS                        {peak_rss_mb():.0f} MB (before: {baseline:.0f} MB)")
    checked = without_validation if exclude_validation else total
    label = "without validation" if exclude_validation else "end to end"
    verdict = "met" if checked < TARGET_SECONDS else "NOT met"
    print(f"target      {label} < {TARGET_SECONDS:.0f} s: {checked:.1f} s, {verdict}")


if __name__ == "__main__":
    main()
