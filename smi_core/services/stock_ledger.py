"""The point-in-time stock ledger (:class:`~smi_core.models.StockLevel`): written from the
activity rows of each applied 852 set by one INSERT ... SELECT, and rebuilt from all the
stored activity by replaying the sets in period order.

Per item-location and period the row holds what the report states: each stock level the
latest value in the set (by ZA date, else the last one, as the positions take it), the
flows (QS sold, QR received) summed over the set; a level the set does not state is carried
forward from the latest row on or before the period; a second set for the same period
replaces what it states. Quantities in a unit other than the item's are left out, as the
positions leave them out. The SQL runs on PostgreSQL and SQLite alike.

Each row also carries its item-location's running totals up to it (``RUNNING``): the
previous row's plus what this row adds, less the replaced row's share when a second set
restates a period. A late set's later rows are written again in period order, so theirs
follow; :func:`stock_ledger_fill_running` writes them all from the rows in one statement.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction

LEVELS = {"QA": "on_hand", "QP": "on_order", "QI": "in_transit", "QC": "committed"}
FLOWS = {"QS": "sold", "QR": "received"}

# The running totals of an item-location's rows up to and including each one (see
# StockLevel): what one row adds to each, from its period and its sold and on-hand
# figures. Quantities are summed in ten-thousandths (integers: exact in SQLite as in
# PostgreSQL, whose quantities have four decimal places).
RUNNING = {
    "run_periods": "1",
    "run_days": "{days}",
    "run_sold_periods": "CASE WHEN {sold} IS NOT NULL THEN 1 ELSE 0 END",
    "run_selling_periods": "CASE WHEN {sold} <> 0 THEN 1 ELSE 0 END",
    "run_on_hand_periods": "CASE WHEN {on_hand} IS NOT NULL THEN 1 ELSE 0 END",
    "run_in_stock_periods": "CASE WHEN {on_hand} > 0 THEN 1 ELSE 0 END",
    "run_sold": "COALESCE({sold_e4}, 0)",
    "run_stock": "CASE WHEN {on_hand} > 0 THEN {on_hand_e4} ELSE 0 END",
    "run_sold_in_stock": "CASE WHEN {on_hand} > 0 THEN COALESCE({sold_e4}, 0) ELSE 0 END",
}


def _contribution(name: str, vendor: str, *, start: str, end: str, sold: str, on_hand: str) -> str:
    """The SQL of what a row with these columns adds to the running total ``name``."""
    if vendor == "postgresql":
        days = f"({end} - {start} + 1)"
        e4 = "({} * 10000)::bigint"
    else:
        days = f"(CAST(julianday({end}) - julianday({start}) AS INTEGER) + 1)"
        e4 = "CAST(ROUND({} * 10000) AS INTEGER)"
    return RUNNING[name].format(
        days=days,
        sold=sold,
        on_hand=on_hand,
        sold_e4=e4.format(sold),
        on_hand_e4=e4.format(on_hand),
    )


# What one set states per item-location and period. Every statement reads one set, so a
# level is its latest value in the set (by ZA date, then segment and position) and a flow
# the sum of its quantities. PostgreSQL reads the set's rows by the set's index (the CTE is
# materialized so the planner cannot walk the whole item-location index for its order
# instead) and picks the level in one grouping pass; SQLite, which has no array_agg, ranks
# with a window function first.
_STATED_POSTGRES = """
WITH a AS MATERIALIZED (
    SELECT a.item_id, a.location_id, a.period_start, a.period_end, a.activity_code,
           a.quantity, a.activity_date, a.segment_number, a.position, a.source_set_id
    FROM {activity} a JOIN {item} i ON i.id = a.item_id
    WHERE a.source_set_id = %s
      AND a.activity_code IN ('QA', 'QP', 'QI', 'QC', 'QS', 'QR')
      AND (a.unit = '' OR a.unit = i.unit){only}
),
stated AS (
    SELECT a.item_id, a.location_id, a.period_end,
           MIN(a.period_start) AS period_start,
           MAX(a.source_set_id) AS source_set_id,
           {levels},
           {flows}
    FROM a
    GROUP BY a.item_id, a.location_id, a.period_end
),
"""
_STATED_SQLITE = """
WITH ranked AS (
    SELECT a.item_id, a.location_id, a.period_start, a.period_end,
           a.activity_code AS code, a.quantity, a.source_set_id,
           ROW_NUMBER() OVER (
               PARTITION BY a.item_id, a.location_id, a.period_end, a.activity_code
               ORDER BY COALESCE(a.activity_date, %s) DESC,
                        a.segment_number DESC, a.position DESC
           ) AS rn
    FROM {activity} a JOIN {item} i ON i.id = a.item_id
    WHERE a.source_set_id = %s
      AND a.activity_code IN ('QA', 'QP', 'QI', 'QC', 'QS', 'QR')
      AND (a.unit = '' OR a.unit = i.unit){only}
),
stated AS (
    SELECT item_id, location_id, period_end,
           MIN(period_start) AS period_start,
           MAX(source_set_id) AS source_set_id,
           {levels},
           {flows}
    FROM ranked
    GROUP BY item_id, location_id, period_end
),
"""
_SQL = """{placed}
v AS (
    SELECT s.item_id, s.location_id, s.period_start, s.period_end, {carried},
           CASE WHEN s.received > 0 THEN s.period_end
                WHEN prev.period_end = s.period_end AND s.received IS NULL THEN prev.last_received
                WHEN prev.period_end = s.period_end THEN
                    CASE WHEN prev.last_received < s.period_end THEN prev.last_received END
                ELSE prev.last_received END AS last_received,
           CASE WHEN prev.first_reported IS NULL OR prev.first_reported > s.period_end
                THEN s.period_end ELSE prev.first_reported END AS first_reported,
           s.source_set_id,
           prev.period_end = s.period_end AS replaces,
           prev.period_start AS prev_start, prev.period_end AS prev_end,
           prev.sold AS prev_sold, prev.on_hand AS prev_on_hand{prev_running}
    FROM {source} s
    {prev_join}
)
INSERT INTO {ledger} (item_id, location_id, period_start, period_end, {columns},
                      last_received, first_reported, source_set_id{running_columns})
SELECT v.item_id, v.location_id, v.period_start, v.period_end, {values},
       v.last_received, v.first_reported, v.source_set_id{running}
FROM v
WHERE 1 = 1
ON CONFLICT (item_id, location_id, period_end) DO UPDATE SET
    period_start = EXCLUDED.period_start, source_set_id = EXCLUDED.source_set_id,
    last_received = EXCLUDED.last_received, first_reported = EXCLUDED.first_reported, {updates}
"""


# SQLite finds each stated row's previous row (the latest on or before its period) by a
# subquery for its id, then joins it.
_PLACED = """
placed AS (
    SELECT s.*, (
        SELECT l.id FROM {ledger} l
        WHERE l.item_id = s.item_id AND l.location_id = s.location_id
          AND l.period_end <= s.period_end
        ORDER BY l.period_end DESC LIMIT 1
    ) AS prev_id
    FROM stated s
),"""


# What one set states, already gathered per item-location by the 852 apply (one row each,
# see ``stock_ledger_record_stated``): the same columns as the stated CTEs above.
_STATED_GIVEN = """
WITH stated AS (
    SELECT g.item_id, g.location_id, %s::date AS period_end, %s::date AS period_start,
           %s::bigint AS source_set_id, {levels}, {flows}
    FROM {given} g
    WHERE {stating}
),
"""


# Restricts a replayed set to the item-locations of the late set (its id the last
# parameter): a hashed subquery on PostgreSQL, an ephemeral index on SQLite.
_ONLY = """
      AND (a.item_id, a.location_id) IN (
          SELECT b.item_id, b.location_id FROM {activity} b WHERE b.source_set_id = %s)"""


def _statement(
    *,
    activity: str,
    item: str,
    ledger: str,
    vendor: str | None = None,
    restricted: bool = False,
    given: str | None = None,
    running: bool = True,
) -> str:
    vendor = vendor or connection.vendor
    if given is not None:
        names = {**LEVELS, "QS": "sold_last_period", "QR": "received"}  # the apply's names
        stated = _STATED_GIVEN.format(
            given=given,
            levels=", ".join(f"g.{names[code]} AS {name}" for code, name in LEVELS.items()),
            flows=", ".join(f"g.{names[code]} AS {name}" for code, name in FLOWS.items()),
            stating=" OR ".join(f"g.{names[code]} IS NOT NULL" for code in [*LEVELS, *FLOWS]),
        )
        levels = flows = ""
    elif vendor == "postgresql":
        stated = _STATED_POSTGRES
        levels = ",\n           ".join(
            f"(array_agg(a.quantity ORDER BY COALESCE(a.activity_date, %s) DESC, "
            f"a.segment_number DESC, a.position DESC) "
            f"FILTER (WHERE a.activity_code = '{code}'))[1] AS {name}"
            for code, name in LEVELS.items()
        )
        flows = ",\n           ".join(
            f"SUM(a.quantity) FILTER (WHERE a.activity_code = '{code}') AS {name}"
            for code, name in FLOWS.items()
        )
    else:
        stated = _STATED_SQLITE
        levels = ",\n           ".join(
            f"MAX(CASE WHEN code = '{code}' AND rn = 1 THEN quantity END) AS {name}"
            for code, name in LEVELS.items()
        )
        flows = ",\n           ".join(
            f"SUM(CASE WHEN code = '{code}' THEN quantity END) AS {name}"
            for code, name in FLOWS.items()
        )
    carried = ", ".join(
        [f"COALESCE(s.{name}, prev.{name}) AS {name}" for name in LEVELS.values()]
        + [
            f"COALESCE(s.{name}, CASE WHEN prev.period_end = s.period_end THEN prev.{name} END)"
            f" AS {name}"
            for name in FLOWS.values()
        ]
    )
    names = [*LEVELS.values(), *FLOWS.values()]
    this = {"start": "v.period_start", "end": "v.period_end", "sold": "v.sold"}
    this["on_hand"] = "v.on_hand"
    replaced = {"start": "v.prev_start", "end": "v.prev_end", "sold": "v.prev_sold"}
    replaced["on_hand"] = "v.prev_on_hand"
    totals = RUNNING if running else {}
    running_sql = "".join(
        f",\n       COALESCE(v.prev_{name}, 0) + {_contribution(name, vendor, **this)}"
        f" - CASE WHEN v.replaces THEN {_contribution(name, vendor, **replaced)} ELSE 0 END"
        for name in totals
    )
    return (stated + _SQL).format(
        # PostgreSQL reads each stated row's previous row by one lateral probe of the
        # (item, location, period_end) index, row by row whatever the statistics say (a
        # LIMIT 1 subquery cannot become a join scanning the ledger).
        placed="" if vendor == "postgresql" else _PLACED.format(ledger=ledger),
        source="stated" if vendor == "postgresql" else "placed",
        prev_join=(
            f"LEFT JOIN LATERAL (SELECT * FROM {ledger} l WHERE l.item_id = s.item_id "
            "AND l.location_id = s.location_id AND l.period_end <= s.period_end "
            "ORDER BY l.period_end DESC LIMIT 1) prev ON true"
            if vendor == "postgresql"
            else f"LEFT JOIN {ledger} prev ON prev.id = s.prev_id"
        ),
        activity=activity,
        item=item,
        only=_ONLY.format(activity=activity) if restricted else "",
        ledger=ledger,
        levels=levels,
        flows=flows,
        columns=", ".join(names),
        carried=carried,
        values=", ".join(f"v.{n}" for n in names),
        prev_running="".join(f", prev.{n} AS prev_{n}" for n in totals),
        running_columns="".join(f", {n}" for n in totals),
        running=running_sql,
        updates=", ".join(f"{n} = EXCLUDED.{n}" for n in [*names, *totals]),
    )


def _params(set_id: int, vendor: str | None = None, *, only: int | None = None) -> list:
    """The statement's parameters in the order they appear: on PostgreSQL the set (and the
    late set whose item-locations it is restricted to), then the date standing for "no ZA
    date" once per level; on SQLite that date, then the set (and the late set)."""
    restrict = [] if only is None else [only]
    if (vendor or connection.vendor) == "postgresql":
        return [set_id, *restrict, *([date.min] * len(LEVELS))]
    return [date.min, set_id, *restrict]


def _tables(models) -> dict:
    activity, item, ledger = models
    return {
        "activity": activity._meta.db_table,
        "item": item._meta.db_table,
        "ledger": ledger._meta.db_table,
        # A migration older than the running totals passes a ledger model without them.
        "running": any(f.name == "run_periods" for f in ledger._meta.get_fields()),
    }


def _default_models():
    from smi_core.models import Item, ProductActivity, StockLevel

    return ProductActivity, Item, StockLevel


@contextmanager
def _no_memoize(cursor, vendor: str | None = None):
    """On PostgreSQL, no Memoize node in front of the probes for the previous rows while
    the ledger statements run (each stated item-location is probed once, so a cache only
    costs: PostgreSQL planned one that missed every time), put back as it was after them.
    SET LOCAL: an error rolls it back with the statement's transaction."""
    if (vendor or connection.vendor) != "postgresql":
        yield
        return
    cursor.execute(
        "SELECT current_setting('enable_memoize'), set_config('enable_memoize', 'off', true)"
    )
    before = cursor.fetchone()[0]
    yield
    cursor.execute("SELECT set_config('enable_memoize', %s, true)", [before])


def stock_ledger_record_set(*, set_id: int, models=None, cursor=None) -> int:
    """Write the ledger rows of one applied set (its activity rows are already stored):
    one statement, whatever the set's size. A set that arrives late, for a period older
    than the latest row of some of its item-locations, then has the rows after it
    recomputed (:func:`_recompute_after`), so later weeks carry forward what it states.
    Returns the rows written."""
    if cursor is not None:
        return _record(cursor, set_id, models or _default_models())
    with transaction.atomic(), connection.cursor() as own:
        return _record(own, set_id, models or _default_models())


def _record(cursor, set_id: int, models) -> int:
    tables = _tables(models)
    with _no_memoize(cursor):
        cursor.execute(_statement(**tables), _params(set_id))
        written = cursor.rowcount
    _recompute_after(cursor, set_id, tables)
    return written


def stock_ledger_record_stated(
    *, cursor, stated: str, set_id: int, period_start: date, period_end: date, models=None
) -> int:
    """Write the ledger rows of one applied set from what it states per item-location,
    already gathered by the 852 apply in the relation ``stated`` (PostgreSQL; one row per
    item-location: ``on_hand``, ``on_order``, ``in_transit``, ``committed`` the latest
    level, ``sold_last_period`` and ``received`` the flows summed, NULL where the set does
    not state it), so the set's activity rows are not read back. The same rows as
    :func:`stock_ledger_record_set` where the sums are those of the stored quantities
    (quantities of at most 4 decimal places). A late set's later rows are recomputed as
    there. Returns the rows written."""
    tables = _tables(models or _default_models())
    with _no_memoize(cursor, "postgresql"):
        cursor.execute(
            _statement(**tables, vendor="postgresql", given=stated),
            [period_end, period_start, set_id],
        )
        written = cursor.rowcount
    if _has_later_rows(cursor, stated, tables["ledger"], period_end):
        _recompute_after(cursor, set_id, tables)
    return written


def _has_later_rows(cursor, stated: str, ledger: str, period_end: date) -> bool:
    """Whether some item-location ``stated`` holds has a ledger row after ``period_end``
    (the set is late for it). First whether the ledger has any row after that period at
    all, one probe of its period_end index: the usual case, a report for the newest week,
    ends there instead of probing once per item-location (4 s for 932,000). MAX, not
    ``WHERE period_end > ... LIMIT 1``: with stale statistics PostgreSQL answered that by
    scanning the whole ledger (1.2 s at a year of weekly rows); MAX is always the index's
    last entry."""
    cursor.execute(f"SELECT MAX(period_end) FROM {ledger}")
    latest = cursor.fetchone()[0]
    if latest is None or latest <= period_end:
        return False
    cursor.execute(
        f"SELECT 1 FROM {stated} s JOIN {ledger} l ON l.item_id = s.item_id "
        "AND l.location_id = s.location_id AND l.period_end > %s LIMIT 1",
        [period_end],
    )
    return cursor.fetchone() is not None


def _recompute_after(cursor, set_id: int, tables: dict[str, str]) -> int:
    """The carried-forward rows after a late set, for the item-locations it states, as
    ``stock_ledger_rebuild`` would write them: delete the rows after the set's period, then
    replay the later sets that touch those item-locations in the rebuild's order (period,
    then arrival), each one statement restricted to those item-locations. Nothing runs when
    the set is the latest for all its item-locations (one index probe per row to tell).
    Returns the sets replayed."""
    activity, ledger = tables["activity"], tables["ledger"]
    later = (
        f"FROM {activity} b JOIN {ledger} l ON l.item_id = b.item_id "
        "AND l.location_id = b.location_id AND l.period_end > b.period_end "
        "WHERE b.source_set_id = %s"
    )
    cursor.execute(f"SELECT 1 {later} LIMIT 1", [set_id])
    if cursor.fetchone() is None:
        return 0
    cursor.execute(
        f"DELETE FROM {ledger} WHERE id IN (SELECT l.id {later})",
        [set_id],
    )
    # The later sets: any activity of those item-locations after the late set's period.
    cursor.execute(
        f"SELECT a.source_set_id, MAX(a.period_end) FROM {activity} a "
        f"WHERE a.source_set_id IN ("
        f"  SELECT c.source_set_id FROM {activity} c JOIN {activity} b"
        "    ON b.item_id = c.item_id AND b.location_id = c.location_id"
        "   AND c.period_end > b.period_end"
        "  WHERE b.source_set_id = %s AND c.source_set_id <> %s) "
        "GROUP BY a.source_set_id ORDER BY 2, 1",
        [set_id, set_id],
    )
    sets = [row[0] for row in cursor.fetchall()]
    sql = _statement(**tables, restricted=True)
    with _no_memoize(cursor):
        for later_set in sets:
            cursor.execute(sql, _params(later_set, only=set_id))
    return len(sets)


def stock_ledger_rebuild(*, models=None, using_connection=None) -> dict:
    """Empty the ledger and write it again from every stored activity row, set by set in
    the order of their periods (then of arrival), so levels carry forward in date order even
    where a partner sent an older week late. Returns the sets and rows replayed."""
    from smi_core.services.partitions import activity_archived_through

    # Months archived by ``activity_partitions archive`` are in files only: their ledger
    # rows are kept (and carried forward from), the rest is written again. (A migration
    # passing its historical ``models`` runs before any archive.)
    kept_before = activity_archived_through() if models is None else None
    models = models or _default_models()
    conn = using_connection or connection
    tables = _tables(models)
    sql = _statement(**tables, vendor=conn.vendor)
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if kept_before is None:
            cursor.execute(f"DELETE FROM {tables['ledger']}")
        else:
            cursor.execute(f"DELETE FROM {tables['ledger']} WHERE period_end >= %s", [kept_before])
        cursor.execute(
            f"SELECT source_set_id, MAX(period_end) FROM {tables['activity']} "
            "GROUP BY source_set_id ORDER BY 2, 1"
        )
        sets = [row[0] for row in cursor.fetchall()]
        with _no_memoize(cursor, conn.vendor):
            for set_id in sets:
                cursor.execute(sql, _params(set_id, conn.vendor))
        cursor.execute(f"SELECT COUNT(*) FROM {tables['ledger']}")
        rows = cursor.fetchone()[0]
    return {"sets": len(sets), "rows": rows}


_FILL_RUNNING = """
UPDATE {ledger} SET {assign}
FROM (
    SELECT id, {sums}
    FROM {ledger} l
    WINDOW w AS (PARTITION BY item_id, location_id ORDER BY period_end ROWS UNBOUNDED PRECEDING)
) t
WHERE {ledger}.id = t.id
"""


def stock_ledger_fill_running(*, models=None, using_connection=None) -> int:
    """Write every row's running totals from the rows as they stand, in one statement
    (window sums per item-location in period order): what the apply keeps row by row, for
    a ledger written before the totals existed (the migration's backfill). Returns the
    rows updated."""
    conn = using_connection or connection
    ledger = _tables(models or _default_models())["ledger"]
    this = {"start": "l.period_start", "end": "l.period_end", "sold": "l.sold"}
    sums = ", ".join(
        f"SUM({_contribution(name, conn.vendor, **this, on_hand='l.on_hand')}) OVER w AS {name}"
        for name in RUNNING
    )
    sql = _FILL_RUNNING.format(
        ledger=ledger, sums=sums, assign=", ".join(f"{n} = t.{n}" for n in RUNNING)
    )
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount
