"""How the inventory performs, from the 852 history: turnover, DIO, inventory-to-sales,
weeks of supply and GMROI per supplier and overall; working capital released against a
baseline period; fill rate, in-stock % and stockouts; the supplier scorecard from orders
and shipments; and continuity (how long the buyer's stock lasts if a supplier stops).

Per period the 852 gives, for each item and location, units sold (QS) and on hand at the
period end (QA). COGS = units sold * unit cost; average inventory = the mean over the
periods of the on-hand value; all converted to the reporting currency at the rate on the
period's last day. A period with nothing on hand at its end is a stockout; the sales it
lost are estimated at the series' average sales in periods with stock.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from smi_core.finance.formulas import (
    fill_rate,
    gmroi,
    inventory_to_sales,
    money,
    ratio,
    turnover,
    weeks_of_supply,
    working_capital_released,
)
from smi_core.models import (
    Location,
    ProposalLine,
    ReplenishmentProposal,
    SeriesForecast,
    ShipmentLine,
    StockLevel,
)
from smi_core.selectors.finance.base import (
    CHUNK,
    ZERO,
    AgedRateBook,
    CostedPosition,
    Filters,
    FinanceScope,
    costed_positions,
    data_age,
    distinct_rates,
    reporting_currency,
    stale_after_days,
    stale_partners,
)

ONE = Decimal(1)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


DIO_RULE = (
    "periods whose end falls in the window, each item-location over the days its own "
    "periods cover (period start to end); DIO = average inventory / COGS per day covered; "
    "turnover = COGS / average inventory over those periods; annualised x 365 / days covered"
)


@dataclass
class _Totals:
    cogs: Decimal = ZERO
    cogs_per_day: Decimal = ZERO
    units_per_day: Decimal = ZERO
    average_inventory: Decimal = ZERO
    ending_inventory: Decimal = ZERO
    margin: Decimal = ZERO
    margin_known: bool = True
    no_price: set = field(default_factory=set)
    units_sold: Decimal = ZERO
    inventory_by_period: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    on_hand_units: Decimal = ZERO
    in_transit_units: Decimal = ZERO
    spans: set = field(default_factory=set)  # (start, end) of each period with data
    rates: set = field(default_factory=set)  # each Rate used

    def rate_list(self) -> list[dict]:
        return distinct_rates([r.as_dict() for r in self.rates if r.date is not None])

    def days_covered(self) -> Decimal:
        """COGS / COGS per day: the days every item-location's periods cover when they all
        cover the same ones; else those days weighted by each one's COGS."""
        if self.cogs_per_day:
            return self.cogs / self.cogs_per_day
        days: set[date] = set()
        for start, end in self.spans:
            days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
        return Decimal(len(days))

    def figures(self, days: int) -> dict:
        average = money(self.average_inventory)
        ending = self.ending_inventory
        covered = self.days_covered()
        # Sales at the terms' net selling price where every item sold has one, else at cost.
        sales = self.cogs + self.margin if self.margin_known else self.cogs
        dio = ratio(average / self.cogs_per_day) if self.cogs_per_day and self.cogs > 0 else None
        period_turnover = turnover(cogs=self.cogs, average_inventory=average)
        annual = ratio(self.cogs_per_day * 365 / average) if average and self.cogs_per_day else None
        gmroi_value = (
            gmroi(gross_margin=self.margin, average_inventory=average)
            if self.margin_known
            else None
        )
        if not self.margin_known:
            gmroi_reason = (
                "no net selling price for " + ", ".join(sorted(self.no_price)) + " in the terms"
            )
        elif gmroi_value is None:
            gmroi_reason = "no inventory on hand in the periods"
        else:
            gmroi_reason = None
        return {
            "cogs": str(money(self.cogs)),
            "average_inventory": str(average),
            "ending_inventory": str(money(ending)),
            "units_sold": str(self.units_sold),
            "turnover": _text(period_turnover),
            "turnover_annualised": _text(annual),
            "dio_days": _text(dio),
            "days_covered": str(ratio(covered)),
            "calendar_days": days,
            "dio_rule": DIO_RULE,
            "inventory_to_sales": _text(inventory_to_sales(ending_inventory=ending, sales=sales)),
            "sales": str(money(sales)),
            "sales_basis": "net selling price" if self.margin_known else "cost (COGS)",
            "weeks_of_supply": _text(
                weeks_of_supply(
                    on_hand=self.on_hand_units,
                    in_transit=self.in_transit_units,
                    average_weekly_units=self.units_per_day * 7,
                )
            ),
            "gmroi": _text(gmroi_value),
            "gmroi_reason": gmroi_reason,
            "rates": self.rate_list(),
            "inventory_by_period": [
                {"period_end": day.isoformat(), "value": str(money(value))}
                for day, value in sorted(self.inventory_by_period.items())
            ],
        }


def _history(
    rows: list[CostedPosition], start: date, end: date
) -> dict[tuple[int, int], list[tuple]]:
    """Per item-location its ledger periods ending in [start, end]: (period start, period
    end, units sold or None, on hand or None), in date order."""
    keys = {(r.position.item_id, r.position.location_id) for r in rows}
    items = {i for i, _ in keys}
    qs = StockLevel.objects.filter(period_end__gte=start, period_end__lte=end)
    if len(items) <= CHUNK:
        qs = qs.filter(item_id__in=items)
    per_key: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for item_id, location_id, *values in qs.values_list(
        "item_id", "location_id", "period_start", "period_end", "sold", "on_hand"
    ).order_by("period_end"):
        if (item_id, location_id) in keys:
            per_key[(item_id, location_id)].append(tuple(values))
    return per_key


@dataclass(slots=True)
class _Window:
    """One item-location's ledger periods ending in a window, summed: ``units`` the units
    sold (periods that sold some), ``sold_stated`` every stated QS (zeros too; None when
    none), ``sold_converted`` and ``stock_converted`` those units and the positive on-hand
    levels, each at the rate on its period's last day (1 in the reporting currency),
    ``points`` the periods that state an on-hand level."""

    periods: int = 0
    units: Decimal = ZERO
    sold_stated: Decimal | None = None
    cost_days: int = 0
    sold_converted: Decimal = ZERO
    stock_converted: Decimal = ZERO
    points: int = 0


@dataclass(slots=True)
class _Span:
    """Per supplier, currency and period (start, end) of the costed item-locations: how
    many state an on-hand level and their positive on-hand at unit cost (in the
    agreement's currency, not yet converted)."""

    points: int = 0
    value: Decimal = ZERO


def _window(
    rows: list[CostedPosition],
    *,
    start: date,
    end: date,
    rates: AgedRateBook,
    target: str,
    trend: bool = True,
) -> tuple[dict[tuple[int, int], _Window], dict[tuple[str, str, date, date], _Span]]:
    """The window's ledger periods summed per item-location and per (supplier, currency,
    period): in one grouped query on PostgreSQL (exact numeric sums, the window read by the
    period_end index), in Python elsewhere (SQLite has no exact decimal SUM). Both give
    the same Decimals; the rates they convert at are noted in ``rates`` as used.

    Without the ``trend`` (the on-hand value per period: working capital needs only the
    sums per item-location), on either database, the sums come from the ledger's running
    totals (two rows per item-location, however long the window) but for the item-locations
    converted from another currency, whose periods are still read (:func:`_window_running`);
    the spans are then theirs alone. The trend needs every period's rows anyway, and
    reading them once for both (the grouped queries) costs less than the probes as well."""
    if not trend:
        return _window_running(rows, start=start, end=end, rates=rates, target=target)
    if connection.vendor == "postgresql":
        return _window_sql(rows, start=start, end=end, rates=rates, target=target)
    return _window_python(rows, start=start, end=end, rates=rates, target=target)


# Per item-location of the figure: its running totals at the last ledger row on or before
# the window's end less those at the last row before its start (none: zero), for those
# with a row in the window. Two probes of the (item, location, period_end) index each.
_RUNNING_KEYS = {
    "postgresql": (
        "SELECT * FROM unnest(string_to_array(%s, ',')::bigint[], "
        "string_to_array(%s, ',')::bigint[]) AS k(item_id, location_id)"
    ),
    "sqlite": (
        "SELECT json_extract(value, '$[0]') AS item_id, json_extract(value, '$[1]') AS location_id "
        "FROM json_each(%s)"
    ),
}
_RUNNING_PROBES = {
    # The rows by lateral probes (a join on ids would let the planner scan the ledger).
    "postgresql": """
FROM k
JOIN LATERAL (
    SELECT * FROM {ledger} l WHERE l.item_id = k.item_id AND l.location_id = k.location_id
      AND l.period_end <= %s ORDER BY l.period_end DESC LIMIT 1
) hi ON true
LEFT JOIN LATERAL (
    SELECT * FROM {ledger} l WHERE l.item_id = k.item_id AND l.location_id = k.location_id
      AND l.period_end < %s ORDER BY l.period_end DESC LIMIT 1
) lo ON true""",
    "sqlite": """
FROM (
    SELECT k.item_id, k.location_id,
           (SELECT l.id FROM {ledger} l
            WHERE l.item_id = k.item_id AND l.location_id = k.location_id AND l.period_end <= %s
            ORDER BY l.period_end DESC LIMIT 1) AS hi_id,
           (SELECT l.id FROM {ledger} l
            WHERE l.item_id = k.item_id AND l.location_id = k.location_id AND l.period_end < %s
            ORDER BY l.period_end DESC LIMIT 1) AS lo_id
    FROM k
) k
JOIN {ledger} hi ON hi.id = k.hi_id
LEFT JOIN {ledger} lo ON lo.id = k.lo_id""",
}
_RUNNING_SQL = """
WITH k AS ({keys})
SELECT k.item_id, k.location_id, {differences}{probes}
WHERE hi.period_end >= %s
"""


@dataclass(slots=True, frozen=True)
class _Running:
    """An item-location's ledger periods ending in a window, from the running totals:
    periods, days covered, periods stating sales, periods selling (sales <> 0), periods
    with an on-hand level, periods with on hand > 0, and (in units) the units sold, the
    positive on-hand levels summed and the units sold in periods with on hand > 0."""

    periods: int
    days: int
    sold_periods: int
    selling_periods: int
    on_hand_periods: int
    in_stock_periods: int
    sold: Decimal
    stock: Decimal
    sold_in_stock: Decimal


def _units(ten_thousandths: int) -> Decimal:
    """A running total's quantity as a Decimal of four places, as the ledger's columns."""
    return Decimal(ten_thousandths).scaleb(-4)


def _running_sums(
    keys: list[tuple[int, int]], *, start: date, end: date
) -> dict[tuple[int, int], _Running]:
    """Per item-location of ``keys`` with a ledger row ending in [start, end]: its
    :class:`_Running` sums over those rows, from two rows' running totals each."""
    if not keys:
        return {}
    from smi_core.services.stock_ledger import RUNNING

    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    ledger = StockLevel._meta.db_table
    sql = _RUNNING_SQL.format(
        keys=_RUNNING_KEYS[vendor],
        probes=_RUNNING_PROBES[vendor].format(ledger=ledger),
        differences=", ".join(f"hi.{n} - COALESCE(lo.{n}, 0)" for n in RUNNING),
    )
    if vendor == "postgresql":
        given = [",".join(str(i) for i, _ in keys), ",".join(str(loc) for _, loc in keys)]
    else:
        given = ["[" + ",".join(f"[{i},{loc}]" for i, loc in keys) + "]"]
    with connection.cursor() as cursor:
        # A window without any period (a baseline before the history starts): no probes.
        cursor.execute(
            f"SELECT 1 FROM {ledger} WHERE period_end >= %s AND period_end <= %s LIMIT 1",
            [start, end],
        )
        if cursor.fetchone() is None:
            return {}
        cursor.execute(sql, [*given, end, start, start])
        found = cursor.fetchall()
    out = {}
    for item_id, location_id, *counts, sold, stock, sold_in_stock in found:
        out[(item_id, location_id)] = _Running(
            *counts, _units(sold), _units(stock), _units(sold_in_stock)
        )
    return out


def _window_running(rows, *, start, end, rates, target):
    """The window's sums per item-location from the ledger's running totals (two probes
    each, whatever the window's length); those of the costed item-locations in another
    currency, converted at the rate on each period's end, still from their periods' rows
    (by the grouped queries over their buyers' locations on PostgreSQL, in Python on
    SQLite), with their per-period spans (the rates used). The same Decimals as the other
    paths for every item-location; spans only for the converted ones (no trend)."""
    if not rows:
        return {}, {}
    converted = [r for r in rows if r.unit_cost is not None and r.currency != target]
    skipped = {(r.position.item_id, r.position.location_id) for r in converted}
    sums = _running_sums(
        [k for r in rows if (k := (r.position.item_id, r.position.location_id)) not in skipped],
        start=start,
        end=end,
    )
    per_key: dict[tuple[int, int], _Window] = {}
    for key, s in sums.items():
        units = s.sold if s.selling_periods else ZERO
        per_key[key] = _Window(
            periods=s.periods,
            units=units,
            sold_stated=s.sold if s.sold_periods else None,
            cost_days=s.days,
            sold_converted=units,
            stock_converted=s.stock if s.in_stock_periods else ZERO,
            points=s.on_hand_periods,
        )
    if not converted:
        return per_key, {}
    if connection.vendor == "postgresql":
        # The grouped queries over the periods of those item-locations' buyers only.
        parties = {r.position.location.party_id for r in converted}
        by_rows, spans = _window_sql(
            converted, start=start, end=end, rates=rates, target=target, parties=parties
        )
    else:
        by_rows, spans = _window_python(converted, start=start, end=end, rates=rates, target=target)
    per_key.update(by_rows)
    return per_key, spans


# The window queries' planner settings: room to hash the window's rows by item-location and
# group them in memory (the default 4 MB spills a year's window to disk), hash joins rather
# than sorting the rows for a merge or probing the ledger once per item-location, and no
# JIT or parallel workers, whose start-up costs more than these queries on a small machine.
_PLANNER = {
    "work_mem": "64MB",
    "enable_mergejoin": "off",
    "enable_nestloop": "off",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
}
_SHOW = "SELECT " + ", ".join(f"current_setting('{n}')" for n in _PLANNER)
_SET_LOCAL = "SELECT " + ", ".join(f"set_config('{n}', %s, true)" for n in _PLANNER)


@contextmanager
def _planned_cursor():
    """A cursor with ``_PLANNER`` set for the queries run on it, and put back as it was
    after them: SET LOCAL lasts to the end of the transaction, and releasing the savepoint
    of an ``atomic`` nested in a longer one keeps it (an error rolls it back)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SHOW)
        before = cursor.fetchone()
        cursor.execute(_SET_LOCAL, list(_PLANNER.values()))
        yield cursor
        cursor.execute(_SET_LOCAL, list(before))


# Per item-location, from the ledger alone (no join with the figure's item-locations):
# counts and sums, and per foreign currency the units and positive on-hand converted at
# the rate on each period end (``r``: one row per period end, a column per currency).
_PER_KEY_SQL = """
WITH r AS (
    SELECT * FROM unnest(%s::date[]{rate_arrays}) AS r(day{rate_names})
)
SELECT l.item_id, l.location_id, loc.party_id,
       COUNT(*),
       COUNT(*) FILTER (WHERE l.sold <> 0),
       SUM(l.sold),
       SUM(l.period_end - l.period_start + 1),
       COUNT(l.on_hand),
       SUM(l.on_hand) FILTER (WHERE l.on_hand > 0){converted}
FROM {ledger} l
JOIN {location} loc ON loc.id = l.location_id
LEFT JOIN r ON r.day = l.period_end
WHERE l.period_end >= %s AND l.period_end <= %s{of_parties}
GROUP BY l.item_id, l.location_id, loc.party_id
"""

# Per item, buyer and period: whether on-hand was stated and the positive on-hand, to be
# valued at the unit cost all the buyer's locations of the item share.
_PER_PERIOD_SQL = """
SELECT l.item_id, loc.party_id, l.period_start, l.period_end,
       COUNT(l.on_hand), SUM(l.on_hand) FILTER (WHERE l.on_hand > 0)
FROM {ledger} l
JOIN {location} loc ON loc.id = l.location_id
WHERE l.period_end >= %s AND l.period_end <= %s{of_parties}
GROUP BY l.item_id, loc.party_id, l.period_start, l.period_end
"""


def _window_sql(rows, *, start, end, rates, target, parties=None):
    """Two grouped queries over the window's rows, neither joined with the figure's
    item-locations: per item-location (its currency's converted sums picked here), and per
    item, buyer and period for the on-hand value at each period end (valued here at the
    unit cost, which all the buyer's locations of an item share under one agreement unless
    a location has its own term). Where that does not hold (a location's own cost, or an
    item-location of the window left out of the figure alongside others of the same item
    and buyer that are in it) the window is summed by :func:`_window_sql_joined` instead.
    With ``parties``, only the periods of those buyers' locations are read (the rows must
    hold all of the figure's item-locations there with a cost in another currency)."""
    if not rows:
        return {}, {}
    ledger, location = StockLevel._meta.db_table, Location._meta.db_table
    by_key = {(r.position.item_id, r.position.location_id): r for r in rows}
    currencies = sorted({r.currency for r in rows} - {target})
    days: list[date] = []
    columns: list[list] = [[] for _ in currencies]
    with connection.cursor() as cursor:
        if currencies:
            cursor.execute(_WINDOW_DAYS_SQL.format(ledger=ledger), [start, end, end])
            days = [d for (d,) in cursor.fetchall()]
            for n, currency in enumerate(currencies):
                rates.peek_days(currency, target, days)
                for day in days:
                    found = rates.peek(currency, target, day)
                    columns[n].append(found.rate if found is not None else None)
    of_parties = "" if parties is None else " AND loc.party_id = ANY(%s)"
    restrict = [] if parties is None else [sorted(parties)]
    sql = _PER_KEY_SQL.format(
        ledger=ledger,
        location=location,
        of_parties=of_parties,
        rate_arrays="".join(", %s::numeric[]" for _ in currencies),
        rate_names="".join(f", c{n}" for n in range(len(currencies))),
        converted="".join(
            f",\n       SUM(l.sold * r.c{n}) FILTER (WHERE l.sold <> 0),"
            f"\n       SUM(l.on_hand * r.c{n}) FILTER (WHERE l.on_hand > 0)"
            for n in range(len(currencies))
        ),
    )
    with _planned_cursor() as cursor:
        cursor.execute(sql, [days, *columns, start, end, *restrict])
        per_key_rows = cursor.fetchall()
        cursor.execute(
            _PER_PERIOD_SQL.format(ledger=ledger, location=location, of_parties=of_parties),
            [start, end, *restrict],
        )
        per_period_rows = cursor.fetchall()
    currency_column = {c: n for n, c in enumerate(currencies)}
    per_key: dict[tuple[int, int], _Window] = {}
    # Per (item, buyer): the item-location of the figure whose unit cost all of them in the
    # window share; ``shared`` False when they do not (or one is not in the figure), and
    # ``costed`` whether any has a cost (then its periods must be valued).
    first: dict[tuple[int, int], CostedPosition] = {}
    shared: dict[tuple[int, int], bool] = {}
    costed: dict[tuple[int, int], bool] = {}
    for found in per_key_rows:
        item_id, location_id, party_id = found[0], found[1], found[2]
        row = by_key.get((item_id, location_id))
        group = (item_id, party_id)
        if row is None:  # in the window, not in the figure
            shared[group] = False
            continue
        seen = first.setdefault(group, row)
        shared[group] = shared.get(group, True) and _same_cost(seen, row)
        costed[group] = costed.get(group, False) or row.unit_cost is not None
        periods, selling, stated, cost_days, points, stock = found[3:9]
        # Units sold: the periods that sold some (the stated sum, or none: 0, not 0.0000).
        units = stated if selling else ZERO
        stock = stock if stock is not None else ZERO
        n = currency_column.get(row.currency)
        if n is None or row.unit_cost is None:  # not converted (rate 1)
            sold_converted, stock_converted = units, stock
        else:
            sold_converted, stock_converted = found[9 + 2 * n], found[10 + 2 * n]
        per_key[(item_id, location_id)] = _Window(
            periods=periods,
            units=units,
            sold_stated=stated,
            cost_days=cost_days,
            sold_converted=sold_converted if sold_converted is not None else ZERO,
            stock_converted=stock_converted if stock_converted is not None else ZERO,
            points=points,
        )
    if any(costed.get(g) and not ok for g, ok in shared.items()):
        return _window_sql_joined(rows, start=start, end=end, rates=rates, target=target)
    spans: dict[tuple[str, str, date, date], _Span] = {}
    for item_id, party_id, period_start, period_end, points, stock in per_period_rows:
        row = first.get((item_id, party_id))
        if row is None or row.unit_cost is None:
            continue  # none of the figure's item-locations, or none with a cost
        currency = row.currency
        if currency != target:  # noted as used (raises when there is none)
            rates.on(currency, target, period_end)
        key = (row.position.item.supplier.code, currency, period_start, period_end)
        span = spans.get(key)
        if span is None:
            span = spans[key] = _Span()
        span.points += points
        if stock is not None:
            span.value += stock * row.unit_cost
    return per_key, spans


def _same_cost(a: CostedPosition, b: CostedPosition) -> bool:
    return a.unit_cost == b.unit_cost and a.agreement is b.agreement


def _window_python(rows, *, start, end, rates, target):
    history = _history(rows, start, end)
    per_key: dict[tuple[int, int], _Window] = {}
    spans: dict[tuple[str, str, date, date], _Span] = {}
    for row in rows:
        p = row.position
        periods = history.get((p.item_id, p.location_id))
        if not periods:
            continue
        costed = row.unit_cost is not None
        foreign = costed and row.currency != target
        supplier = p.item.supplier.code
        w = per_key[(p.item_id, p.location_id)] = _Window()
        rate = ONE
        for period_start, period_end, sold, on_hand in periods:
            if foreign:
                rate = rates.on(row.currency, target, period_end).rate
            w.periods += 1
            w.cost_days += (period_end - period_start).days + 1
            if sold is not None:
                w.sold_stated = sold if w.sold_stated is None else w.sold_stated + sold
            if sold:
                w.sold_converted += sold * rate
                w.units += sold
            if on_hand is not None:
                w.points += 1
                w.stock_converted += on_hand * rate if on_hand > 0 else ZERO
            if costed:
                span = spans.get((supplier, row.currency, period_start, period_end))
                if span is None:
                    span = spans[(supplier, row.currency, period_start, period_end)] = _Span()
                if on_hand is not None:
                    span.points += 1
                    if on_hand > 0:
                        span.value += on_hand * row.unit_cost
    return per_key, spans


_WINDOW_DAYS_SQL = """
WITH RECURSIVE d(day) AS (
    SELECT MIN(period_end) FROM {ledger} WHERE period_end >= %s AND period_end <= %s
    UNION ALL
    SELECT (SELECT MIN(l.period_end) FROM {ledger} l
            WHERE l.period_end > d.day AND l.period_end <= %s)
    FROM d WHERE d.day IS NOT NULL
)
SELECT day FROM d WHERE day IS NOT NULL
"""

# Per item-location, and per supplier, currency and period of the costed ones, in one pass
# over the window's rows (GROUPING SETS). ``k``: the item-locations with their currency
# (0: the reporting currency), supplier and unit cost; ``r``: the rate of each foreign
# currency on each period end in the window (an item-location without a cost is not
# converted: nothing of it is valued, as in the Python path).
_WINDOW_SQL = """
WITH k AS (
    SELECT * FROM unnest(
        string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')::bigint[],
        string_to_array(%s, ',')::int[], string_to_array(%s, ',')::int[],
        string_to_array(%s, ',', '')::numeric[]
    ) AS k(item_id, location_id, cur, sup, cost)
),
r AS (
    SELECT * FROM unnest(%s::int[], %s::date[], %s::numeric[]) AS r(cur, day, rate)
),
w AS (
    SELECT k.item_id, k.location_id, k.cur, CASE WHEN k.cost IS NOT NULL THEN k.sup END AS sup,
           k.cost, l.period_start, l.period_end, l.sold, l.on_hand,
           CASE WHEN k.cur = 0 OR k.cost IS NULL THEN 1 ELSE r.rate END AS rate
    FROM {ledger} l
    JOIN k ON k.item_id = l.item_id AND k.location_id = l.location_id
    LEFT JOIN r ON r.cur = k.cur AND r.day = l.period_end
    WHERE l.period_end >= %s AND l.period_end <= %s
)
SELECT GROUPING(w.item_id), w.item_id, w.location_id, w.sup, w.cur, w.period_start,
       w.period_end,
       COUNT(*),
       SUM(w.sold) FILTER (WHERE w.sold <> 0),
       SUM(w.sold),
       SUM(w.period_end - w.period_start + 1),
       SUM(w.sold * w.rate) FILTER (WHERE w.sold <> 0),
       SUM(CASE WHEN w.on_hand > 0 THEN w.on_hand * w.rate ELSE 0 END)
           FILTER (WHERE w.on_hand IS NOT NULL),
       COUNT(w.on_hand),
       SUM(CASE WHEN w.on_hand > 0 THEN w.on_hand * w.cost ELSE 0 END)
           FILTER (WHERE w.on_hand > 0)
FROM w
GROUP BY GROUPING SETS ((w.item_id, w.location_id), (w.sup, w.cur, w.period_start, w.period_end))
"""


def _window_sql_joined(rows, *, start, end, rates, target):
    ledger = StockLevel._meta.db_table
    if not rows:
        return {}, {}
    # Currency and supplier indexes per agreement and per item, not per row.
    by_agreement = {id(r.agreement): r.currency for r in rows}
    currencies = sorted(set(by_agreement.values()) - {target})
    cur_index = {c: n for n, c in enumerate(currencies, start=1)}
    cur_index[target] = 0
    agreement_cur = {key: cur_index[c] for key, c in by_agreement.items()}
    item_supplier = {r.position.item_id: r.position.item.supplier.code for r in rows}
    suppliers = sorted(set(item_supplier.values()))
    sup_index = {c: n for n, c in enumerate(suppliers)}
    item_sup = {item: sup_index[code] for item, code in item_supplier.items()}
    item_ids, location_ids, curs, sups, costs = [], [], [], [], []
    for row in rows:
        p = row.position
        item_ids.append(p.item_id)
        location_ids.append(p.location_id)
        curs.append(agreement_cur[id(row.agreement)])
        sups.append(item_sup[p.item_id])
        costs.append(row.unit_cost)
    r_cur, r_day, r_rate = [], [], []
    with connection.cursor() as cursor:
        if currencies:
            cursor.execute(_WINDOW_DAYS_SQL.format(ledger=ledger), [start, end, end])
            days = [d for (d,) in cursor.fetchall()]
            for currency in currencies:
                rates.peek_days(currency, target, days)
                for day in days:
                    found = rates.peek(currency, target, day)
                    if found is not None:
                        r_cur.append(cur_index[currency])
                        r_day.append(day)
                        r_rate.append(found.rate)
    with _planned_cursor() as cursor:
        cursor.execute(
            _WINDOW_SQL.format(ledger=ledger),
            # The item-locations as comma-separated text, one parameter per column: a
            # 20,000-element array parameter costs more to send than the query to run.
            [
                ",".join(map(str, item_ids)),
                ",".join(map(str, location_ids)),
                ",".join(map(str, curs)),
                ",".join(map(str, sups)),
                ",".join("" if c is None else str(c) for c in costs),
                r_cur,
                r_day,
                r_rate,
                start,
                end,
            ],
        )
        found_rows = cursor.fetchall()
    per_key: dict[tuple[int, int], _Window] = {}
    spans: dict[tuple[str, str, date, date], _Span] = {}
    for (
        grouping,
        item_id,
        location_id,
        sup,
        cur,
        period_start,
        period_end,
        periods,
        units,
        stated,
        cost_days,
        sold_converted,
        stock_converted,
        points,
        value,
    ) in found_rows:
        if grouping == 0:
            per_key[(item_id, location_id)] = _Window(
                periods=periods,
                units=units if units is not None else ZERO,
                sold_stated=stated,
                cost_days=cost_days,
                sold_converted=sold_converted if sold_converted is not None else ZERO,
                stock_converted=stock_converted if stock_converted is not None else ZERO,
                points=points,
            )
        elif sup is not None:  # the costed item-locations' periods
            currency = currencies[cur - 1] if cur else target
            if cur:  # noted as used, as the Python path notes it (raises when missing)
                rates.on(currency, target, period_end)
            spans[(suppliers[sup], currency, period_start, period_end)] = _Span(
                points=points, value=value if value is not None else ZERO
            )
    return per_key, spans


def _where(row: CostedPosition) -> dict:
    p = row.position
    return {
        "item": p.item.vendor_item,
        "supplier": p.item.supplier.code,
        "buyer": p.location.party.code,
        "location": p.location.code,
    }


def turnover_report(
    *, scope: FinanceScope, filters: Filters, start: date, end: date, as_of: date | None = None
) -> dict:
    """Turnover, DIO, inventory-to-sales, weeks of supply and GMROI for [start, end], per
    supplier and overall, in the reporting currency, from the stock ledger: ending stock is
    each item-location's as of ``end`` (carried forward from its last report). ``rates``:
    each rate used (the rate on each period's last day) with its date. Negative on-hand is
    valued at zero (listed with the raw figure); item-locations without a unit cost are
    listed with what they leave out."""
    as_of = as_of or end
    rows = costed_positions(scope=scope, filters=filters, as_of=as_of)
    return _turnover(rows, start=start, end=end, as_of=as_of)


def _turnover(
    rows: list[CostedPosition],
    *,
    start: date,
    end: date,
    as_of: date,
    ages: list[dict] | None = None,
    overall_only: bool = False,
    trend: bool = True,
) -> dict:
    """``turnover_report`` over positions already costed as of ``as_of`` (working capital
    costs them once for both its periods). The window's periods are summed per
    item-location by :func:`_window` (one query on PostgreSQL). Without the ``trend`` (the
    on-hand value per period, ``inventory_by_period``, then empty or partial, and the days
    covered counted from the periods when nothing sold) the sums come from the ledger's
    running totals: the work per item-location does not grow with the window's length."""
    rates = AgedRateBook()
    target = reporting_currency()
    windows, spans = _window(rows, start=start, end=end, rates=rates, target=target, trend=trend)
    days = (end - start).days + 1
    per_supplier: dict[str, _Totals] = defaultdict(_Totals)
    overall = _Totals()
    left_out = []
    negative = []
    empty = _Window()
    suppliers: dict[int, str] = {}  # item -> its supplier's code
    for row in rows:
        p = row.position
        w = windows.get((p.item_id, p.location_id), empty)
        if row.unit_cost is None:
            left_out.append(
                _where(row)
                | {
                    "units_sold": str(w.sold_stated if w.sold_stated is not None else ZERO),
                    "on_hand": str(p.on_hand),
                    "reason": "no unit cost in the agreement's terms",
                }
            )
            continue
        item = p.item
        supplier = suppliers.get(p.item_id)
        if supplier is None:
            supplier = suppliers[p.item_id] = item.supplier.code
        on_hand = p.on_hand if p.on_hand >= ZERO else ZERO
        if p.on_hand < 0:
            negative.append(_where(row) | {"on_hand": str(p.on_hand), "valued_at": "0"})
        currency = row.currency
        ending_rate = rates.on(currency, target, p.as_of)
        unit_cost = row.unit_cost
        cogs = w.sold_converted * unit_cost
        margin = (
            w.sold_converted * (row.net_selling_price - unit_cost)
            if row.net_selling_price is not None
            else None
        )
        ending = on_hand * unit_cost * ending_rate.rate
        # Each item-location's shares worked out once, added to its supplier and overall.
        cogs_per_day = cogs / w.cost_days if w.cost_days else None
        units_per_day = w.units / w.cost_days if w.cost_days else None
        average = w.stock_converted * unit_cost / w.points if w.points else None
        for totals in (overall,) if overall_only else (per_supplier[supplier], overall):
            if currency != target:
                totals.rates.add(ending_rate)
            if w.periods and margin is None:
                totals.margin_known = False
                totals.no_price.add(item.vendor_item)
            elif margin is not None:
                totals.margin += margin
            totals.on_hand_units += on_hand
            totals.in_transit_units += p.in_transit
            totals.ending_inventory += ending
            totals.cogs += cogs
            totals.units_sold += w.units
            if cogs_per_day is not None:
                totals.cogs_per_day += cogs_per_day
                totals.units_per_day += units_per_day
            if average is not None:
                totals.average_inventory += average
    # Per supplier and period: the spans the data cover, the rates used, and the on-hand
    # value at each period end (a period whose rows state no on-hand level adds none).
    for (supplier, currency, period_start, period_end), span in sorted(
        spans.items(), key=lambda e: (e[0][0], e[0][1], e[0][3], e[0][2])
    ):
        rate = ONE
        used = None
        if currency != target:
            used = rates.on(currency, target, period_end)
            rate = used.rate
        for totals in (overall,) if overall_only else (per_supplier[supplier], overall):
            totals.spans.add((period_start, period_end))
            if used is not None:
                totals.rates.add(used)
            if span.points:
                totals.inventory_by_period[period_end] += rate * span.value
    ages = data_age(rows, as_of) if ages is None else ages
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "as_of": as_of.isoformat(),
        "days": days,
        "reporting_currency": target,
        "suppliers": {code: t.figures(days) for code, t in sorted(per_supplier.items())},
        "overall": overall.figures(days),
        "rates": overall.rate_list(),
        "left_out_no_cost": left_out,
        "negative_on_hand": negative,
        "rate_warnings": rates.warnings(),
        "data_age": ages,
        "stale_partners": stale_partners(ages),
    }


def working_capital(
    *,
    scope: FinanceScope,
    filters: Filters,
    start: date,
    end: date,
    baseline_start: date,
    baseline_end: date,
    carrying_rate: Decimal | None = None,
) -> dict:
    """Working capital released since the baseline period: (baseline DIO - current DIO) *
    annual COGS / 365, and the yearly carrying cost it saves at ``carrying_rate``;
    ``rates``: each exchange rate the two periods' COGS and inventory were converted at."""
    rate = carrying_rate if carrying_rate is not None else Decimal(settings.SMI_CARRYING_RATE)
    # Both periods' ending stock is as of ``end``: the positions are costed once.
    rows = costed_positions(scope=scope, filters=filters, as_of=end)
    ages = data_age(rows, end)  # the same for both: the positions are as of ``end``
    # Only the overall figures are used, and not the value per period: no per-supplier
    # totals, and the sums from the ledger's running totals (two rows per item-location).
    current_report = _turnover(
        rows, start=start, end=end, as_of=end, ages=ages, overall_only=True, trend=False
    )
    baseline_report = _turnover(
        rows, start=baseline_start, end=baseline_end, as_of=end, ages=ages, overall_only=True,
        trend=False,
    )  # fmt: skip
    current, baseline = current_report["overall"], baseline_report["overall"]
    periods = {
        "baseline": {"start": baseline_start.isoformat(), "end": baseline_end.isoformat()},
        "current": {"start": start.isoformat(), "end": end.isoformat()},
    }
    rates_used = distinct_rates(baseline_report["rates"] + current_report["rates"])
    periods["rate_warnings"] = current_report["rate_warnings"] + [
        w for w in baseline_report["rate_warnings"] if w not in current_report["rate_warnings"]
    ]
    periods["data_age"] = current_report["data_age"]
    periods["stale_partners"] = current_report["stale_partners"]
    if current["dio_days"] is None or baseline["dio_days"] is None:
        return {
            **periods,
            "baseline_dio": baseline["dio_days"],
            "current_dio": current["dio_days"],
            "released": None,
            "annual_carrying_saving": None,
            "carrying_rate": str(rate),
            "note": "DIO cannot be computed for a period without sales",
            "reporting_currency": reporting_currency(),
            "rates": rates_used,
        }
    # Annualised over the days the current period's data cover, not the calendar window.
    days = Decimal(current["days_covered"])
    annual_cogs = Decimal(current["cogs"]) * 365 / days
    release = working_capital_released(
        baseline_dio=Decimal(baseline["dio_days"]),
        current_dio=Decimal(current["dio_days"]),
        cogs=annual_cogs,
        carrying_rate=rate,
    )
    return {
        **periods,
        "baseline_dio": baseline["dio_days"],
        "current_dio": current["dio_days"],
        "annual_cogs": str(money(annual_cogs)),
        "days_covered": current["days_covered"],
        "baseline_days_covered": baseline["days_covered"],
        "annualisation": "COGS x 365 / days the current period's data cover",
        "released": str(release.released),
        "carrying_rate": str(rate),
        "annual_carrying_saving": str(release.annual_saving),
        "reporting_currency": reporting_currency(),
        "rates": rates_used,
    }


def service_report(*, scope: FinanceScope, filters: Filters, start: date, end: date) -> dict:
    """Fill rate, in-stock % and stockouts from the stock ledger's periods ending in
    [start, end], per supplier and overall: a period whose stock at its end (QA, carried
    forward when not stated) is zero or less is a stockout."""
    rows = costed_positions(scope=scope, filters=filters, as_of=end)
    keys = {(r.position.item_id, r.position.location_id): r for r in rows}
    summed = _service_sums(list(keys), start=start, end=end)
    per_supplier: dict[str, dict] = defaultdict(
        lambda: {"sold": ZERO, "lost": ZERO, "periods": 0, "stockouts": 0}
    )
    for key, (periods, units, stockouts, with_stock, sold_with_stock) in summed.items():
        row = keys.get(key)
        if row is None:
            continue
        average = (sold_with_stock or ZERO) / with_stock if with_stock else ZERO
        entry = per_supplier[row.position.item.supplier.code]
        entry["periods"] += periods
        entry["sold"] += units or ZERO
        entry["stockouts"] += stockouts
        entry["lost"] += average * stockouts
    overall = {"sold": ZERO, "lost": ZERO, "periods": 0, "stockouts": 0}
    for entry in per_supplier.values():
        for key in overall:
            overall[key] += entry[key]

    def figures(entry: dict) -> dict:
        periods = entry["periods"]
        return {
            "fill_rate": _text(
                fill_rate(demand=entry["sold"] + entry["lost"], shortfall=entry["lost"])
            ),
            "in_stock_pct": _text(ratio(Decimal(periods - entry["stockouts"]) * 100 / periods))
            if periods
            else None,
            "stockouts": entry["stockouts"],
            "item_location_periods": periods,
            "units_sold": str(entry["sold"]),
            "units_lost_estimate": str(money(entry["lost"])),
        }

    ages = data_age(rows, end)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "suppliers": {code: figures(e) for code, e in sorted(per_supplier.items())},
        "overall": figures(overall),
        "data_age": ages,
        "stale_partners": stale_partners(ages),
    }


def _service_sums(keys: list[tuple[int, int]], *, start: date, end: date) -> dict:
    """Per item-location with ledger periods ending in [start, end]: periods, units sold
    (None when no period states sales), stockouts (on hand <= 0), periods with stock and
    the units sold in them (None without any), from the running totals (two rows each)."""
    return {
        key: (
            s.periods,
            s.sold if s.sold_periods else None,
            s.on_hand_periods - s.in_stock_periods,
            s.in_stock_periods,
            s.sold_in_stock if s.in_stock_periods else None,
        )
        for key, s in _running_sums(keys, start=start, end=end).items()
    }


def _service_sums_scan(keys: list[tuple[int, int]], *, start: date, end: date) -> dict:
    """:func:`_service_sums` from every period's row (the reference the tests hold the
    running totals to)."""
    wanted = set(keys)
    items = {i for i, _ in wanted}
    qs = StockLevel.objects.filter(period_end__gte=start, period_end__lte=end)
    if len(items) <= CHUNK:
        qs = qs.filter(item_id__in=items)
    summed = (
        qs.values("item_id", "location_id")
        .order_by()
        .annotate(
            periods=Count("id"),
            units=Sum("sold"),
            stockouts=Count("id", filter=Q(on_hand__lte=0)),
            with_stock=Count("id", filter=Q(on_hand__gt=0)),
            sold_with_stock=Sum("sold", filter=Q(on_hand__gt=0)),
        )
        .values_list(
            "item_id", "location_id", "periods", "units", "stockouts", "with_stock",
            "sold_with_stock",
        )
    )  # fmt: skip
    return {(i, loc): tuple(rest) for i, loc, *rest in summed if (i, loc) in wanted}


def supplier_scorecard(*, scope: FinanceScope, filters: Filters, as_of: date | None = None) -> dict:
    """Per supplier: lines and units shipped versus ordered, shipments on time against the
    date promised in the 855, and units received (852 QR) versus shipped (856). With
    ``as_of``: orders placed on or before it, shipments shipped on or before it, receipts
    recorded on or before it."""
    P = ReplenishmentProposal.Status
    orders = scope.proposals(
        ReplenishmentProposal.objects.filter(
            status__in=[P.ORDERED, P.SHIPPED, P.RECEIVED, P.CLOSED]
        )
    )
    if as_of is not None:
        orders = orders.filter(Q(po_date__lte=as_of) | Q(po_date__isnull=True))
    if filters.supplier:
        orders = orders.filter(supplier__code=filters.supplier)
    if filters.buyer:
        orders = orders.filter(buyer__code=filters.buyer)
    lines = ProposalLine.objects.filter(proposal__in=orders).select_related("proposal__supplier")
    shipped = defaultdict(list)
    for line in ShipmentLine.objects.filter(order_line__proposal__in=orders).select_related(
        "pack__shipment"
    ):
        if as_of is not None and line.pack.shipment.ship_date > as_of:
            continue
        shipped[line.order_line_id].append(line)
    cards: dict[str, dict] = defaultdict(
        lambda: {
            "lines_ordered": 0,
            "lines_shipped": 0,
            "units_ordered": ZERO,
            "units_shipped": ZERO,
            "shipments_with_promise": 0,
            "on_time": 0,
            "units_received": ZERO,
        }
    )
    for line in lines:
        ordered = line.confirmed_quantity if line.confirmed_quantity is not None else line.quantity
        if ordered <= 0 and not shipped.get(line.pk):
            continue
        card = cards[line.proposal.supplier.code]
        card["lines_ordered"] += 1
        card["units_ordered"] += ordered
        parts = shipped.get(line.pk, [])
        if parts:
            card["lines_shipped"] += 1
        for part in parts:
            card["units_shipped"] += part.quantity
            received_at = part.pack.shipment.received_at
            if as_of is None or (received_at is not None and received_at.date() <= as_of):
                card["units_received"] += part.received_quantity
            if line.promised_date:
                card["shipments_with_promise"] += 1
                if part.pack.shipment.ship_date <= line.promised_date:
                    card["on_time"] += 1
    result = {}
    for code, card in sorted(cards.items()):
        result[code] = {
            **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in card.items()},
            "line_fill_pct": _pct(card["lines_shipped"], card["lines_ordered"]),
            "unit_fill_pct": _pct(card["units_shipped"], card["units_ordered"]),
            "on_time_pct": _pct(card["on_time"], card["shipments_with_promise"]),
            "received_vs_shipped_pct": _pct(card["units_received"], card["units_shipped"]),
        }
    return {"as_of": as_of.isoformat() if as_of else None, "suppliers": result}


def _pct(part, whole) -> str | None:
    if not whole:
        return None
    return str(ratio(Decimal(part) * 100 / Decimal(whole)))


def continuity(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    """Per supplier: how many days the buyer's stock (on hand + in transit) lasts at the
    forecast demand if that supplier's deliveries stop today, first to run out first."""
    rows = costed_positions(scope=scope, filters=filters, as_of=as_of)
    demand = _demand_as_of({(r.position.item_id, r.position.location_id) for r in rows}, as_of)
    per_supplier: dict[str, list[dict]] = defaultdict(list)
    sources: dict[str, int] = defaultdict(int)
    limits: dict[str, int] = {}  # stale after (days) per cadence, worked out once
    for row in rows:
        p = row.position
        cadence = row.cadence
        if cadence not in limits:
            limits[cadence] = stale_after_days(cadence)
        age = (as_of - p.as_of).days
        weekly, source = demand.get((p.item_id, p.location_id), (None, None))
        if not weekly:
            weekly, source = p.sold_last_period, _NO_FORECAST
        sources[source] += 1
        # Negative on hand counts as none: days of cover are never negative.
        stock = max(p.on_hand, ZERO) + max(p.in_transit, ZERO)
        days = ratio(stock * 7 / weekly) if weekly and weekly > 0 else None
        per_supplier[p.item.supplier.code].append(
            {
                "item": p.item.vendor_item,
                "buyer": p.location.party.code,
                "location": p.location.code,
                "stock": str(stock),
                "demand_per_week": str(weekly) if weekly else "0",
                "demand_source": source,
                "days_of_cover": _text(days),
                "reported_on": p.as_of.isoformat(),
                "age_days": age,
                "stale": age > limits[cadence],
            }
        )
    result = {}
    for code, entries in sorted(per_supplier.items()):
        entries.sort(key=lambda e: (e["days_of_cover"] is None, Decimal(e["days_of_cover"] or 0)))
        covered = [Decimal(e["days_of_cover"]) for e in entries if e["days_of_cover"] is not None]
        result[code] = {
            "first_run_out_days": str(min(covered)) if covered else None,
            "median_days": str(sorted(covered)[len(covered) // 2]) if covered else None,
            "out_within_7_days": sum(1 for d in covered if d < 7),
            "out_within_28_days": sum(1 for d in covered if d < 28),
            "item_locations": entries,
        }
    ages = data_age(rows, as_of)
    return {
        "as_of": as_of.isoformat(),
        "suppliers": result,
        "demand_sources": dict(sorted(sources.items())),
        "data_age": ages,
        "stale_partners": stale_partners(ages),
    }


_NO_FORECAST = "last period's sales (no forecast made on or before the date)"


def _demand_as_of(keys: set[tuple[int, int]], as_of: date) -> dict:
    """Per item-location the demand per week as forecast on or before ``as_of``, with where
    it comes from: the stored forecast when it was made by then (only the latest is kept),
    else the latest plan run by then that proposed a line for it (its explanation keeps the
    forecast it used). A forecast made after the date is not used: that would be hindsight."""
    if not keys:
        return {}
    items = {item for item, _ in keys}
    found: dict = {}
    for f in SeriesForecast.objects.filter(item_id__in=items, as_of__lte=as_of).only(
        "item_id", "location_id", "demand_per_week", "as_of"
    ):
        if (f.item_id, f.location_id) in keys:
            found[(f.item_id, f.location_id)] = (f.demand_per_week, f"forecast as of {f.as_of}")
    lines = (
        ProposalLine.objects.filter(item_id__in=items, proposal__as_of__lte=as_of)
        .order_by("proposal__as_of", "proposal_id")
        .values_list(
            "item_id",
            "proposal__ship_to_id",
            "explanation",
            "proposal__as_of",
            "proposal__plan_run",
        )
    )
    for item_id, location_id, explanation, planned, run in lines:
        key = (item_id, location_id)
        weekly = (explanation or {}).get("demand_per_week")
        if (
            key in keys
            and weekly is not None
            and not str(found.get(key, ("", ""))[1]).startswith("forecast")
        ):
            found[key] = (Decimal(weekly), f"plan run #{run} as of {planned}")
    return found
