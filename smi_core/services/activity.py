"""Apply an 852 transaction set: activity rows in bulk, then inventory positions in bulk.

Runs inside the caller's transaction (one per set), so a set applies completely or not at
all. Set-based: items and locations are loaded once into dictionaries, rows are written
with COPY on PostgreSQL (bulk INSERT elsewhere), positions with one upsert per batch.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from smi_core.models import (
    ExceptionItem,
    InventoryPosition,
    Item,
    ItemCrossReference,
    Location,
    Party,
    ProductActivity,
)
from smi_core.selectors import decimal_text
from smi_core.services.bulk import NULL, copy_text, upsert
from smi_core.services.exceptions import ExceptionSpec, exception_raise, exceptions_raise_many
from smi_core.services.import_rows import gtin14
from smi_core.services.stock_ledger import stock_ledger_record_set
from smi_edi.x12.ts852 import Activity852, ActivityQuantity, LineItem

# Activity codes that set a position field: stock levels take the latest value in the
# report, flows (sold) add up over the period.
STOCK_FIELDS = {"QA": "on_hand", "QP": "on_order", "QI": "in_transit", "QC": "committed"}
FLOW_FIELDS = {"QS": "sold_last_period"}
POSITION_FIELDS = ("on_hand", "on_order", "in_transit", "committed", "sold_last_period")
BATCH = 5000
JUMP_FACTOR = Decimal(10)
JUMP_FLOOR = Decimal(100)


@dataclass
class ApplyOutcome:
    rows: int = 0
    changed: set[tuple[int, int]] = field(default_factory=set)
    period_start: date | None = None
    period_end: date | None = None
    skipped: int = (
        0  # quantities not applied (unknown item/location, bad unit): each in an exception
    )
    received: set[tuple[int, int]] = field(default_factory=set)  # item-locations with QR rows


def activity_apply_852(
    *,
    inbound_set,
    segments: Iterable[tuple[list[str], int]],
    buyer_partner,
    supplier: Party,
    mapper=None,
) -> ApplyOutcome:
    """``mapper`` reads the set into activity quantities: an 852's (the default), or
    another report's giving the same records (``ts846.Activity846`` for an 846)."""
    buyer = buyer_partner.party
    mapper = mapper if mapper is not None else Activity852()
    writer = _RowWriter()
    resolver = _Resolver(
        buyer=buyer,
        supplier=supplier,
        auto_register=buyer_partner.auto_register,
        source_set=inbound_set,
        before_write=writer.pause,
    )
    outcome = ApplyOutcome()
    # On PostgreSQL the figures of each LIN go to a spooled file as soon as the next LIN
    # starts (memory stays flat in file size) and are merged into the positions by SQL;
    # elsewhere they are gathered for the whole set.
    staged = _StagedFigures() if writer.postgres else None
    figures = SetFigures()
    received = outcome.received
    bad_units: dict[tuple[int, str], int] = defaultdict(int)
    period_start = period_end = None
    common = None
    line = None
    item = None

    for quantity in mapper.quantities(segments):
        if common is None:
            period_start, period_end = mapper.header.period_start, mapper.header.period_end
            if period_end is None:
                mapper.problems.append(_no_period(quantity))
                break
            common = (period_start, period_end, inbound_set.pk)
            writer.start(common)
        if quantity.line is not line:
            if staged is not None:
                staged.add(figures)
            line = quantity.line
            item = resolver.item(line)
        elif item is None:
            resolver.unknown_items[line.key] += 1
        location = resolver.location(quantity.location_qualifier, quantity.location_id)
        if item is None or location is None:
            outcome.skipped += 1
            continue
        item_id, item_unit = item
        writer.add(item_id, location, quantity)
        if quantity.code == "QR":
            received.add((item_id, location))
        if quantity.unit and quantity.unit != item_unit:
            bad_units[(item_id, quantity.unit)] += 1
            outcome.skipped += 1
            continue
        figures.add((item_id, location), quantity.code, quantity.activity_date, quantity.quantity)

    outcome.rows = writer.flush()
    outcome.period_start, outcome.period_end = period_start, period_end
    if staged is not None:
        staged.add(figures)
        figures = staged
    if period_end is not None and outcome.rows:
        # The point-in-time ledger: one INSERT ... SELECT over the set's activity rows.
        stock_ledger_record_set(set_id=inbound_set.pk)
        outcome.changed = _update_positions(
            figures, buyer=buyer, as_of=period_end, inbound_set=inbound_set
        )
    resolver.raise_exceptions()
    _raise_unit_exceptions(bad_units, buyer=buyer, inbound_set=inbound_set)
    _raise_problem_exceptions(mapper, buyer=buyer, inbound_set=inbound_set)
    return outcome


class SetFigures:
    """What one report states per item-location: the latest value of each stock level it
    gives (by ZA date, else the last one), and its flows (sold) summed over the period."""

    def __init__(self) -> None:
        self.latest: dict[tuple[int, int], dict[str, tuple[date | None, Decimal]]] = defaultdict(
            dict
        )
        self.flows: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )

    def add(self, key: tuple[int, int], code: str, stamp: date | None, quantity: Decimal) -> None:
        if code in STOCK_FIELDS:
            seen = self.latest[key].get(code)
            if seen is None or (stamp or date.min) >= (seen[0] or date.min):
                self.latest[key][code] = (stamp, quantity)
        elif code in FLOW_FIELDS:
            self.flows[key][code] += quantity

    def keys(self) -> set[tuple[int, int]]:
        return set(self.latest) | set(self.flows)

    def clear(self) -> None:
        self.latest.clear()
        self.flows.clear()

    def stated(self, key: tuple[int, int]) -> dict[str, Decimal]:
        """The position fields this report states for ``key``."""
        values = {
            STOCK_FIELDS[code]: quantity for code, (_, quantity) in self.latest.get(key, {}).items()
        }
        values.update(
            {FLOW_FIELDS[code]: quantity for code, quantity in self.flows.get(key, {}).items()}
        )
        return values


def merge_position(
    current: dict | None, stated: dict[str, Decimal], *, as_of: date
) -> dict[str, Decimal]:
    """A report's figures over the position it updates: the levels it states replace the
    old ones, those it does not state are kept; sales are per period (a new period starts
    from zero, a second report for the same period replaces what it states)."""
    if current is None:
        values = dict.fromkeys(POSITION_FIELDS, Decimal(0))
    else:
        values = {f: current[f] for f in POSITION_FIELDS}
        if current["as_of"] != as_of:
            values["sold_last_period"] = Decimal(0)
    values.update(stated)
    return values


def _no_period(quantity: ActivityQuantity):
    from smi_edi.x12.ts852 import Problem

    return Problem(quantity.segment_number, "the set has no XQ report period; nothing was applied")


# -- items and locations ----------------------------------------------------------------


class _Resolver:
    """Finds items and locations from 852 ids, with every lookup table loaded once."""

    def __init__(
        self,
        *,
        buyer: Party,
        supplier: Party,
        auto_register: bool,
        source_set,
        before_write=lambda: None,
    ):
        self.before_write = before_write  # called before any INSERT (ends a running COPY)
        self.buyer, self.supplier, self.auto_register, self.source_set = (
            buyer,
            supplier,
            auto_register,
            source_set,
        )
        if connection.vendor == "postgresql":
            # The rows written refer to these items and locations with no foreign-key
            # triggers: hold them against deletion until commit, as those checks would.
            _lock_keys(Item, "supplier_id", supplier.pk)
            _lock_keys(Location, "party_id", buyer.pk)
        items = Item.objects.filter(supplier=supplier).values_list(
            "pk", "vendor_item", "gtin", "unit"
        )
        self.units = {pk: unit for pk, _, _, unit in items}
        self.by_vendor = {vendor: pk for pk, vendor, _, _ in items}
        self.by_gtin = {gtin: pk for pk, _, gtin, _ in items if gtin}
        self.by_buyer_item = dict(
            ItemCrossReference.objects.filter(buyer=buyer, item__supplier=supplier).values_list(
                "buyer_item", "item_id"
            )
        )
        self.locations: dict[tuple[str, str], int] = {}
        for pk, code, gln, duns in Location.objects.filter(party=buyer).values_list(
            "pk", "code", "gln", "duns"
        ):
            self.locations[("92", code)] = pk
            if gln:
                self.locations[("UL", gln)] = pk
            if duns:
                self.locations[("1", duns)] = pk
                self.locations[("9", duns)] = pk
        self._lines: dict[int, tuple[int, str] | None] = {}
        self.unknown_items: dict[str, int] = defaultdict(int)
        self.unknown_locations: dict[str, int] = defaultdict(int)
        self.registered: list[tuple[str, str]] = []

    def item(self, line: LineItem) -> tuple[int, str] | None:
        found = self._lines.get(id(line), False)
        if found is not False:
            if found is None:
                self.unknown_items[line.key] += 1
            return found
        pk = self._find_item(line)
        if pk is None and self.auto_register and line.ids:
            pk = self._register_item(line)
        result = (pk, self.units[pk]) if pk is not None else None
        self._lines.clear()  # one LIN at a time: keep the cache small
        self._lines[id(line)] = result
        if result is None:
            self.unknown_items[line.key] += 1
        return result

    def _find_item(self, line: LineItem) -> int | None:
        ids = line.ids
        if ids.get("IN") and ids["IN"] in self.by_buyer_item:
            return self.by_buyer_item[ids["IN"]]
        if ids.get("VN") and ids["VN"] in self.by_vendor:
            return self.by_vendor[ids["VN"]]
        gtin = line.gtin
        if gtin and gtin in self.by_gtin:
            return self.by_gtin[gtin]
        return None

    def _register_item(self, line: LineItem) -> int:
        ids = line.ids
        self.before_write()
        vendor_item = ids.get("VN") or line.gtin or next(f"{q}:{v}" for q, v in ids.items())
        gtin, gtin_note = _checked_gtin(line.gtin)
        item, _ = Item.objects.get_or_create(
            supplier=self.supplier,
            vendor_item=vendor_item[:48],
            defaults={
                "gtin": gtin,
                "needs_review": True,
                "description": f"from 852: {line.key}{gtin_note}"[:200],
            },
        )
        if ids.get("IN"):
            ItemCrossReference.objects.get_or_create(
                buyer=self.buyer, buyer_item=ids["IN"], defaults={"item": item}
            )
            self.by_buyer_item[ids["IN"]] = item.pk
        self.by_vendor[item.vendor_item] = item.pk
        if item.gtin:
            self.by_gtin[item.gtin] = item.pk
        self.units[item.pk] = item.unit
        self.registered.append(("item", f"{item.vendor_item} ({line.key})"))
        return item.pk

    def location(self, qualifier: str, location_id: str) -> int | None:
        key = (qualifier or "92", location_id)
        pk = self.locations.get(key)
        if pk is not None:
            return pk
        if self.auto_register:
            pk = self._register_location(*key)
            self.locations[key] = pk
            return pk
        self.unknown_locations[f"{key[0]}:{key[1]}"] += 1
        return None

    def _register_location(self, qualifier: str, location_id: str) -> int:
        self.before_write()
        fields = (
            {"gln": location_id}
            if qualifier == "UL"
            else {"duns": location_id}
            if qualifier in ("1", "9")
            else {}
        )
        location, _ = Location.objects.get_or_create(
            party=self.buyer, code=location_id[:48], defaults={"needs_review": True, **fields}
        )
        self.registered.append(("location", f"{qualifier}:{location_id}"))
        return location.pk

    def raise_exceptions(self) -> None:
        for key, count in self.unknown_items.items():
            exception_raise(
                kind=ExceptionItem.Kind.UNKNOWN_ITEM,
                partner=self.buyer,
                subject=key,
                message=f"{count} quantities for item {key} from {self.buyer.code} were not applied: no such item.",
                action=(
                    f"Add the item for supplier {self.supplier.code} (admin or `items_import`) with this GTIN, "
                    "vendor item or buyer item number, then reprocess the interchange."
                ),
                details={"quantities_not_applied": count},
                occurrences=count,
                source_set=self.source_set,
            )
        for key, count in self.unknown_locations.items():
            exception_raise(
                kind=ExceptionItem.Kind.UNKNOWN_LOCATION,
                partner=self.buyer,
                subject=key,
                message=f"{count} quantities for location {key} of {self.buyer.code} were not applied: no such location.",
                action="Add the location (admin) with this code, GLN or DUNS, then reprocess the interchange.",
                details={"quantities_not_applied": count},
                occurrences=count,
                source_set=self.source_set,
            )
        for what, key in self.registered:
            exception_raise(
                kind=ExceptionItem.Kind.AUTO_REGISTERED,
                partner=self.buyer,
                subject=f"{what} {key}",
                message=f"The {what} {key} was first seen in an 852 from {self.buyer.code} and created automatically.",
                action=f"Check the new {what}'s details and clear its 'needs review' flag.",
                source_set=self.source_set,
            )


def _lock_keys(model, column: str, value: int) -> None:
    """Lock ``model``'s rows where ``column`` is ``value`` FOR KEY SHARE, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {model._meta.db_table} "
            f"WHERE {column} = %s FOR KEY SHARE) AS locked",
            [value],
        )


# -- activity rows ----------------------------------------------------------------------

# The set's constants first, then what an SDQ shares, then what changes with every row:
# COPY names its columns, so the text of each line is built from a few cached pieces.
_ROW_COLUMNS = (
    "period_start",
    "period_end",
    "source_set_id",
    "activity_code",
    "unit",
    "date_qualifier",
    "activity_date",
    "segment_number",
    "item_id",
    "location_id",
    "quantity",
    "position",
)


class _RowWriter:
    """Buffers activity rows and writes them in batches.

    On PostgreSQL one COPY stays open while rows stream in, so the server stores a batch
    while Python maps the next; ``pause`` ends it before any other query on the connection
    (auto-registering an item). Elsewhere, bulk INSERTs.
    """

    def __init__(self):
        self.rows: list = []
        self.written = 0
        self.pending = 0
        self.postgres = connection.vendor == "postgresql"
        self.common: tuple = ()
        self._prefix = ""
        self._segment = None
        self._shared = ""
        self._cursor = None
        self._copy_cm = None
        self._copy = None

    def start(self, common: tuple) -> None:
        """The values every row of the set shares: period start and end, the set's id."""
        self.common = common
        self._prefix = "".join(f"{copy_text(v)}\t" for v in common)

    def add(self, item_id: int, location_id: int, q: ActivityQuantity) -> None:
        if self.postgres:
            # One line of COPY text. The quantities of one segment (an SDQ, or a ZA) share
            # code, unit, qualifier and date: their text is built once per segment, through
            # copy_text in case a partner's value holds a tab or a backslash.
            if q.segment_number != self._segment:
                self._segment = q.segment_number
                self._shared = (
                    f"{self._prefix}{copy_text(q.code)}\t{copy_text(q.unit)}\t"
                    f"{copy_text(q.date_qualifier)}\t{q.activity_date or NULL}\t"
                    f"{q.segment_number}\t"
                )
            self.rows.append(
                f"{self._shared}{item_id}\t{location_id}\t{q.quantity}\t{q.position}\n"
            )
        else:
            self.rows.append(
                (
                    *self.common,
                    q.code,
                    q.unit,
                    q.date_qualifier,
                    q.activity_date,
                    q.segment_number,
                    item_id,
                    location_id,
                    q.quantity,
                    q.position,
                )
            )
        if len(self.rows) >= BATCH:
            self._write()

    def pause(self) -> None:
        """Send what is buffered and end the COPY, so the connection can run other queries."""
        if self.rows:
            self._write()
        if self._copy_cm is not None:
            self._copy_cm.__exit__(None, None, None)
            self._cursor.close()
            self._copy_cm = self._copy = self._cursor = None
            self.written += self.pending
            self.pending = 0

    def flush(self) -> int:
        self.pause()
        return self.written

    def _write(self) -> None:
        rows, self.rows = self.rows, []
        if self.postgres:
            if self._copy is None:
                self._cursor = connection.cursor()
                raw = self._cursor.cursor  # the psycopg cursor under Django's wrapper
                self._copy_cm = raw.copy(
                    f"COPY {ProductActivity._meta.db_table} ({', '.join(_ROW_COLUMNS)}) FROM STDIN"
                )
                self._copy = self._copy_cm.__enter__()
            self._copy.write("".join(rows))
            self.pending += len(rows)
            return
        ProductActivity.objects.bulk_create(
            [ProductActivity(**dict(zip(_ROW_COLUMNS, row, strict=True))) for row in rows],
            batch_size=BATCH,
        )
        self.written += len(rows)


# -- positions --------------------------------------------------------------------------


def _update_positions(figures, *, buyer: Party, as_of: date, inbound_set) -> set[tuple[int, int]]:
    """Merge the set's figures (:class:`SetFigures`, or :class:`_StagedFigures` on
    PostgreSQL) into the positions; return the item-locations changed."""
    if isinstance(figures, _StagedFigures):
        return _update_positions_sql(figures, buyer=buyer, as_of=as_of, inbound_set=inbound_set)
    keys = figures.keys()
    if not keys:
        return set()
    existing = _existing_positions(keys)
    stale: list[tuple[int, int]] = []
    negatives: list[tuple[int, int, Decimal]] = []
    jumps: list[tuple[int, int, Decimal, Decimal]] = []
    rows: list[tuple] = []
    for key in keys:
        item_id, location_id = key
        current = existing.get(key)
        if current is not None and current["as_of"] > as_of:
            stale.append(key)
            continue
        stated = figures.stated(key)
        values = merge_position(current, stated, as_of=as_of)
        if "on_hand" in stated:
            new = values["on_hand"]
            if new < 0:
                negatives.append((item_id, location_id, new))
            elif current is not None:
                old = current["on_hand"]
                if new - old >= JUMP_FLOOR and new >= JUMP_FACTOR * max(old, Decimal(1)):
                    jumps.append((item_id, location_id, old, new))
        rows.append(
            (item_id, location_id, *(values[f] for f in POSITION_FIELDS), as_of, inbound_set.pk)
        )
    upsert_positions(rows)
    _raise_position_exceptions(
        len(stale),
        negatives,
        jumps,
        buyer=buyer,
        as_of=as_of,
        inbound_set=inbound_set,
        newest=max((existing[k]["as_of"] for k in stale), default=None),
    )
    return {(row[0], row[1]) for row in rows}


# PostgreSQL: the same merge as merge_position, as set-based SQL over the figures staged
# per LIN. A position newer than the report is kept.
_STAGED_COLUMNS = (
    "item_id bigint",
    "location_id bigint",
    *(f"{name} numeric, {name}_at date" for name in STOCK_FIELDS.values()),
    *(f"{name} numeric" for name in FLOW_FIELDS.values()),
    "seq integer",
)


class _StagedFigures:
    """The figures of a set, one LIN at a time, spooled to a temporary file as COPY text:
    per item-location each stock level it states with its ZA date, and its sales. An
    item-location met again in a later LIN gets a second row (``seq`` keeps the order);
    ``repeated`` says whether the rows must be merged."""

    def __init__(self) -> None:
        # Closed by load(), or with the object if the set stops early.
        self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.rows = 0
        self.seq = 0
        self.repeated = False
        self._items: set[int] = set()

    def add(self, figures: SetFigures) -> None:
        if not figures.latest and not figures.flows:
            return
        self.seq += 1
        seen = set()
        lines = []
        keys = figures.keys()
        for key in keys:
            item_id, location_id = key
            seen.add(item_id)
            latest = figures.latest.get(key, {})
            flows = figures.flows.get(key, {})
            values = [str(item_id), str(location_id)]
            for code in STOCK_FIELDS:
                found = latest.get(code)
                values.append(NULL if found is None else str(found[1]))
                values.append(NULL if found is None or found[0] is None else str(found[0]))
            values.extend(str(flows[c]) if c in flows else NULL for c in FLOW_FIELDS)
            values.append(str(self.seq))
            lines.append("\t".join(values) + "\n")
        if not self.repeated and not seen.isdisjoint(self._items):
            self.repeated = True
        self._items |= seen
        self.file.write("".join(lines))
        self.rows += len(lines)
        figures.clear()

    def load(self, cursor) -> str:
        """COPY the staged rows into a temporary table; return the relation that holds one
        row per item-location (stock levels and sales as the report states them)."""
        cursor.execute(
            f"CREATE TEMPORARY TABLE _set_figures ({', '.join(_STAGED_COLUMNS)}) ON COMMIT DROP"
        )
        self.file.seek(0)
        columns = [c.split()[0] for spec in _STAGED_COLUMNS for c in spec.split(", ")]
        with cursor.cursor.copy(f"COPY _set_figures ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := self.file.read(1 << 20):
                copy.write(chunk)
        self.file.close()
        cursor.execute("ANALYZE _set_figures")
        if not self.repeated:
            return "_set_figures"
        latest = ",\n".join(
            f"(array_agg({name} ORDER BY coalesce({name}_at, '-infinity'::date) DESC, seq DESC) "
            f"FILTER (WHERE {name} IS NOT NULL))[1] AS {name}"
            for name in STOCK_FIELDS.values()
        )
        flows = ", ".join(f"sum({name}) AS {name}" for name in FLOW_FIELDS.values())
        cursor.execute(
            f"CREATE TEMPORARY TABLE _set_stated ON COMMIT DROP AS SELECT item_id, location_id, "
            f"{latest}, {flows} FROM _set_figures GROUP BY item_id, location_id"
        )
        cursor.execute("ANALYZE _set_stated")
        return "_set_stated"


_MERGE_SQL = """
CREATE TEMPORARY TABLE _set_positions ON COMMIT DROP AS
SELECT s.item_id, s.location_id, s.on_hand AS on_hand_s,
       p.on_hand AS old_on_hand, p.as_of AS old_as_of,
       coalesce(p.as_of > %(as_of)s, false) AS stale,
       coalesce(s.on_hand, p.on_hand, 0) AS on_hand,
       coalesce(s.on_order, p.on_order, 0) AS on_order,
       coalesce(s.in_transit, p.in_transit, 0) AS in_transit,
       coalesce(s.committed, p.committed, 0) AS committed,
       coalesce(s.sold_last_period, CASE WHEN p.as_of = %(as_of)s THEN p.sold_last_period END, 0)
           AS sold_last_period
FROM {stated} s
LEFT JOIN {position} p ON p.item_id = s.item_id AND p.location_id = s.location_id
"""
# Positions that exist are updated by one join (in place where PostgreSQL can, see
# smi_core 0010), new ones inserted; a position another transaction inserted meanwhile is
# merged by ON CONFLICT.
_UPDATE_SQL = """
UPDATE {position} p SET {updates}, as_of = %(as_of)s, source_set_id = %(set)s,
       updated_at = %(now)s
FROM _set_positions s
WHERE NOT s.stale AND s.old_as_of IS NOT NULL
  AND p.item_id = s.item_id AND p.location_id = s.location_id
RETURNING p.item_id, p.location_id
"""
_UPSERT_SQL = """
INSERT INTO {position} (item_id, location_id, {fields}, as_of, source_set_id, updated_at)
SELECT item_id, location_id, {fields}, %(as_of)s, %(set)s, %(now)s
FROM _set_positions WHERE NOT stale AND old_as_of IS NULL
ON CONFLICT (item_id, location_id) DO UPDATE SET {assignments}
RETURNING item_id, location_id
"""


def _update_positions_sql(
    staged: _StagedFigures, *, buyer: Party, as_of: date, inbound_set
) -> set[tuple[int, int]]:
    if not staged.rows:
        return set()
    position = InventoryPosition._meta.db_table
    params = {"as_of": as_of, "set": inbound_set.pk, "now": timezone.now()}
    fields = ", ".join(POSITION_FIELDS)
    assignments = ", ".join(
        f"{c} = EXCLUDED.{c}" for c in (*POSITION_FIELDS, "as_of", "source_set_id", "updated_at")
    )
    with connection.cursor() as cursor:
        stated = staged.load(cursor)
        cursor.execute(_MERGE_SQL.format(stated=stated, position=position), params)
        cursor.execute("SELECT count(*), max(old_as_of) FROM _set_positions WHERE stale")
        stale_count, newest = cursor.fetchone()
        cursor.execute(
            "SELECT item_id, location_id, on_hand, old_on_hand FROM _set_positions "
            "WHERE NOT stale AND on_hand_s IS NOT NULL AND (on_hand_s < 0 OR ("
            "old_as_of IS NOT NULL AND on_hand_s - old_on_hand >= %s "
            "AND on_hand_s >= %s * greatest(old_on_hand, 1))) ORDER BY item_id, location_id",
            [JUMP_FLOOR, JUMP_FACTOR],
        )
        flagged = cursor.fetchall()
        updates = ", ".join(f"{c} = s.{c}" for c in POSITION_FIELDS)
        cursor.execute(_UPDATE_SQL.format(position=position, updates=updates), params)
        changed = set(cursor)  # straight from the result, without a list in between
        cursor.execute(
            _UPSERT_SQL.format(position=position, fields=fields, assignments=assignments), params
        )
        changed.update(cursor)
        cursor.execute("DROP TABLE _set_positions, _set_figures")
        if stated != "_set_figures":
            cursor.execute(f"DROP TABLE {stated}")
    negatives = [(i, loc, new) for i, loc, new, _ in flagged if new < 0]
    jumps = [(i, loc, old, new) for i, loc, new, old in flagged if new >= 0]
    _raise_position_exceptions(
        stale_count,
        negatives,
        jumps,
        buyer=buyer,
        as_of=as_of,
        inbound_set=inbound_set,
        newest=newest,
    )
    return changed


_POSITION_COLUMNS = (
    "item_id",
    "location_id",
    *POSITION_FIELDS,
    "as_of",
    "source_set_id",
    "updated_at",
)


def upsert_positions(rows: list[tuple]) -> None:
    """Insert or update positions, each row ``(item_id, location_id, on_hand, on_order,
    in_transit, committed, sold_last_period, as_of, source_set_id)``."""
    now = timezone.now()
    upsert(
        InventoryPosition,
        _POSITION_COLUMNS,
        [(*row, now) for row in rows],
        conflict=("item", "location"),
    )


def _existing_positions(keys: set[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    by_location: dict[int, list[int]] = defaultdict(list)
    for item_id, location_id in keys:
        by_location[location_id].append(item_id)
    found = {}
    location_ids = sorted(by_location)
    item_ids = sorted({i for i, _ in keys})
    for start in range(0, len(item_ids), 900):
        chunk = item_ids[start : start + 900]
        rows = InventoryPosition.objects.filter(
            item_id__in=chunk, location_id__in=location_ids
        ).values("item_id", "location_id", "as_of", *POSITION_FIELDS)
        for row in rows:
            key = (row["item_id"], row["location_id"])
            if key in keys:
                found[key] = row
    return found


def _raise_position_exceptions(
    stale: int, negatives, jumps, *, buyer, as_of, inbound_set, newest: date | None
) -> None:
    """``stale``: how many item-locations kept a position newer than the report (up to
    ``newest``); ``negatives`` and ``jumps``: the on-hand figures to look at."""
    if stale:
        exception_raise(
            kind=ExceptionItem.Kind.STALE_REPORT,
            partner=buyer,
            subject=f"set #{inbound_set.pk} period ending {as_of}",
            message=(
                f"The 852 for the period ending {as_of} is older than positions already applied "
                f"(up to {newest}) for {stale} item-locations; those positions were kept."
            ),
            action="Nothing to undo; check with the buyer whether the old report was resent by mistake.",
            details={"item_locations": stale, "newest_applied": str(newest)},
            source_set=inbound_set,
        )
    # One exception per item-location: thousands when a whole report jumps (a unit change),
    # so they are raised in bulk.
    links = {"source_set_id": inbound_set.pk}
    exceptions_raise_many(
        [
            ExceptionSpec(
                kind=ExceptionItem.Kind.NEGATIVE_ON_HAND,
                partner_id=buyer.pk,
                subject=f"item {item_id} at location {location_id}",
                message=f"The buyer reports {quantity} on hand as of {as_of}.",
                action="Ask the buyer to correct its inventory count; planning treats negative stock as zero.",
                details={"on_hand": decimal_text(quantity)},
                links={**links, "item_id": item_id, "location_id": location_id},
            )
            for item_id, location_id, quantity in negatives
        ]
        + [
            ExceptionSpec(
                kind=ExceptionItem.Kind.SUDDEN_JUMP,
                partner_id=buyer.pk,
                subject=f"item {item_id} at location {location_id}",
                message=f"On hand jumped from {old} to {new} as of {as_of}.",
                action="Check the unit of measure and the count with the buyer before planning on it.",
                details={"before": decimal_text(old), "after": decimal_text(new)},
                links={**links, "item_id": item_id, "location_id": location_id},
            )
            for item_id, location_id, old, new in jumps
        ]
    )


def _raise_unit_exceptions(bad_units, *, buyer, inbound_set) -> None:
    if not bad_units:
        return
    items = dict(Item.objects.filter(pk__in={i for i, _ in bad_units}).values_list("pk", "unit"))
    for (item_id, unit), count in bad_units.items():
        exception_raise(
            kind=ExceptionItem.Kind.UNEXPECTED_UNIT,
            partner=buyer,
            subject=f"item {item_id} in {unit}",
            message=(
                f"{count} quantities for item {item_id} came in {unit}, but the item is kept in "
                f"{items.get(item_id)}; they are stored as activity but not used for positions."
            ),
            action="Agree the unit with the buyer, or correct the item's unit and pack size, then reprocess.",
            details={"unit": unit, "item_unit": items.get(item_id), "quantities": count},
            item_id=item_id,
            occurrences=count,
            source_set=inbound_set,
        )


def _raise_problem_exceptions(mapper: Activity852, *, buyer, inbound_set) -> None:
    for problem in mapper.problems:
        exception_raise(
            kind=ExceptionItem.Kind.MAPPING_PROBLEM,
            partner=buyer,
            subject=f"set #{inbound_set.pk} segment {problem.segment_number}",
            message=problem.message,
            action="Ask the buyer to correct and resend the report.",
            source_set=inbound_set,
        )


def _checked_gtin(value: str) -> tuple[str, str]:
    """The GTIN to store for an item first seen in an 852, and a note for its description:
    a number whose check digit is wrong is not stored as a GTIN (it would match another
    product's scans); the item keeps it only in its description, for review."""
    if not value:
        return "", ""
    try:
        return gtin14(value), ""
    except ValueError as exc:
        return "", f"; not stored as GTIN: {exc}"
