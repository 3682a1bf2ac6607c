"""The 852 activity history partitioned by month on PostgreSQL: partitions made ahead, rows
moved out of the DEFAULT partition, old months archived to files and detached.

The activity is stored in ``smi_core_activity_segment`` (one row per 852 segment, its
quantities in arrays; migration 0022), read one row per quantity through the
``smi_core_productactivity`` view. The segment table is partitioned by range of
``period_end``, one partition per calendar month (``smi_core_activity_segment_pYYYY_MM``)
and a DEFAULT partition that takes a row of any month without one, so an 852 is never
refused for a missing partition. :func:`activity_partitions_ensure` creates the months
ahead (the beat task runs it daily) and the month of every row found in the default,
moving those rows into it. :func:`activity_archive_plan` and
:func:`activity_partition_archive` write a month older than the retention to a gzip file
with its sha256 and a manifest, verify the file against the table, then detach (and drop)
the partition: never a month that the positions, the stock ledger, open shipments or
open settlements still read. SQLite keeps one plain table: every function here says so
and changes nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError

TABLE = "smi_core_activity_segment"
VIEW = "smi_core_productactivity"  # one row per quantity: what the archive files hold
DEFAULT = f"{TABLE}_default"
AHEAD_MONTHS = 3
# Planning reads the 52 weeks before its date (selectors.planning.weekly_demand): a month
# archived must end more than a year back.
MIN_RETENTION_MONTHS = 13
LOCK_TIMEOUT = "10s"  # partition DDL gives way to a running ingest and tries again later
COLUMNS = (
    "id",
    "item_id",
    "location_id",
    "period_start",
    "period_end",
    "activity_code",
    "quantity",
    "unit",
    "date_qualifier",
    "activity_date",
    "source_set_id",
    "segment_number",
    "position",
)
_BOUND = re.compile(r"FOR VALUES FROM \('([0-9-]+)'\) TO \('([0-9-]+)'\)")


class PartitionError(ApplicationError):
    """A partition operation that cannot run (wrong database, bad retention, bad archive)."""

    code = "activity_partitions"


@dataclass(frozen=True)
class Partition:
    name: str
    start: date | None  # None for the DEFAULT partition
    end: date | None  # exclusive


@dataclass
class ArchiveCandidate:
    partition: Partition
    rows: int = 0
    blockers: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def activity_is_partitioned() -> bool:
    """True on PostgreSQL once migration 0017 has run (SQLite: never)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def _require_partitioned() -> None:
    if not activity_is_partitioned():
        raise PartitionError(
            "the activity table is not partitioned here: partitions exist on PostgreSQL "
            f"only (this database is {connection.vendor}), after migration smi_core 0022"
        )


def activity_partitions() -> list[Partition]:
    """The attached partitions, months in order, the DEFAULT partition last."""
    _require_partitioned()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        found = cursor.fetchall()
    months, default = [], []
    for name, bound in found:
        match = _BOUND.search(bound)
        if match:
            months.append(
                Partition(name, date.fromisoformat(match[1]), date.fromisoformat(match[2]))
            )
        else:
            default.append(Partition(name, None, None))
    return sorted(months, key=lambda p: p.start) + default


def _default_months(cursor) -> list[date]:
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', period_end)::date FROM {DEFAULT} ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def activity_default_has_rows() -> bool:
    """Rows waiting in the DEFAULT partition (a month with no partition of its own)."""
    if not activity_is_partitioned():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT})")
        return cursor.fetchone()[0]


def activity_partitions_ensure(
    *, today: date | None = None, ahead_months: int = AHEAD_MONTHS, months: tuple[date, ...] = ()
) -> dict:
    """Create the partitions of this month and the ``ahead_months`` after it, of ``months``,
    and of every month with rows in the DEFAULT partition (moving those rows into it).
    Idempotent. Returns ``{"created": [names], "moved": rows moved out of the default}``."""
    if ahead_months < 0:
        raise PartitionError(f"ahead_months must be 0 or more, not {ahead_months}")
    _require_partitioned()
    today = today or timezone.now().date()
    wanted = {month_add(month_start(today), n) for n in range(ahead_months + 1)}
    wanted |= {month_start(m) for m in months}
    with connection.cursor() as cursor:
        wanted |= set(_default_months(cursor))
    existing = {p.start for p in activity_partitions() if p.start}
    created, moved = [], 0
    for month in sorted(wanted - existing):
        name, rows = _create_month(month)
        if name is not None:
            created.append(name)
        moved += rows
    return {"created": created, "moved": moved}


def _create_month(month: date) -> tuple[str | None, int]:
    """Make the month's partition as a plain table, move the default's rows of that month
    into it, then attach it, in one short transaction.

    ATTACH takes only SHARE UPDATE EXCLUSIVE on the parent (ingests keep writing other
    months) and checks the default holds no row of the month; the default is locked first
    so none arrives between the move and the attach. The CHECK constraint spares the attach
    a scan of the new partition. Returns the partition's name and the rows moved, or
    ``(None, 0)`` when the month has its partition already: another run (two ingests of a
    new month each queue the task) made it while this one waited for the lock."""
    start, end = month, month_add(month, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        # Checked under the lock: whoever held it before has committed its partition.
        if any(p.start == start for p in activity_partitions()):
            return None, 0
        name = _free_name(cursor, partition_name(month))
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE period_end >= %s AND period_end < %s "
            f"RETURNING *), put AS (INSERT INTO {name} SELECT * FROM moved RETURNING positions) "
            "SELECT COALESCE(SUM(cardinality(positions)), 0) FROM put",
            [start, end],
        )
        moved = cursor.fetchone()[0]  # quantities (activity rows), not segments
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_range "
            f"CHECK (period_end >= '{start}' AND period_end < '{end}')"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')"
        )
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")
    return name, moved


def _free_name(cursor, name: str) -> str:
    """``name``, or ``name_2``, ... when a table of that name exists: a month archived with
    ``--keep-detached`` whose partition is made again (a late 852 for it)."""
    candidate, n = name, 1
    while True:
        cursor.execute("SELECT to_regclass(%s)", [candidate])
        if cursor.fetchone()[0] is None:
            return candidate
        n += 1
        candidate = f"{name}_{n}"


# --- retention and archive -------------------------------------------------------------


def activity_archive_plan(*, older_than_months: int, today: date | None = None) -> list:
    """The month partitions that end ``older_than_months`` or more before this month, each
    with its row count and what keeps it (an empty list: it may be archived)."""
    if older_than_months < MIN_RETENTION_MONTHS:
        raise PartitionError(
            f"keep at least {MIN_RETENTION_MONTHS} months (planning reads 52 weeks of "
            f"history), not {older_than_months}"
        )
    _require_partitioned()
    today = today or timezone.now().date()
    cutoff = month_add(month_start(today), -older_than_months)
    shipments_from = _open_shipments_from()
    settlements_from = _open_settlements_from()
    candidates = []
    for part in activity_partitions():
        if part.start is None or part.end > cutoff:
            continue
        candidate = ArchiveCandidate(part, rows=_count(part.name))
        candidate.blockers = _blockers(part, shipments_from, settlements_from)
        candidates.append(candidate)
    return candidates


def _count(name: str) -> int:
    """The quantities (activity rows) a partition holds."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(cardinality(positions)), 0) FROM {name}")
        return cursor.fetchone()[0]


def _rows_in(part: Partition) -> str:
    """A query of a month partition's rows, one per quantity, through the view (which the
    partition bounds restrict to that partition)."""
    return f"SELECT * FROM {VIEW} WHERE period_end >= '{part.start}' AND period_end < '{part.end}'"


def _open_shipments_from() -> date | None:
    """The earliest ship date of any shipment of an item-location that has a shipment not
    yet received: the 852 receipts (QR) are allocated to those shipments from there on
    (services.shipments.shipments_receive_from_852)."""
    from smi_core.models import Shipment, ShipmentLine

    open_lines = ShipmentLine.objects.filter(pack__shipment__status=Shipment.Status.SHIPPED)
    pairs = set(open_lines.values_list("order_line__item_id", "pack__shipment__ship_to_id"))
    if not pairs:
        return None
    first = None
    for item_id, location_id, ship_date in ShipmentLine.objects.filter(
        order_line__item_id__in={i for i, _ in pairs},
        pack__shipment__ship_to_id__in={loc for _, loc in pairs},
    ).values_list("order_line__item_id", "pack__shipment__ship_to_id", "pack__shipment__ship_date"):
        if (item_id, location_id) in pairs and (first is None or ship_date < first):
            first = ship_date
    return first


def _open_settlements_from() -> date | None:
    """The earliest cycle start of a settlement not yet paid (when settlements exist)."""
    try:
        invoice = apps.get_model("smi_core", "SettlementInvoice")
    except LookupError:
        return None
    from django.db.models import Min

    return invoice.objects.exclude(status="paid").aggregate(first=Min("cycle_start"))["first"]


def _blockers(part: Partition, shipments_from, settlements_from) -> list[str]:
    from smi_core.models import InventoryPosition, Item, StockLevel

    blockers = []
    positions = InventoryPosition.objects.filter(as_of__gte=part.start, as_of__lt=part.end)
    if n := positions.count():
        blockers.append(
            f"{n} inventory position(s) are as of this month (positions_rebuild reads each "
            "item-location's newest period)"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT DISTINCT a.item_id, a.location_id, a.period_end "
            f"FROM ({_rows_in(part)}) a JOIN {Item._meta.db_table} i ON i.id = a.item_id "
            "WHERE a.activity_code IN ('QA', 'QP', 'QI', 'QC', 'QS', 'QR') "
            "AND (a.unit = '' OR a.unit = i.unit)) s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {StockLevel._meta.db_table} l "
            "WHERE l.item_id = s.item_id AND l.location_id = s.location_id "
            "AND l.period_end = s.period_end)"
        )
        missing = cursor.fetchone()[0]
    if missing:
        blockers.append(
            f"{missing} item-location period(s) are not in the stock ledger "
            "(run stock_ledger_rebuild first)"
        )
    if shipments_from is not None and part.end > shipments_from:
        blockers.append(
            f"receipts (QR) from {shipments_from} on are still allocated to open shipments"
        )
    if settlements_from is not None and part.end > settlements_from:
        blockers.append(f"an open settlement covers activity from {settlements_from} on")
    return blockers


def activity_archived_through() -> date | None:
    """The end (exclusive) of the latest archived month: older activity is in files only."""
    from smi_core.models import ActivityArchive

    last = ActivityArchive.objects.order_by("-period_to").first()
    return last.period_to if last else None


def activity_partition_archive(
    candidate: ArchiveCandidate,
    directory: Path,
    *,
    drop: bool = True,
    progress: Callable[[int], None] | None = None,
):
    """Write the partition's rows (COPY text, gzip) and a manifest to ``directory``, read
    the file back to verify its sha256, row count and quantity total against the table,
    then detach the partition and (``drop``) drop it; returns the ActivityArchive. Nothing
    is detached when the file does not verify. ``progress(rows)`` is called as rows are
    written."""
    from smi_core.models import ActivityArchive

    if not candidate.ready:
        raise PartitionError(
            f"{candidate.partition.name} is still needed: " + "; ".join(candidate.blockers)
        )
    part = candidate.partition
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    path = directory / f"{part.name}-{stamp}.tsv.gz"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # No row may change between the copy and the detach.
        cursor.execute(f"LOCK TABLE {part.name} IN SHARE MODE")
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM ({_rows_in(part)}) a")
        rows, quantity_total = cursor.fetchone()
        written = _write(cursor, part, path, progress)
        digest, size = _sha256(path)
        checked_rows, checked_total = _read_back(path)
        if (written, checked_rows, checked_total) != (rows, rows, quantity_total):
            path.unlink()
            raise PartitionError(
                f"{path.name} does not match {part.name}: table {rows} rows, {quantity_total} "
                f"units; file {checked_rows} rows, {checked_total} units. Nothing detached."
            )
        manifest = {
            "table": VIEW,
            "stored_in": TABLE,
            "partition": part.name,
            "period_end_from": str(part.start),
            "period_end_before": str(part.end),
            "file": path.name,
            "format": "PostgreSQL COPY text, gzip",
            "columns": list(COLUMNS),
            "rows": rows,
            "quantity_total": str(quantity_total),
            "sha256": digest,
            "bytes": size,
            "archived_at": timezone.now().isoformat(),
            "restore": (
                f'gunzip -c {path.name} | psql -c "\\copy {VIEW} ({", ".join(COLUMNS)}) '
                'FROM pstdin"'
            ),
        }
        _write_json(path.with_suffix("").with_suffix(".manifest.json"), manifest)
        record = ActivityArchive.objects.create(
            partition=part.name,
            period_from=part.start,
            period_to=part.end,
            path=str(path),
            sha256=digest,
            bytes=size,
            rows=rows,
            quantity_total=quantity_total,
            dropped=drop,
        )
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {part.name}")
        if drop:
            cursor.execute(f"DROP TABLE {part.name}")
    return record


def _write(cursor, part: Partition, path: Path, progress) -> int:
    rows = 0
    tmp = path.with_suffix(".part")
    with (
        gzip.open(tmp, "wb", compresslevel=6) as out,
        cursor.cursor.copy(
            f"COPY (SELECT {', '.join(COLUMNS)} FROM ({_rows_in(part)}) a "
            "ORDER BY source_set_id, segment_number, position) TO STDOUT"
        ) as copy,
    ):
        for chunk in copy:
            data = bytes(chunk)
            out.write(data)
            lines = data.count(b"\n")
            rows += lines
            if progress and lines:
                progress(lines)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    tmp.rename(path)
    return rows


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read_back(path: Path) -> tuple[int, Decimal]:
    """Rows and the sum of the quantity column, read from the archive file."""
    column = COLUMNS.index("quantity")
    rows, total = 0, Decimal(0)
    with gzip.open(path, "rt", encoding="utf-8", newline="\n") as handle:
        for line in handle:
            rows += 1
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(COLUMNS):
                raise PartitionError(
                    f"{path.name}: line {rows} has {len(fields)} fields, not {len(COLUMNS)}"
                )
            total += Decimal(fields[column])
    return rows, total


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def activity_archive_verify(record) -> list[str]:
    """Problems with an archived month's file now (an empty list: it is intact)."""
    path = Path(record.path)
    if not path.exists():
        return [f"{path} is missing"]
    digest, _ = _sha256(path)
    problems = []
    if digest != record.sha256:
        problems.append(f"{path.name}: sha256 {digest}, archived as {record.sha256}")
    try:
        rows, total = _read_back(path)
    except (PartitionError, OSError, EOFError, ArithmeticError) as exc:
        return [*problems, f"{path.name} cannot be read back: {exc}"]
    if (rows, total) != (record.rows, record.quantity_total):
        problems.append(f"{path.name}: {rows} rows, {total} units; archived {record.rows}")
    return problems


def partitions_after_positions_changed(*, item_location_pairs, source: str) -> None:
    """Registered with the ingestion hook: when an 852 put rows in the DEFAULT partition (a
    month with no partition yet), queue the task that makes the month and moves them."""
    if not activity_default_has_rows():
        return
    from smi_core.tasks import activity_partitions_ensure_task

    transaction.on_commit(lambda: activity_partitions_ensure_task.delay())
