# PostgreSQL: the 852 activity history becomes a table partitioned by month of period_end.
#
# Declarative partitioning (PARTITION BY RANGE (period_end)): one partition per calendar
# month, named smi_core_productactivity_pYYYY_MM, and a DEFAULT partition that takes a row
# of any month without its partition, so an ingest never fails on a missing one. The hub
# creates partitions ahead (beat task ``smi_core.activity_partitions_ensure``, command
# ``activity_partitions ensure``) and moves rows out of the default when it creates the
# month they belong to; ``activity_partitions archive`` writes old months to files and
# detaches them (docs/production.md, "Growth").
#
# The table is converted by copying: the plain table is renamed, the partitioned one made
# like it (same columns, identity continued from the old maximum), every row copied, the
# keys and index built, the old table dropped, all in the migration's transaction (the
# table is locked meanwhile: run it in a maintenance window on a large history).
# Keys on PostgreSQL: primary key (id, period_end), unique (set, segment, position,
# period_end), as a partitioned table requires the partition key in each; ids still come
# from one identity sequence, so ``id`` stays unique and Django keeps it as the primary
# key. No foreign key points at this table (nothing references an activity row), which a
# partitioned table would restrict.
#
# Reversible: migrating back to 0017 copies the rows into a plain table again. Archived
# (detached) months stay in their files and are not brought back. SQLite: nothing to do,
# the table stays a plain table.

from datetime import date

from django.db import migrations

TABLE = "smi_core_productactivity"
OLD = TABLE + "_unpartitioned"
AHEAD_MONTHS = 3


def _month(day: date) -> date:
    return day.replace(day=1)


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _partition(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _keys(cursor, table: str, *, partitioned: bool) -> None:
    pk = "id, period_end" if partitioned else "id"
    unique = "source_set_id, segment_number, position, period_end"  # both ways (0017)
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({pk})")
    cursor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT unique_activity_per_source_position UNIQUE ({unique})"
    )
    cursor.execute(
        f"CREATE INDEX activity_item_loc_period ON {table} (item_id, location_id, period_end)"
    )


def _rename_old(cursor) -> None:
    """Move the current table, its sequence, keys and index out of the way."""
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [OLD])
    sequence = cursor.fetchone()[0]
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {OLD}_id_seq")
    for name in (f"{TABLE}_pkey", "unique_activity_per_source_position"):
        cursor.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {name} TO {name}_old")
    cursor.execute("ALTER INDEX activity_item_loc_period RENAME TO activity_item_loc_period_old")


def _finish(cursor) -> None:
    """Continue the identity after the copied ids, drop the old table, name the sequence."""
    cursor.execute(f"DROP TABLE {OLD}")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    sequence = cursor.fetchone()[0]
    if sequence.rsplit(".", 1)[-1] != f"{TABLE}_id_seq":
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
    cursor.execute(
        f"SELECT setval('{TABLE}_id_seq', COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, false)"
    )


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        if cursor.fetchone()[0] == "p":
            return  # already partitioned
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT MIN(period_end), MAX(period_end) FROM {TABLE}")
        first, last = cursor.fetchone()
        _rename_old(cursor)
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING STORAGE) PARTITION BY RANGE (period_end)"
        )
        today = _month(date.today())  # noqa: DTZ011 - the server's month is close enough
        month = _month(min(first, today) if first else today)
        end = _month(max(last, today) if last else today)
        for _ in range(AHEAD_MONTHS):
            end = _next(end)
        while month <= end:
            cursor.execute(
                f"CREATE TABLE {_partition(month)} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{month}') TO ('{_next(month)}')"
            )
            month = _next(month)
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        _keys(cursor, TABLE, partitioned=True)
        _finish(cursor)
        cursor.execute(f"ANALYZE {TABLE}")


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE])
        if cursor.fetchone()[0] != "p":
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        _rename_old(cursor)
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING STORAGE)"
        )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        _keys(cursor, TABLE, partitioned=False)
        _finish(cursor)  # dropping the partitioned table drops its partitions
        cursor.execute(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("smi_core", "0017_activity_partition_key"),
    ]

    operations = [migrations.RunPython(partition, unpartition)]
