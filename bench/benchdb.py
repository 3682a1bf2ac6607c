"""Benchmarks run against a PostgreSQL database of their own, created when missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(url: str) -> None:
    """Create the database if needed, point Django at it, and migrate."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ["SMI_VAR_DIR"] = str(ROOT / "bench" / "out" / "var")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def truncate(models) -> None:
    """Empty the models' tables (TRUNCATE: no dead rows left behind), ids restarted. The
    activity is emptied in the table that stores it (PostgreSQL: the segment table under
    the ProductActivity view)."""
    from django.db import connection

    from smi_core.models import ActivitySegment, ProductActivity

    if connection.vendor == "postgresql":
        models = [ActivitySegment if m is ProductActivity else m for m in models]
    tables = ", ".join(m._meta.db_table for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def copy_activity(raw_cursor, columns: str, text: str) -> None:
    """Load activity rows (COPY text, one row per quantity, ``columns`` named) fast: into a
    temporary table, then one INSERT of the segments they make (PostgreSQL stores the
    activity one row per 852 segment; COPY into the view would insert row by row)."""
    from smi_core.models import ActivitySegment

    raw_cursor.execute(
        "CREATE TEMPORARY TABLE _bench_activity (LIKE smi_core_productactivity) ON COMMIT DROP"
    )
    with raw_cursor.copy(f"COPY _bench_activity ({columns}) FROM STDIN") as copy:
        copy.write(text)
    raw_cursor.execute(
        f"INSERT INTO {ActivitySegment._meta.db_table} (source_set_id, segment_number, "
        "period_start, period_end, item_id, activity_code, unit, date_qualifier, activity_date, "
        "locations, quantities, positions) "
        "SELECT source_set_id, segment_number, period_start, period_end, item_id, activity_code, "
        "unit, date_qualifier, activity_date, array_agg(location_id ORDER BY position), "
        "array_agg(quantity ORDER BY position), array_agg(position ORDER BY position) "
        "FROM _bench_activity GROUP BY source_set_id, segment_number, period_start, period_end, "
        "item_id, activity_code, unit, date_qualifier, activity_date"
    )
    raw_cursor.execute("DROP TABLE _bench_activity")


def vacuum_analyze(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def bench_parties(*, supplier_isa: str, buyer_isa: str):
    """The bench supplier's and buyer's parties (partners made when missing), with none
    of the supplier's items or the buyer's locations left."""
    from smi_core.models import Item, Location
    from smi_edi.services.partners import partner_add

    supplier, _ = partner_add(
        code="bench-supplier",
        name="Bench Supplier",
        isa=supplier_isa,
        role="supplier",
        with_token=False,
    )
    buyer, _ = partner_add(code="bench-buyer", name="Bench Buyer", isa=buyer_isa, with_token=False)
    Item.objects.filter(supplier=supplier.party).delete()
    Location.objects.filter(party=buyer.party).delete()
    return supplier.party, buyer.party


def bench_agreement(code: str, *, buyer, supplier, items, batch_size: int | None = None):
    """An agreement from 2026-01-01 (lead time 7 days, sigma 1) with a term per item at
    2.50, at most 400, so planning covers every item."""
    from datetime import date

    from smi_core.models import AgreementTerm, SupplyAgreement

    agreement = SupplyAgreement.objects.create(
        code=code,
        buyer=buyer,
        supplier=supplier,
        currency="USD",
        effective_from=date(2026, 1, 1),
        lead_time_days=7,
        lead_time_sigma_days=1,
    )
    AgreementTerm.objects.bulk_create(
        [
            AgreementTerm(agreement=agreement, item=i, unit_cost="2.50", max_quantity=400)
            for i in items
        ],
        batch_size=batch_size,
    )
    return agreement
