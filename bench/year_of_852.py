"""Benchmark: a year of weekly 852s ingested into the partitioned activity history.

``--weeks`` (default 52) consecutive weekly 852s of about ``--mb`` MB each (default 5:
~900 items x 100 stores x 5 activity codes, ~450,000 activity rows a week) go end to end
through the production pipeline on PostgreSQL: received (stored with its sha256),
validated, acknowledged (997) and applied (activity rows, positions, stock ledger), one
after the other, as a buyer's weekly reports arrive. Before each week the daily partition
task's work runs (``activity_partitions_ensure`` as of the week's end, timed apart), so the
rows land in their month's partition. Replenishment planning over every item-location runs
after week 4 and after the last week (``plan_replenishment``, as ``bench/plan.py``), its
proposals removed again so each plan starts alike.

Prints each week's ingest time (with a progress bar on a terminal) and its CPU time (this
process and its PostgreSQL backend, read from /proc: steadier than wall time on a shared
machine), then a table with the ratios and the targets: the last week's ingestion within 1.2 x the first's, planning at the
last week within 1.5 x planning at week 4.

    python bench/year_of_852.py [--weeks 52] [--mb 5] [--stores 100]

The activity is stored as the hub stores it on PostgreSQL: one row per 852 segment in the
month partitions of ``smi_core_activity_segment`` (migration 0022). (Until then a
``--layout plain`` run compared the per-quantity table with and without partitions; that
table no longer exists, so the option went with it.) The files are generated
one week at a time (``bench/gen852.py``, not timed) and deleted after use.
Uses its own database (``SMI_BENCH_YEAR_DATABASE_URL``, default smi_bench_year).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench_year"
INGEST_RATIO = 1.2
PLAN_RATIO = 1.5
PLAN_WEEK = 4


def clean_slate() -> None:
    """Empty what ingestion and planning write."""
    from benchdb import truncate

    from smi_core.models import (
        AgreementTerm,
        ExceptionItem,
        InventoryPosition,
        PlanRun,
        ProductActivity,
        ProposalLine,
        ReplenishmentProposal,
        SeriesForecast,
        StockLevel,
        SupplyAgreement,
    )
    from smi_edi.models import InboundSet, Interchange

    truncate(
        (
            ProductActivity,
            StockLevel,
            InventoryPosition,
            ExceptionItem,
            ProposalLine,
            ReplenishmentProposal,
            SeriesForecast,
            PlanRun,
            AgreementTerm,
            SupplyAgreement,
            InboundSet,
            Interchange,
        )
    )


def setup_world(items: int, stores: int) -> None:
    """Partners, items, stores, and an agreement with a term per item (so planning covers
    every item-location)."""
    from benchdb import bench_agreement, bench_parties, vacuum_analyze
    from django.db import transaction

    from smi_core.models import Item, Location

    with transaction.atomic():
        clean_slate()
        supplier, buyer = bench_parties(supplier_isa="ZZ:SMIHUB", buyer_isa="ZZ:DEMOBUYER")
        made = Item.objects.bulk_create(
            [
                Item(supplier=supplier, vendor_item=f"V-{i:06d}", gtin=f"{i:014d}", pack_size=6)
                for i in range(1, items + 1)
            ],
            batch_size=5000,
        )
        Location.objects.bulk_create(
            [Location(party=buyer, code=f"S{s:04d}") for s in range(stores)]
        )
        bench_agreement("bench-year", buyer=buyer, supplier=supplier, items=made, batch_size=5000)
    vacuum_analyze("smi_core_item", "smi_core_location", "smi_core_agreementterm")


class CpuClock:
    """CPU seconds of this process and of its PostgreSQL backend (read from /proc when the
    server runs on this machine): steadier than wall time on a shared machine."""

    def __init__(self, connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def __call__(self) -> float | None:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # the server is elsewhere: wall time only
        return time.process_time() + (int(fields[11]) + int(fields[12])) / self.tick


def plan(as_of) -> tuple[float, int]:
    """Plan every item-location as of ``as_of``; remove what it proposed (not timed)."""
    from smi_core.models import PlanRun, ProposalLine, ReplenishmentProposal, SeriesForecast
    from smi_core.services.planning import plan_replenishment

    start = time.perf_counter()
    result = plan_replenishment(as_of=as_of, actor="bench")
    seconds = time.perf_counter() - start
    planned = result.run.proposals
    ProposalLine.objects.all().delete()
    ReplenishmentProposal.objects.all().delete()
    SeriesForecast.objects.all().delete()
    PlanRun.objects.all().delete()
    return seconds, planned


def shown(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=52, help="weekly files (default 52)")
    parser.add_argument("--mb", type=float, default=5.0, help="size of each file (default 5)")
    parser.add_argument("--stores", type=int, default=100)
    args = parser.parse_args()
    if args.weeks < PLAN_WEEK:
        parser.error(
            f"--weeks must be at least {PLAN_WEEK} (planning is timed at week {PLAN_WEEK})"
        )

    url = os.environ.get("SMI_BENCH_YEAR_DATABASE_URL") or DEFAULT_DB
    os.environ.setdefault("SMI_LOG_LEVEL", "WARNING")  # the table, not a log line per week
    from benchdb import setup_django

    setup_django(url)
    from django.db import connection
    from gen852 import FIRST_WEEK_END, write_852

    from smi_core.cli_output import progress_bar
    from smi_core.models import ProductActivity
    from smi_core.services import hooks
    from smi_core.services.partitions import activity_is_partitioned, activity_partitions_ensure
    from smi_edi.services.interchanges import interchange_process, interchange_receive

    layout = "one row per segment, partitioned by month"
    if not activity_is_partitioned():
        raise SystemExit("the activity is not partitioned here: migrate smi_core first")
    OUT.mkdir(parents=True, exist_ok=True)
    probe = OUT / "852_year_probe.edi"
    items = write_852(probe, args.mb, stores=args.stores, seed=1, week=1)["items"]
    probe.unlink()
    print(f"setting up {items:,} items x {args.stores} stores ...", file=sys.stderr, flush=True)
    setup_world(items, args.stores)
    # Planning is timed on its own below; the partition task's work runs before each week.
    hooks._listeners[:] = [lambda *, item_location_pairs, source: None]
    cpu = CpuClock(connection)

    print(f"database    {connection.vendor} ({url.rsplit('@', 1)[-1]}), activity {layout}")
    print(
        f"852s        {args.weeks} weekly files, {items:,} items x {args.stores} stores x 5 codes"
    )
    print()
    print(
        "| week | period end | MB | activity rows | ingest s | CPU s | rows/s | partitions s "
        "| table rows |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ingest: list[float] = []
    ingest_cpu: list[float | None] = []
    planning: dict[int, tuple[float, int]] = {}
    planning_cpu: dict[int, float | None] = {}
    total_rows = 0
    with progress_bar(sys.stderr, "weekly 852s", args.weeks) as advance:
        for week in range(1, args.weeks + 1):
            end = FIRST_WEEK_END + timedelta(weeks=week - 1)
            path = OUT / f"852_year_w{week:02d}.edi"
            info = write_852(path, items=items, stores=args.stores, seed=week, week=week)
            ensured = 0.0
            if activity_is_partitioned():
                start = time.perf_counter()
                activity_partitions_ensure(today=end)
                ensured = time.perf_counter() - start
            start, start_cpu = time.perf_counter(), cpu()
            with open(path, "rb") as source:
                received = interchange_receive(
                    source=source, transport="cli", source_name=path.name, actor="bench"
                )
            summary = interchange_process(interchange_id=received.pk, actor="bench")
            seconds = time.perf_counter() - start
            used = cpu()
            ingest_cpu.append(None if used is None else used - start_cpu)
            path.unlink()
            if summary.status not in ("applied", "accepted"):
                raise SystemExit(f"week {week}: {summary.status}")
            ingest.append(seconds)
            total_rows += summary.activity_rows
            print(
                f"| {week} | {end} | {info['bytes'] / 1e6:.1f} | {summary.activity_rows:,} | "
                f"{seconds:.2f} | {shown(ingest_cpu[-1])} | {summary.activity_rows / seconds:,.0f} | "
                f"{ensured:.2f} | "
                f"{total_rows:,} |",
                flush=True,
            )
            if week in (PLAN_WEEK, args.weeks):
                advance(0, description=f"planning after week {week}")
                before = cpu()
                planning[week] = plan(end + timedelta(days=1))
                after = cpu()
                planning_cpu[week] = None if after is None else after - before
                print(
                    f"|   | planning as of {end + timedelta(days=1)}: {planning[week][0]:.1f} s, "
                    f"{planning[week][1]:,} proposals, CPU {shown(planning_cpu[week])} s |  |  |  |  |  |  |  |",
                    flush=True,
                )
            advance(1, description=f"weekly 852s (week {week}: {seconds:.1f} s)")

    assert ProductActivity.objects.count() == total_rows
    first, last = ingest[0], ingest[-1]
    plan_first, plan_last = planning[PLAN_WEEK][0], planning[args.weeks][0]
    head = statistics.median(ingest[1:4]) if len(ingest) >= 4 else first
    tail = statistics.median(ingest[-3:])
    n = args.weeks

    def verdict(ratio: float, target: float) -> str:
        return "met" if ratio <= target else "NOT met"

    print()
    print("| measure | reference | figure | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        f"| ingest, week {n} vs week 1 | {first:.2f} s | {last:.2f} s | {last / first:.2f}x | "
        f"<= {INGEST_RATIO}x: {verdict(last / first, INGEST_RATIO)} |"
    )
    print(
        f"| ingest, median weeks {n - 2}-{n} vs weeks 2-4 | {head:.2f} s | {tail:.2f} s | "
        f"{tail / head:.2f}x | (steadier view) |"
    )
    if None not in ingest_cpu:
        c_first, c_last = ingest_cpu[0], ingest_cpu[-1]
        print(
            f"| ingest CPU (client + server), week {n} vs week 1 | {c_first:.2f} s | "
            f"{c_last:.2f} s | {c_last / c_first:.2f}x | (steadier view) |"
        )
        # Week 1 only inserts: no position, no ledger row exists yet. From week 2 on every
        # report updates what the week before wrote, the steady state the year continues.
        c_head, c_tail = statistics.median(ingest_cpu[1:4]), statistics.median(ingest_cpu[-3:])
        print(
            f"| ingest CPU, median weeks {n - 2}-{n} vs weeks 2-4 (steady state) | "
            f"{c_head:.2f} s | {c_tail:.2f} s | {c_tail / c_head:.2f}x | |"
        )
    print(
        f"| planning, week {n} vs week {PLAN_WEEK} ({items * args.stores:,} item-locations) | "
        f"{plan_first:.1f} s | {plan_last:.1f} s | {plan_last / plan_first:.2f}x | "
        f"<= {PLAN_RATIO}x: {verdict(plan_last / plan_first, PLAN_RATIO)} |"
    )
    if planning_cpu[PLAN_WEEK] is not None and planning_cpu[n] is not None:
        p_first, p_last = planning_cpu[PLAN_WEEK], planning_cpu[n]
        print(
            f"| planning CPU (client + server), week {n} vs week {PLAN_WEEK} | {p_first:.1f} s | "
            f"{p_last:.1f} s | {p_last / p_first:.2f}x | (steadier view) |"
        )
    print(f"activity rows at the end: {total_rows:,} ({layout})")


if __name__ == "__main__":
    main()
