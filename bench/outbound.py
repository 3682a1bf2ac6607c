"""Benchmark: generating an outbound 856 ship notice of 10,000 items in 1,000 packs.

One shipment of 10 orders x 100 packs (SSCC-18) x 10 items, S-O-P-I: ``segments_856``
builds the body and ``write_interchange`` the interchange (best of ``--repeat`` runs);
then the interchange is validated once by each engine of ``validate`` over our maps (the
fast validator, which ``outbound_create`` runs before a document may leave, and pyx12,
the reference) and the verdicts shown. Prints one table. Target: generation < 1 s.

    python bench/outbound.py [--orders 10] [--packs 100] [--items 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 1.0


def shipment(orders: int, packs: int, items: int):
    """A Shipment856 with ``orders`` x ``packs`` x ``items`` items, quantities 1..12 with
    some fractional ones, two product ids per item."""
    from smi_edi.gs1 import sscc_make
    from smi_edi.x12.ts856 import Pack, ShipItem, Shipment856, ShipOrder

    serial = 0
    quantities = [Decimal(q) for q in ("1", "2", "3", "4.5", "6", "12", "0.25", "8", "10", "5")]
    built = []
    for o in range(orders):
        order_packs = []
        for _p in range(packs):
            serial += 1
            sscc = sscc_make(extension=0, company_prefix="0614141", serial=serial)
            order_items = tuple(
                ShipItem(
                    line_number=str(i + 1),
                    product_ids=(("VN", f"SKU-{o:02d}-{i:03d}"), ("UP", f"0{i:010d}5")),
                    quantity=quantities[i % len(quantities)],
                )
                for i in range(items)
            )
            order_packs.append(Pack(sscc=sscc, items=order_items))
        built.append(ShipOrder(f"PO{o + 1:06d}", date(2026, 11, 1), tuple(order_packs)))
    return Shipment856(
        shipment_id="SHIP000001",
        created=datetime(2026, 11, 20, 13, 45, tzinfo=UTC),
        ship_date=date(2026, 11, 20),
        estimated_delivery=date(2026, 11, 23),
        carrier_scac="ABCD",
        bill_of_lading="BOL123456",
        pro_number="PRO98765",
        ship_from=("Supplier Inc", "92", "SUP01"),
        ship_to=("Store 1", "92", "STORE01"),
        orders=tuple(built),
    )


def generate(ship) -> bytes:
    from smi_edi.x12.ts856 import segments_856
    from smi_edi.x12.writer import (
        CountingControlNumbers,
        GroupSpec,
        Party,
        TransactionSetSpec,
        write_interchange,
    )

    segments = segments_856(ship)
    return write_interchange(
        [GroupSpec("SH", "SENDER", "RECEIVER", "004010", [TransactionSetSpec("856", segments)])],
        sender=Party("ZZ", "SENDER"),
        receiver=Party("ZZ", "RECEIVER"),
        control_numbers=CountingControlNumbers(),
        now=datetime(2026, 11, 20, 14, 0, tzinfo=UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=10, help="orders in the shipment")
    parser.add_argument("--packs", type=int, default=100, help="packs per order")
    parser.add_argument("--items", type=int, default=10, help="items per pack")
    parser.add_argument("--repeat", type=int, default=3, help="generation runs (best is kept)")
    args = parser.parse_args()

    from smi_core.cli_output import progress_bar
    from smi_edi.x12.ts855 import number
    from smi_edi.x12.ts856 import hl_count, total_quantity
    from smi_edi.x12.validation import validate

    ship = shipment(args.orders, args.packs, args.items)
    items = args.orders * args.packs * args.items
    packs = args.orders * args.packs
    runs = max(1, args.repeat)
    best = None
    checks = {}
    # one step per generation run, the warm-up, and each engine's validation
    with progress_bar(
        sys.stderr, f"856 of {items:,} items in {packs:,} packs", runs + 3
    ) as advance:
        for n in range(runs):
            advance(0, description=f"generating an 856 of {items:,} items ({n + 1}/{runs})")
            start = time.perf_counter()
            data = generate(ship)
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
            advance(1)
        mb = len(data) / 1e6
        advance(0, description="warming up the validator")
        validate(data, engine="fast")  # warm-up: the compiled tables are built once per process
        advance(1)
        for engine in ("fast", "pyx12"):
            advance(0, description=f"validating {mb:.2f} MB ({engine})")
            start = time.perf_counter()
            results = validate(data, engine=engine)
            seconds = time.perf_counter() - start
            sets = [s for r in results for g in r.groups for s in g.sets]
            errors = sum(len(s.segment_errors) + len(s.set_errors) for s in sets)
            checks[engine] = (
                seconds,
                ", ".join(s.status.label for s in sets) + f" ({errors} errors)",
            )
            advance(1)

    print()
    print(f"{'step':<32} {'seconds':>9} {'MB':>7} {'MB/s':>8}  note")
    print(
        f"{'segments_856 + write_interchange':<32} {best:>9.3f} {mb:>7.2f} {mb / best:>8.1f}  "
        f"best of {args.repeat}; {hl_count(ship):,} HL, SN1 total {number(total_quantity(ship))}"
    )
    for engine, (seconds, verdict) in checks.items():
        print(
            f"{f'validate ({engine})':<32} {seconds:>9.2f} {mb:>7.2f} {mb / seconds:>8.2f}  {verdict}"
        )
    speed_up = checks["pyx12"][0] / checks["fast"][0]
    print(f"validation speed-up vs pyx12: {speed_up:.1f}x")
    met = "met" if best < TARGET_SECONDS else "NOT met"
    print(f"target: generation < {TARGET_SECONDS:g} s for {items:,} items: {met}")


if __name__ == "__main__":
    main()
