"""Apply an 852 transaction set: activity rows in bulk, then inventory positions in bulk.

Runs inside the caller's transaction (one per set), so a set applies completely or not at
all. Set-based: items and locations are loaded once into dictionaries, rows are written
with COPY on PostgreSQL (one row per segment, see ActivitySegment; bulk INSERT of a row
per quantity elsewhere), positions with one upsert per batch.
"""

from __future__ import annotations

import struct
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import DatabaseError, DataError, connection, transaction
from django.utils import timezone

from smi_core.models import (
    ActivitySegment,
    ExceptionItem,
    InventoryPosition,
    Item,
    ItemCrossReference,
    Location,
    Party,
    ProductActivity,
)
from smi_core.selectors import decimal_text
from smi_core.services.bulk import NULL, upsert
from smi_core.services.exceptions import ExceptionSpec, exception_raise, exceptions_raise_many
from smi_core.services.import_rows import gtin14
from smi_core.services.stock_ledger import stock_ledger_record_set, stock_ledger_record_stated
from smi_edi.x12.ts852 import Activity852, ActivityQuantity, LineItem, Problem, SegmentQuantities

# Activity codes that set a position field: stock levels take the latest value in the
# report, flows (sold) add up over the period.
STOCK_FIELDS = {"QA": "on_hand", "QP": "on_order", "QI": "in_transit", "QC": "committed"}
FLOW_FIELDS = {"QS": "sold_last_period"}
POSITION_FIELDS = ("on_hand", "on_order", "in_transit", "committed", "sold_last_period")
BATCH = 5000
SEGMENT_BATCH = 500  # segment rows (of up to 10 quantities) per write to the open COPY
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
    # quantities in another unit than the item's, per (item, unit): each in an exception
    bad_units: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))


def activity_apply_852(
    *,
    inbound_set,
    segments: Iterable[tuple[list[str], int]],
    buyer_partner,
    supplier: Party,
    mapper=None,
) -> ApplyOutcome:
    """Apply one set's activity. ``mapper``: what reads the segments (an
    :class:`Activity852` unless given; any mapper with ``header``, ``problems`` and
    ``quantities()`` will do, and one with ``batches()`` is read segment by segment)."""
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
    if writer.postgres:
        outcome = _apply_postgres(mapper, segments, writer, resolver, inbound_set, buyer)
    else:
        outcome = _apply_portable(mapper, segments, writer, resolver, inbound_set, buyer)
    resolver.raise_exceptions()
    _raise_unit_exceptions(outcome.bad_units, buyer=buyer, inbound_set=inbound_set)
    _raise_problem_exceptions(mapper, buyer=buyer, inbound_set=inbound_set)
    return outcome


def _apply_portable(mapper, segments, writer, resolver, inbound_set, buyer) -> ApplyOutcome:
    """Any database: quantity by quantity, the set's figures gathered in memory, rows by
    bulk INSERT, the ledger by one INSERT ... SELECT over the set's stored rows."""
    outcome = ApplyOutcome()
    figures = SetFigures()
    received = outcome.received
    bad_units = outcome.bad_units
    period_start = period_end = None
    common = None
    line = None
    item = None

    for batch in _batches(mapper, segments):
        line_now, code, qualifier, unit = batch[:4]
        if common is None:
            period_start, period_end = mapper.header.period_start, mapper.header.period_end
            if period_end is None:
                # As if read quantity by quantity: nothing after the first one was read.
                del mapper.problems[batch.problems_before :]
                mapper.problems.append(_no_period(batch.segment_number))
                break
            common = (period_start, period_end, inbound_set.pk)
            writer.start(common)
        for quantity in batch.quantities():
            if line_now is not line:
                line = line_now
                item = resolver.item(line)
            elif item is None:
                resolver.unknown_items[line.key] += 1
            location = resolver.location(qualifier, quantity.location_id)
            if item is None or location is None:
                outcome.skipped += 1
                continue
            item_id, item_unit = item
            writer.add(item_id, location, quantity)
            if code == "QR":
                received.add((item_id, location))
            if unit and unit != item_unit:
                bad_units[(item_id, unit)] += 1
                outcome.skipped += 1
                continue
            figures.add((item_id, location), code, quantity.activity_date, quantity.quantity)

    outcome.rows = writer.flush()
    outcome.period_start, outcome.period_end = period_start, period_end
    if period_end is not None and outcome.rows:
        # The point-in-time ledger: one INSERT ... SELECT over the set's activity rows.
        stock_ledger_record_set(set_id=inbound_set.pk)
        outcome.changed = _update_positions(
            figures, buyer=buyer, as_of=period_end, inbound_set=inbound_set
        )
    return outcome


def _batches(mapper, segments) -> Iterator[SegmentQuantities]:
    """The mapper's quantities segment by segment: its own ``batches()``, or the quantities
    of ``quantities()`` grouped as they come, one batch per run of quantities of the same
    segment (an 846 SDQ's pairs come one by one; PostgreSQL stores a segment as one row)."""
    if hasattr(mapper, "batches"):
        yield from mapper.batches(segments)
        return
    problems = mapper.problems
    batch: SegmentQuantities | None = None
    for q in mapper.quantities(segments):
        shared = (
            q.line,
            q.code,
            q.location_qualifier,
            q.unit,
            q.date_qualifier,
            q.activity_date,
            q.segment_number,
        )
        if batch is not None and tuple(batch[:7]) == shared:
            batch.pairs.append((q.position, q.location_id, str(q.quantity)))
            continue
        if batch is not None:
            yield batch
        batch = SegmentQuantities(
            *shared, [(q.position, q.location_id, str(q.quantity))], len(problems)
        )
    if batch is not None:
        yield batch


def _apply_postgres(mapper, segments, writer, resolver, inbound_set, buyer) -> ApplyOutcome:
    """PostgreSQL: segment by segment, each segment one row of the segment table
    (:class:`~smi_core.models.ActivitySegment`: its quantities in arrays, read one per row
    through the ProductActivity view) written in COPY's binary format straight from the
    segment's values (no object per quantity); the figures of each LIN spooled as COPY text
    too, then loaded once and merged by SQL into the stock ledger and the positions. The
    same results as :func:`_apply_portable`."""
    outcome = ApplyOutcome()
    staged = _StagedFigures()
    received = outcome.received
    bad_units = outcome.bad_units
    unknown_items = resolver.unknown_items
    by_qualifier = resolver.by_qualifier
    rows = writer.rows
    location_fields, number_fields, position_fields = (
        writer.locations,
        writer.numbers,
        writer.positions,
    )
    period_start = period_end = None
    line = None
    item = None
    item_id = item_unit = None
    started = False

    for batch in _batches(mapper, segments):
        line_now, code, qualifier, unit, date_qualifier, stamp, number, pairs, _ = batch
        if not started:
            period_start, period_end = mapper.header.period_start, mapper.header.period_end
            if period_end is None:
                # As if read quantity by quantity: nothing after the first one was read.
                del mapper.problems[batch.problems_before :]
                mapper.problems.append(_no_period(number))
                break
            writer.start((period_start, period_end, inbound_set.pk))
            started = True
        count = len(pairs)
        if line_now is not line:
            staged.end_line()
            line = line_now
            item = resolver.item(line)  # counts the first quantity of an unknown item
            if item is None:
                unknown_items[line.key] += count - 1
            else:
                item_id, item_unit = item
                staged.start_line(item_id)
        elif item is None:
            unknown_items[line.key] += count
        locations = by_qualifier.get(qualifier or "92", _NO_LOCATIONS)
        if item is None:
            for _, location_id, _ in pairs:
                if location_id not in locations:
                    resolver.location(qualifier, location_id)  # counted, or registered
            outcome.skipped += count
            continue
        found: list[int] = []
        texts: list[str] = []
        location_bytes: list[bytes] = []
        number_bytes: list[bytes] = []
        position_bytes: list[bytes] = []
        for position, location_id, text in pairs:
            location = locations.get(location_id)
            if location is None:
                location = resolver.location(qualifier, location_id)
                if location is None:
                    outcome.skipped += 1
                    continue
            location_bytes.append(location_fields.get(location) or writer.location_field(location))
            number_bytes.append(number_fields.get(text) or writer.number_field(text))
            position_bytes.append(position_fields.get(position) or writer.position_field(position))
            found.append(location)
            texts.append(text)
        if not found:
            continue
        # one row of binary COPY per segment: its fields, then three arrays
        rows.append(
            writer.segment_prefix(code, unit, date_qualifier, stamp, number, item_id)
            + _array_field(_INT8_ARRAY, location_bytes)
            + _array_field(_NUMERIC_ARRAY, number_bytes)
            + _array_field(_INT2_ARRAY, position_bytes)
        )
        writer.pending += len(found)
        if len(rows) >= SEGMENT_BATCH:
            writer.write_buffered()
        if code == "QR":
            received.update((item_id, location) for location in found)
        if unit and unit != item_unit:
            bad_units[(item_id, unit)] += len(found)
            outcome.skipped += len(found)
            continue
        staged.add(code, stamp, found, texts)

    staged.end_line()
    outcome.rows = writer.flush()
    outcome.period_start, outcome.period_end = period_start, period_end
    if period_end is None or not outcome.rows or not staged.rows:
        staged.close()
        return outcome
    with connection.cursor() as cursor:
        _bulk_settings(cursor)
        staged.load(cursor)
        if staged.fine:  # sums of more than 4 decimal places: from the stored rows
            stock_ledger_record_set(set_id=inbound_set.pk, cursor=cursor)
        else:  # the point-in-time ledger from the same figures, one INSERT ... SELECT
            stock_ledger_record_stated(
                cursor=cursor,
                stated=staged.stated,
                set_id=inbound_set.pk,
                period_start=period_start,
                period_end=period_end,
            )
    outcome.changed = _update_positions(
        staged, buyer=buyer, as_of=period_end, inbound_set=inbound_set
    )
    return outcome


_NO_LOCATIONS: dict[str, int] = {}
# Memory for the set's merge (PostgreSQL): its figures and merged positions are temporary
# tables of one row per item-location (932,000 rows, about 100 MB, for a 50 MB 852) and
# its joins hash that many rows; with the defaults (8 MB, 4 MB) both go through files.
BULK_TEMP_BUFFERS = "256MB"
BULK_WORK_MEM = "256MB"


def _bulk_settings(cursor) -> None:
    """Settings for the rest of the set's transaction: no JIT (the statements run once
    over many rows: compiling them costs more than it saves), more memory for sorts and
    hashes, and temporary buffers the size of the set's temporary tables. PostgreSQL sizes
    a session's temporary buffers when it first uses a temporary table and refuses another
    size afterwards, so where the session already used one with other settings, it keeps
    them (the savepoint undoes the refusal)."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
    try:
        with transaction.atomic():
            cursor.execute(f"SET LOCAL temp_buffers = '{BULK_TEMP_BUFFERS}'")
    except DatabaseError:
        pass


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


def _no_period(segment_number: int) -> Problem:
    return Problem(segment_number, "the set has no XQ report period; nothing was applied")


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
        # location pks by qualifier (92 the buyer's code, UL GLN, 1/9 DUNS), then id
        self.by_qualifier: dict[str, dict[str, int]] = defaultdict(dict)
        for pk, code, gln, duns in Location.objects.filter(party=buyer).values_list(
            "pk", "code", "gln", "duns"
        ):
            self.by_qualifier["92"][code] = pk
            if gln:
                self.by_qualifier["UL"][gln] = pk
            if duns:
                self.by_qualifier["1"][duns] = pk
                self.by_qualifier["9"][duns] = pk
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
        pk = self.by_qualifier.get(key[0], {}).get(location_id)
        if pk is not None:
            return pk
        if self.auto_register:
            pk = self._register_location(*key)
            self.by_qualifier[key[0]][location_id] = pk
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


# COPY's binary format (PostgreSQL parses it for less than the text of the same rows):
# a signature, then per row the field count and each field as its length and bytes.
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"
_BINARY_NULL = b"\xff\xff\xff\xff"
_ROW_START = struct.pack(">h", len(_ROW_COLUMNS))
_POSTGRES_EPOCH = date(2000, 1, 1).toordinal()
_INT2 = struct.Struct(">ih")
_INT4 = struct.Struct(">ii")
_INT8 = struct.Struct(">iq")


# The segment table's three arrays (one dimension, no NULL, the element type's OID), each
# element as its own binary field: the same bytes as a column of that type.
_SEGMENT_COLUMNS = (*_ROW_COLUMNS[:-3], "locations", "quantities", "positions")
_INT8_ARRAY = struct.pack(">iii", 1, 0, 20)
_NUMERIC_ARRAY = struct.pack(">iii", 1, 0, 1700)
_INT2_ARRAY = struct.pack(">iii", 1, 0, 21)
_ARRAY_DIMENSION = struct.Struct(">ii")  # its length, its lower bound
_LENGTH = struct.Struct(">i")


def _array_field(header: bytes, elements: list[bytes]) -> bytes:
    body = header + _ARRAY_DIMENSION.pack(len(elements), 1) + b"".join(elements)
    return _LENGTH.pack(len(body)) + body


def _date_field(value: date | None) -> bytes:
    return _BINARY_NULL if value is None else _INT4.pack(4, value.toordinal() - _POSTGRES_EPOCH)


def _text_field(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack(">i", len(data)) + data


def numeric_field(text: str) -> bytes:
    """A number (as :func:`~smi_edi.x12.ts852.quantity_text` gives it) as a binary COPY
    field of type numeric: base-10000 digits, weight, sign and display scale; the column's
    scale is applied by the server as for text."""
    sign, digits, exponent = Decimal(text).as_tuple()
    if not isinstance(exponent, int):
        raise DataError(f"{text!r} is not a finite number")
    scale = -exponent if exponent < 0 else 0
    pad = exponent % 4  # align the digits on base-10000 groups
    value = int("".join(map(str, digits))) * 10**pad
    low = (exponent - pad) // 4  # the weight of the last group
    groups: list[int] = []
    while value:
        value, group = divmod(value, 10000)
        if group or groups:
            groups.append(group)
        else:
            low += 1  # trailing zero groups are left out
    if not groups:
        body = struct.pack(">hhHh", 0, 0, 0, scale)
    else:
        weight = low + len(groups) - 1
        if not -32768 <= weight <= 32767 or scale > 16383:
            raise DataError(f"numeric field overflow: {text!r}")
        groups.reverse()
        body = struct.pack(
            f">hhHh{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, scale, *groups
        )
    return struct.pack(">i", len(body)) + body


class _RowWriter:
    """Buffers activity rows and writes them in batches.

    On PostgreSQL the rows are binary COPY rows of the segment table (:meth:`segment_prefix`
    plus the arrays of locations, quantities and positions, appended to ``rows`` by the
    caller, which counts their quantities in ``pending``; the fields met before come from
    small caches) and one COPY stays open while they stream in, so the server
    stores a batch while Python maps the next; ``pause`` ends it before any other query on
    the connection (auto-registering an item). Elsewhere, tuples by bulk INSERT.
    """

    def __init__(self):
        self.rows: list = []  # emptied in place, so a caller may hold on to it
        self.written = 0
        self.pending = 0
        self.postgres = connection.vendor == "postgresql"
        self.common: tuple = ()
        self._prefix = b""
        self._heads: dict[tuple, bytes] = {}
        self._cursor = None
        self._copy_cm = None
        self._copy = None
        # binary fields met before: a location's id, a quantity, a position
        self.locations: dict[int, bytes] = {}
        self.numbers: dict[str, bytes] = {}
        self.positions: dict[int, bytes] = {p: _INT2.pack(2, p) for p in range(11)}

    def start(self, common: tuple) -> None:
        """The values every row of the set shares: period start and end, the set's id."""
        self.common = common
        period_start, period_end, set_id = common
        self._prefix = (
            _ROW_START + _date_field(period_start) + _date_field(period_end) + _INT8.pack(8, set_id)
        )
        self._heads.clear()

    def segment_prefix(
        self,
        code: str,
        unit: str,
        date_qualifier: str,
        stamp: date | None,
        number: int,
        item_id: int,
    ) -> bytes:
        """The binary COPY fields of a segment's row before its arrays; the fields up to the
        date come from a small cache (a report repeats a few codes, units and dates)."""
        key = (code, unit, date_qualifier, stamp)
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) > 10_000:  # bounded: ZA dates may all differ
                self._heads.clear()
            head = self._heads[key] = (
                self._prefix
                + _text_field(code)
                + _text_field(unit)
                + _text_field(date_qualifier)
                + _date_field(stamp)
            )
        return head + _INT4.pack(4, number) + _INT8.pack(8, item_id)

    def location_field(self, location_id: int) -> bytes:
        field = self.locations[location_id] = _INT8.pack(8, location_id)
        return field

    def number_field(self, text: str) -> bytes:
        if len(self.numbers) > 100_000:  # a bounded cache: real reports repeat few numbers
            self.numbers.clear()
        field = self.numbers[text] = numeric_field(text)
        return field

    def position_field(self, position: int) -> bytes:
        field = self.positions[position] = _INT2.pack(2, position)
        return field

    def add(self, item_id: int, location_id: int, q: ActivityQuantity) -> None:
        """One row, as a tuple (the portable path)."""
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
            self.write_buffered()

    def pause(self) -> None:
        """Send what is buffered and end the COPY, so the connection can run other queries."""
        if self.rows:
            self.write_buffered()
        if self._copy_cm is not None:
            self._copy.write(_BINARY_TRAILER)
            self._copy_cm.__exit__(None, None, None)
            self._cursor.close()
            self._copy_cm = self._copy = self._cursor = None
            self.written += self.pending
            self.pending = 0

    def flush(self) -> int:
        self.pause()
        return self.written

    def write_buffered(self) -> None:
        rows = self.rows
        if self.postgres:
            if self._copy is None:
                self._cursor = connection.cursor()
                raw = self._cursor.cursor  # the psycopg cursor under Django's wrapper
                self._copy_cm = raw.copy(
                    f"COPY {ActivitySegment._meta.db_table} ({', '.join(_SEGMENT_COLUMNS)}) "
                    "FROM STDIN (FORMAT binary)"
                )
                self._copy = self._copy_cm.__enter__()
                self._copy.write(_BINARY_SIGNATURE)
            self._copy.write(b"".join(rows))  # segments: the caller counted their quantities
        else:
            ProductActivity.objects.bulk_create(
                [ProductActivity(**dict(zip(_ROW_COLUMNS, row, strict=True))) for row in rows],
                batch_size=BATCH,
            )
            self.written += len(rows)
        rows.clear()


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
    "received numeric",
    "seq integer",
)
_STATES_POSITION = " OR ".join(f"s.{name} IS NOT NULL" for name in POSITION_FIELDS)


class _StagedFigures:
    """The figures of a set, one LIN at a time, spooled to a temporary file as COPY text:
    per item-location each stock level it states with its ZA date, its sales and what it
    received (QR, for the stock ledger). An item-location met again in a later LIN gets a
    second row (``seq`` keeps the order); ``repeated`` says whether the rows must be merged.

    Quantities stay the text they were read as: a level is the latest one, a flow the text
    itself unless an item-location has several (then summed as ``Decimal``). ``fine``
    says a summed quantity had more than the 4 decimal places the activity table keeps (the
    ledger, which sums what the table holds, then reads the stored rows instead)."""

    def __init__(self) -> None:
        # Closed by load(), or by close() if nothing is applied.
        self.file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.rows = 0
        self.seq = 0
        self.repeated = False
        self.fine = False
        self.stated = ""  # the relation load() made
        self._items: set[int] = set()
        self._item_id = 0
        self._levels: dict[str, dict[int, str]] = {code: {} for code in STOCK_FIELDS}
        self._stamps: dict[str, dict[int, date | None]] = {code: {} for code in STOCK_FIELDS}
        self._newest: dict[str, date] = {}
        self._sold: dict[int, str] = {}
        self._received: dict[int, str] = {}
        self._active = False

    def start_line(self, item_id: int) -> None:
        self._item_id = item_id

    def add(self, code: str, stamp: date | None, locations: list[int], texts: list[str]) -> None:
        """One segment's quantities of the current LIN's item (all of one code and date)."""
        values = self._levels.get(code)
        if values is not None:
            stamps = self._stamps[code]
            key = stamp or date.min
            newest = self._newest.get(code)
            if newest is None or key >= newest:  # the latest so far for every location
                values.update(zip(locations, texts, strict=True))
                stamps.update(dict.fromkeys(locations, stamp))
                self._newest[code] = key
            else:
                for location, text in zip(locations, texts, strict=True):
                    if location not in values or key >= (stamps[location] or date.min):
                        values[location] = text
                        stamps[location] = stamp
        elif code in FLOW_FIELDS or code == "QR":
            flows = self._sold if code in FLOW_FIELDS else self._received
            if not self.fine and not "".join(texts).isdigit():
                self.fine = any(_beyond_four_places(t) for t in texts)
            given = dict(zip(locations, texts, strict=True))
            if len(given) == len(locations) and flows.keys().isdisjoint(given):
                flows.update(given)  # each location once: nothing to add up
            else:
                for location, text in zip(locations, texts, strict=True):
                    seen = flows.get(location)
                    flows[location] = text if seen is None else str(Decimal(seen) + Decimal(text))
        else:
            return
        self._active = True

    def end_line(self) -> None:
        """Spool the current LIN's figures, one line per item-location."""
        if not self._active:
            return
        self._active = False
        self.seq += 1
        item, seq, null = self._item_id, self.seq, NULL
        if item in self._items:
            self.repeated = True
        self._items.add(item)
        qa, qp, qi, qc = (self._levels[code] for code in STOCK_FIELDS)
        sa, sp, si, sc = (self._stamps[code] for code in STOCK_FIELDS)
        sold, received = self._sold, self._received
        keys = qa.keys() | qp.keys() | qi.keys() | qc.keys() | sold.keys() | received.keys()
        lines = [
            f"{item}\t{loc}\t{qa.get(loc, null)}\t{sa.get(loc) or null}\t"
            f"{qp.get(loc, null)}\t{sp.get(loc) or null}\t"
            f"{qi.get(loc, null)}\t{si.get(loc) or null}\t"
            f"{qc.get(loc, null)}\t{sc.get(loc) or null}\t"
            f"{sold.get(loc, null)}\t{received.get(loc, null)}\t{seq}\n"
            for loc in keys
        ]
        self.file.write("".join(lines))
        self.rows += len(lines)
        for values in (qa, qp, qi, qc, sa, sp, si, sc, sold, received):
            values.clear()
        self._newest.clear()

    def close(self) -> None:
        self.file.close()

    def load(self, cursor) -> str:
        """COPY the staged rows into a temporary table; return (and keep in ``stated``) the
        relation that holds one row per item-location, as the report states them."""
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
        self.stated = "_set_figures"
        if not self.repeated:
            return self.stated
        latest = ",\n".join(
            f"(array_agg({name} ORDER BY coalesce({name}_at, '-infinity'::date) DESC, seq DESC) "
            f"FILTER (WHERE {name} IS NOT NULL))[1] AS {name}"
            for name in STOCK_FIELDS.values()
        )
        flows = ", ".join(f"sum({name}) AS {name}" for name in (*FLOW_FIELDS.values(), "received"))
        cursor.execute(
            f"CREATE TEMPORARY TABLE _set_stated ON COMMIT DROP AS SELECT item_id, location_id, "
            f"{latest}, {flows} FROM _set_figures GROUP BY item_id, location_id"
        )
        cursor.execute("ANALYZE _set_stated")
        self.stated = "_set_stated"
        return self.stated

    def drop(self, cursor) -> None:
        cursor.execute("DROP TABLE _set_figures")
        if self.stated != "_set_figures":
            cursor.execute(f"DROP TABLE {self.stated}")


def _beyond_four_places(text: str) -> bool:
    exponent = Decimal(text).as_tuple().exponent
    return isinstance(exponent, int) and exponent < -4


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
WHERE {states}
"""
# Positions that exist are updated by one join (in place where PostgreSQL can, see
# smi_core 0010), new ones inserted by a plain INSERT (ON CONFLICT's speculative insertion
# cost 13.5 s instead of 8 s for 932,000 new positions): the buyer's positions lock, taken
# before the merge reads them, keeps any other writer of those positions out until commit.
_UPDATE_SQL = """
UPDATE {position} p SET {updates}, as_of = %(as_of)s, source_set_id = %(set)s,
       updated_at = %(now)s
FROM _set_positions s
WHERE NOT s.stale AND s.old_as_of IS NOT NULL
  AND p.item_id = s.item_id AND p.location_id = s.location_id
RETURNING p.item_id, p.location_id
"""
_INSERT_SQL = """
INSERT INTO {position} (item_id, location_id, {fields}, as_of, source_set_id, updated_at)
SELECT item_id, location_id, {fields}, %(as_of)s, %(set)s, %(now)s
FROM _set_positions WHERE NOT stale AND old_as_of IS NULL
RETURNING item_id, location_id
"""
# Advisory lock class of a buyer's positions (the audit chain's is 725_001): held to commit
# by whoever writes them in bulk, so two sets of one buyer merge one after the other.
POSITIONS_LOCK = 725_002


def positions_lock(buyer_ids) -> None:
    """Wait for, and hold until commit, the positions of these buyers (PostgreSQL; SQLite
    serialises writers anyway). Taken in id order, so two holders never deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for buyer_id in sorted(set(buyer_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [POSITIONS_LOCK, buyer_id])


def _update_positions_sql(
    staged: _StagedFigures, *, buyer: Party, as_of: date, inbound_set
) -> set[tuple[int, int]]:
    """Merge the loaded figures (``staged.stated``) into the positions."""
    position = InventoryPosition._meta.db_table
    params = {"as_of": as_of, "set": inbound_set.pk, "now": timezone.now()}
    fields = ", ".join(POSITION_FIELDS)
    positions_lock([buyer.pk])
    with connection.cursor() as cursor:
        cursor.execute(
            _MERGE_SQL.format(stated=staged.stated, position=position, states=_STATES_POSITION),
            params,
        )
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
        cursor.execute(_INSERT_SQL.format(position=position, fields=fields), params)
        changed.update(cursor)
        cursor.execute("DROP TABLE _set_positions")
        staged.drop(cursor)
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
