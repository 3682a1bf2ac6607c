"""Benchmark: the 852 mapping and bulk update stage on PostgreSQL.

Generates an 852 with about 1,000,000 activity quantities (2,000 items x 100 stores x 5
activity codes), then times, separately: validation (pyx12 over our maps), and the stage
that maps the set to activity rows and updates inventory positions in bulk. Uses its own
database (created if missing), so it never touches real data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smi_bench python bench/ingest_852.py [--items 2000] [--stores 100] [--skip-validation]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--skip-validation", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("SMI_BENCH_DATABASE_URL") or DEFAULT_DB
    from benchdb import setup_django

    setup_django(url)
    from django.db import connection, transaction
    from gen852 import ACTIVITY_CODES, write_852

    from smi_core.models import InventoryPosition, Item, Location, ProductActivity
    from smi_core.services.activity import activity_apply_852
    from smi_edi.models import InboundSet, Interchange
    from smi_edi.services.partners import partner_add
    from smi_edi.x12.reader import X12Reader

    print("setting up partners, items and locations ...", file=sys.stderr, flush=True)
    with transaction.atomic():
        with (
            connection.cursor() as cursor
        ):  # a clean table each run, without dead rows from the last one
            cursor.execute(
                "TRUNCATE smi_core_productactivity, smi_core_inventoryposition, smi_edi_inboundset, "
                "smi_edi_interchange RESTART IDENTITY CASCADE"
            )
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
                for i in range(1, args.items + 1)
            ]
        )
        Location.objects.bulk_create(
            [Location(party=buyer.party, code=f"S{s:04d}") for s in range(args.stores)]
        )

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"852_bench_{args.items}x{args.stores}.edi"
    info = write_852(path, items=args.items, stores=args.stores)
    print(
        f"852: {info['bytes'] / 1e6:.1f} MB, {info['items']} items, {info['quantities']} quantities",
        file=sys.stderr,
    )

    validation_seconds = None
    if not args.skip_validation:
        from smi_edi.x12.validation import validate

        print("validating (pyx12 over our maps) ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        results = validate(path)
        validation_seconds = time.perf_counter() - start
        statuses = [s.status.label for r in results for s in r.sets]
        print(f"validation verdict: {statuses}", file=sys.stderr)

    interchange = Interchange.objects.create(
        transport="cli",
        sha256="bench",
        size=info["bytes"],
        raw_file=str(path),
        sender=buyer,
        receiver=supplier,
        sender_isa=buyer.isa_key,
        receiver_isa=supplier.isa_key,
        control_number="1",
        status="accepted",
    )
    inbound_set = InboundSet.objects.create(
        interchange=interchange,
        functional_id="PD",
        group_control_number="1",
        version="004010",
        set_id="852",
        control_number="0001",
        first_segment=3,
        status="accepted",
    )
    print("mapping and applying ...", file=sys.stderr, flush=True)
    reader = X12Reader(path)
    start = time.perf_counter()
    with transaction.atomic():
        outcome = activity_apply_852(
            inbound_set=inbound_set,
            segments=(
                (e, reader.segment_number)
                for e in reader.segments()
                if reader.current_set is not None
            ),
            buyer_partner=buyer,
            supplier=supplier.party,
        )
    apply_seconds = time.perf_counter() - start

    rows = ProductActivity.objects.count()
    positions = InventoryPosition.objects.count()
    print()
    print(f"database                 {connection.vendor} ({url.rsplit('@', 1)[-1]})")
    print(
        f"file                     {info['bytes'] / 1e6:.1f} MB, {info['items']} items x {args.stores} stores x {len(ACTIVITY_CODES)} codes"
    )
    print(f"activity rows written    {outcome.rows:,} (in the table: {rows:,})")
    print(f"positions upserted       {len(outcome.changed):,} (in the table: {positions:,})")
    if validation_seconds is not None:
        print(
            f"validation               {validation_seconds:8.1f} s   {info['bytes'] / 1e6 / validation_seconds:8.2f} MB/s"
        )
    print(
        f"map + bulk update        {apply_seconds:8.1f} s   {outcome.rows / apply_seconds:10,.0f} activity rows/s   (target >= 50,000)"
    )


if __name__ == "__main__":
    main()
