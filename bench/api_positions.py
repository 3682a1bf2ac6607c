"""Benchmark: `GET /api/v1/positions/` for a partner with 149,200 positions (1,492 items x
100 stores), 8 clients at once over loopback, on PostgreSQL (its own database).

Seeds the positions once (kept for the next run), serves the project with Django's threaded
development server in a child process on 127.0.0.1 (one process, as `make run` does; a
database connection per request; its log in bench/out/), then
each client walks pages of 100 with the buyer's token: the first page, a page deep in the
set (by following `next`), and the first page with an item filter. Prints p50/p95/max per
kind of request and in all. Bounded: `--requests` in all (default 400), and a 60 s timeout
per request.

    python bench/api_positions.py [--clients 8] [--requests 400]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench_api"
ITEMS, STORES = 1492, 100


def seed() -> str:
    """The buyer's token; positions (re)made only when the count is not the expected one."""
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from smi_core.models import InventoryPosition, Item, Location
    from smi_edi.models import TradingPartner
    from smi_edi.services.partners import partner_add

    buyer = TradingPartner.objects.filter(party__code="bench-api-buyer").first()
    if buyer is None:
        partner_add(
            code="bench-api-supplier",
            name="Bench API Supplier",
            isa="ZZ:BENCHAPISUP",
            role="supplier",
            with_token=False,
        )
        buyer, _ = partner_add(code="bench-api-buyer", name="Bench API Buyer", isa="ZZ:BENCHAPIBUY")
    supplier = TradingPartner.objects.get(party__code="bench-api-supplier")
    wanted = ITEMS * STORES
    have = InventoryPosition.objects.filter(location__party=buyer.party).count()
    if have != wanted:
        from smi_core.cli_output import progress_bar

        with (
            progress_bar(sys.stderr, f"seeding {wanted:,} positions", wanted) as advance,
            transaction.atomic(),
        ):
            InventoryPosition.objects.filter(location__party=buyer.party).delete()
            Item.objects.filter(supplier=supplier.party).delete()
            Location.objects.filter(party=buyer.party).delete()
            items = Item.objects.bulk_create(
                Item(
                    supplier=supplier.party,
                    vendor_item=f"BA-{n:05d}",
                    gtin=f"{90000000000000 + n:014d}",
                    description=f"Bench item {n}",
                )
                for n in range(ITEMS)
            )
            stores = Location.objects.bulk_create(
                Location(party=buyer.party, code=f"S{n:03d}", name=f"Store {n}")
                for n in range(STORES)
            )
            pairs = [(i, s) for i in items for s in stores]
            for start in range(0, len(pairs), 5000):  # a batch at a time: the bar moves
                InventoryPosition.objects.bulk_create(
                    InventoryPosition(
                        item=item,
                        location=store,
                        on_hand=Decimal(n % 50),
                        sold_last_period=Decimal(n % 7),
                        as_of=date(2026, 11, 21),
                    )
                    for n, (item, store) in enumerate(pairs[start : start + 5000], start=start)
                )
                advance(len(pairs[start : start + 5000]))
        from django.db import connection

        with connection.cursor() as cursor:  # as a live table would be after autovacuum
            cursor.execute("VACUUM ANALYZE smi_core_inventoryposition")
    return Token.objects.get_or_create(user=buyer.api_user)[0].key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> tuple[float, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    return time.perf_counter() - started, body


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    from benchdb import setup_django

    from smi_core.cli_output import progress_bar

    url = os.environ.get("SMI_BENCH_API_DATABASE_URL") or DEFAULT_DB
    setup_django(url)
    token = seed()
    port = free_port()
    # runserver answers each request in a new thread, and a thread's kept connection outlives
    # it: with connections kept, 400 requests would exhaust PostgreSQL's 100. Close each.
    # Plain HTTP on a loopback: no redirect to HTTPS (production's default with DEBUG off).
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SSL_REDIRECT": "0",
    }
    log_path = ROOT / "bench" / "out" / "api_positions-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1/positions/"
    try:
        for _ in range(100):  # up to 10 s for the server to listen
            try:
                first_time = get(base, token)[0]
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        # A page deep in the set: follow `next` 50 times once, then ask for that URL.
        deep = base
        for _ in range(50):
            deep = get(deep, token)[1]["next"]
        kinds = {
            "first page": base,
            "page 51": deep,
            "item filter": base + "?item=BA-00042",
        }
        jobs = [list(kinds)[n % len(kinds)] for n in range(args.requests)]
        timings: dict[str, list[float]] = {k: [] for k in kinds}

        def one(kind: str) -> tuple[str, float]:
            return kind, get(kinds[kind], token)[0]

        started = time.perf_counter()
        with (
            progress_bar(sys.stderr, f"{args.clients} clients", len(jobs)) as advance,
            ThreadPoolExecutor(args.clients) as pool,
        ):
            for kind, seconds in pool.map(one, jobs):
                timings[kind].append(seconds)
                advance(1)
        wall = time.perf_counter() - started
    except OSError as exc:
        raise SystemExit(f"{exc}: the server's log is {log_path}") from None
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()

    def row(name: str, values: list[float]) -> str:
        values = sorted(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        return (
            f"| {name} | {len(values)} | {statistics.median(values):.3f} | {p95:.3f} "
            f"| {values[-1]:.3f} |"
        )

    print(
        f"\nGET /api/v1/positions/ as a buyer with {ITEMS * STORES:,} positions, "
        f"{args.clients} clients, {args.requests} requests in {wall:.1f} s "
        f"({args.requests / wall:.1f}/s); page 1 alone: {first_time:.3f} s\n"
    )
    print("| request | n | p50 s | p95 s | max s |")
    print("|---|---|---|---|---|")
    for kind, values in timings.items():
        print(row(kind, values))
    print(row("all", [v for values in timings.values() for v in values]))


if __name__ == "__main__":
    main()
