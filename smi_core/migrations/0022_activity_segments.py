# PostgreSQL: the 852 activity is stored one row per segment, read one row per quantity.
#
# Until now every quantity was a row of smi_core_productactivity with three b-tree
# entries (primary key, the unique source position, the item-location index) and an
# identity value: a 50 MB 852 (4.66 million quantities) cost the database about 29 s of
# CPU for the rows alone, more than the whole ingestion may take (issue 18: 25 s). An SDQ
# states up to 10 locations' quantities of one item, code, unit and date, so its
# quantities are stored together: smi_core_activity_segment holds one row per ZA/SDQ
# segment with the locations, quantities and positions in three arrays (466,000 rows for
# that file, about 3.5 s), partitioned by month of period_end like the table before it,
# keyed by (source set, segment number, period_end).
#
# smi_core_productactivity becomes a view that unnests them, with the columns and types
# of the table it replaces, so every reader (the ORM, the planning SQL, the ledger
# rebuild, shipments, settlement, the admin) reads one row per quantity as before. Its id
# is computed: (set id << 32) | (segment number << 4) | position, unique as long as a file
# has fewer than 2^28 segments. INSTEAD OF triggers let INSERT (ORM, COPY) and DELETE go
# through the view; rows are never updated. SQLite is unchanged: one plain table, and no
# segment table.
#
# The rows are copied in the migration's transaction, with the tables locked (run it in a
# maintenance window on a large history). Reversible: migrating back copies the rows into
# the partitioned per-quantity table of 0018 again.

from datetime import date

import django.contrib.postgres.fields
from django.db import migrations, models

VIEW = "smi_core_productactivity"
SEGMENTS = "smi_core_activity_segment"
OLD = VIEW + "_rows"
AHEAD_MONTHS = 3
ROW_COLUMNS = (
    "id, period_start, period_end, activity_code, quantity, unit, date_qualifier, "
    "activity_date, segment_number, position, item_id, location_id, source_set_id"
)

VIEW_SQL = f"""
CREATE VIEW {VIEW} AS
SELECT (s.source_set_id << 32) | (s.segment_number::bigint << 4) | u.position AS id,
       s.period_start, s.period_end, s.activity_code, u.quantity, s.unit, s.date_qualifier,
       s.activity_date, s.segment_number, u.position, s.item_id, u.location_id,
       s.source_set_id
FROM {SEGMENTS} s
CROSS JOIN LATERAL unnest(s.locations, s.quantities, s.positions)
    AS u(location_id, quantity, position)
"""

# A row inserted through the view joins its segment (same set, segment, period and
# everything the segment shares) or starts one; a position already there, or a segment
# number the set uses for something else, is refused by the key, as the table's unique
# constraint refused it.
INSERT_TRIGGER_SQL = f"""
CREATE FUNCTION {VIEW}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {SEGMENTS} SET locations = locations || NEW.location_id,
                          quantities = quantities || NEW.quantity,
                          positions = positions || NEW.position
    WHERE source_set_id = NEW.source_set_id AND segment_number = NEW.segment_number
      AND period_end = NEW.period_end AND period_start = NEW.period_start
      AND item_id = NEW.item_id AND activity_code = NEW.activity_code AND unit = NEW.unit
      AND date_qualifier = NEW.date_qualifier
      AND activity_date IS NOT DISTINCT FROM NEW.activity_date
      AND NOT NEW.position = ANY (positions);
    IF NOT FOUND THEN
        INSERT INTO {SEGMENTS} (source_set_id, segment_number, period_start, period_end,
                                item_id, activity_code, unit, date_qualifier, activity_date,
                                locations, quantities, positions)
        VALUES (NEW.source_set_id, NEW.segment_number, NEW.period_start, NEW.period_end,
                NEW.item_id, NEW.activity_code, NEW.unit, NEW.date_qualifier,
                NEW.activity_date, ARRAY[NEW.location_id], ARRAY[NEW.quantity],
                ARRAY[NEW.position]);
    END IF;
    NEW.id := (NEW.source_set_id << 32) | (NEW.segment_number::bigint << 4) | NEW.position;
    RETURN NEW;
END $$;
CREATE TRIGGER {VIEW}_insert INSTEAD OF INSERT ON {VIEW}
    FOR EACH ROW EXECUTE FUNCTION {VIEW}_insert();
"""

DELETE_TRIGGER_SQL = f"""
CREATE FUNCTION {VIEW}_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {SEGMENTS}
    WHERE source_set_id = OLD.source_set_id AND segment_number = OLD.segment_number
      AND period_end = OLD.period_end AND positions = ARRAY[OLD.position];
    IF NOT FOUND THEN
        UPDATE {SEGMENTS} s
        SET (locations, quantities, positions) = (
            SELECT array_agg(u.l ORDER BY u.n), array_agg(u.q ORDER BY u.n),
                   array_agg(u.p ORDER BY u.n)
            FROM unnest(s.locations, s.quantities, s.positions) WITH ORDINALITY
                AS u(l, q, p, n)
            WHERE u.p <> OLD.position)
        WHERE source_set_id = OLD.source_set_id AND segment_number = OLD.segment_number
          AND period_end = OLD.period_end AND OLD.position = ANY (positions);
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER {VIEW}_delete INSTEAD OF DELETE ON {VIEW}
    FOR EACH ROW EXECUTE FUNCTION {VIEW}_delete();
"""

DROP_VIEW_SQL = f"""
DROP VIEW {VIEW};
DROP FUNCTION {VIEW}_insert();
DROP FUNCTION {VIEW}_delete();
"""


def _month(day: date) -> date:
    return day.replace(day=1)


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _partitions(cursor, table: str, first: date | None, last: date | None) -> None:
    """Monthly partitions from the first month with rows (or this one) to three months
    ahead of the last (or this one), and the DEFAULT partition."""
    today = _month(date.today())  # noqa: DTZ011 - the server's month is close enough
    month = _month(min(first, today) if first else today)
    end = _month(max(last, today) if last else today)
    for _ in range(AHEAD_MONTHS):
        end = _next(end)
    while month <= end:
        cursor.execute(
            f"CREATE TABLE {table}_p{month:%Y_%m} PARTITION OF {table} "
            f"FOR VALUES FROM ('{month}') TO ('{_next(month)}')"
        )
        month = _next(month)
    cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")


def _relkind(cursor, name: str) -> str | None:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    return row[0] if row else None


def to_segments(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor, VIEW) == "v":
            return
        cursor.execute(f"LOCK TABLE {VIEW} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT MIN(period_end), MAX(period_end) FROM {VIEW}")
        first, last = cursor.fetchone()
        cursor.execute(
            f"CREATE TABLE {SEGMENTS} ("
            "source_set_id bigint NOT NULL, segment_number integer NOT NULL, "
            "period_start date NOT NULL, period_end date NOT NULL, item_id bigint NOT NULL, "
            "activity_code varchar(3) NOT NULL, unit varchar(2) NOT NULL, "
            "date_qualifier varchar(3) NOT NULL, activity_date date, "
            "locations bigint[] NOT NULL, quantities numeric(18, 4)[] NOT NULL, "
            "positions smallint[] NOT NULL"
            ") PARTITION BY RANGE (period_end)"
        )
        _partitions(cursor, SEGMENTS, first, last)
        cursor.execute(
            f"INSERT INTO {SEGMENTS} SELECT source_set_id, segment_number, period_start, "
            "period_end, item_id, activity_code, unit, date_qualifier, activity_date, "
            "array_agg(location_id ORDER BY position), array_agg(quantity ORDER BY position), "
            f"array_agg(position ORDER BY position) FROM {VIEW} "
            "GROUP BY source_set_id, segment_number, period_start, period_end, item_id, "
            "activity_code, unit, date_qualifier, activity_date"
        )
        cursor.execute(
            f"ALTER TABLE {SEGMENTS} ADD CONSTRAINT activity_segment_per_source "
            "PRIMARY KEY (source_set_id, segment_number, period_end)"
        )
        cursor.execute(
            f"CREATE INDEX activity_segment_item_period ON {SEGMENTS} (item_id, period_end)"
        )
        cursor.execute(f"DROP TABLE {VIEW}")  # with its partitions and identity sequence
        cursor.execute(VIEW_SQL)
        cursor.execute(INSERT_TRIGGER_SQL)
        cursor.execute(DELETE_TRIGGER_SQL)
        cursor.execute(f"ANALYZE {SEGMENTS}")


def to_rows(apps, schema_editor) -> None:
    """Back to 0018's table: partitioned by month, one row per quantity, ids renumbered."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _relkind(cursor, VIEW) != "v":
            return
        cursor.execute(f"LOCK TABLE {SEGMENTS} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT MIN(period_end), MAX(period_end) FROM {SEGMENTS}")
        first, last = cursor.fetchone()
        cursor.execute(
            f"CREATE TABLE {OLD} (id bigint GENERATED BY DEFAULT AS IDENTITY, "
            "period_start date NOT NULL, period_end date NOT NULL, "
            "activity_code varchar(3) NOT NULL, quantity numeric(18, 4) NOT NULL, "
            "unit varchar(2) NOT NULL, date_qualifier varchar(3) NOT NULL, "
            "activity_date date, segment_number integer NOT NULL "
            f"CONSTRAINT {VIEW}_segment_number_check CHECK (segment_number >= 0), "
            f"position smallint NOT NULL CONSTRAINT {VIEW}_position_check CHECK (position >= 0), "
            "item_id bigint NOT NULL, "
            "location_id bigint NOT NULL, source_set_id bigint NOT NULL"
            ") PARTITION BY RANGE (period_end)"
        )
        _partitions(cursor, OLD, first, last)
        columns = ROW_COLUMNS.removeprefix("id, ")
        cursor.execute(
            f"INSERT INTO {OLD} ({columns}) SELECT {columns} FROM {VIEW} "
            "ORDER BY period_end, source_set_id, segment_number, position"
        )
        cursor.execute(DROP_VIEW_SQL)
        cursor.execute(f"DROP TABLE {SEGMENTS}")
        cursor.execute(f"ALTER TABLE {OLD} RENAME TO {VIEW}")
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [VIEW],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {name} RENAME TO {VIEW}{name.removeprefix(OLD)}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [VIEW])
        cursor.execute(f"ALTER SEQUENCE {cursor.fetchone()[0]} RENAME TO {VIEW}_id_seq")
        cursor.execute(
            f"ALTER TABLE {VIEW} ADD CONSTRAINT {VIEW}_pkey PRIMARY KEY (id, period_end)"
        )
        cursor.execute(
            f"ALTER TABLE {VIEW} ADD CONSTRAINT unique_activity_per_source_position "
            "UNIQUE (source_set_id, segment_number, position, period_end)"
        )
        cursor.execute(
            f"CREATE INDEX activity_item_loc_period ON {VIEW} (item_id, location_id, period_end)"
        )
        cursor.execute(f"ANALYZE {VIEW}")


class Migration(migrations.Migration):
    dependencies = [
        ("smi_core", "0021_agreement_settlement_po_number"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ActivitySegment",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "source_set_id",
                                "segment_number",
                                "period_end",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("source_set_id", models.BigIntegerField()),
                        (
                            "segment_number",
                            models.IntegerField(
                                help_text="Segment (ZA or SDQ) in the file, ISA = 1."
                            ),
                        ),
                        ("period_start", models.DateField()),
                        ("period_end", models.DateField()),
                        ("item_id", models.BigIntegerField()),
                        ("activity_code", models.CharField(max_length=3)),
                        ("unit", models.CharField(max_length=2)),
                        ("date_qualifier", models.CharField(blank=True, max_length=3)),
                        ("activity_date", models.DateField(blank=True, null=True)),
                        (
                            "locations",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.BigIntegerField(), size=None
                            ),
                        ),
                        (
                            "quantities",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.DecimalField(decimal_places=4, max_digits=18),
                                size=None,
                            ),
                        ),
                        (
                            "positions",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.SmallIntegerField(), size=None
                            ),
                        ),
                    ],
                    options={"db_table": "smi_core_activity_segment"},
                ),
            ],
            database_operations=[migrations.RunPython(to_segments, to_rows)],
        ),
    ]
