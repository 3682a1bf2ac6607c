"""The assistant's query model: a small semantic layer over the finance and planning
selectors. A :class:`Query` names one metric from :data:`METRICS`, the dimensions to break
it down by, filters (supplier, buyer, owner, item, location, agreement), the as-of day or
period, and the currency to report in; :func:`restatement` says it back in words.

Framework-free: the parser fills a Query, ``compute.py`` runs it through the selectors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

# The settlement figure's cash window, up to the as-of day (a test holds the two equal).
CASH_WINDOW_DAYS = 30
DIMENSIONS = ("supplier", "buyer", "owner", "item", "location", "agreement", "week")


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    kind: str  # money, units, ratio, days, weeks, percent, count, list, audit
    figure: str  # the selector figure that computes it ("" for stock and planning reads)
    period: bool = False  # measured over a period (start..end) rather than at a day
    governing: str = ""  # the clause topic that governs the figure, quoted beside it
    dimensions: tuple[str, ...] = ()  # dimensions it can be broken down by
    filterable: tuple[str, ...] = (  # the filters its selector can apply
        "supplier",
        "buyer",
        "owner",
        "item",
        "location",
        "agreement",
        "currency",
    )


PARTIES = ("supplier", "buyer", "agreement", "currency")
MONEY_DIMS = ("supplier", "buyer", "owner", "item", "location")
UNIT_DIMS = ("supplier", "buyer", "item", "location")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("inventory_value", "Inventory value", "money", "valuation", dimensions=MONEY_DIMS),
        Metric(
            "exposure",
            "Inventory exposure",
            "money",
            "valuation",
            governing="ownership",
            dimensions=MONEY_DIMS,
        ),
        Metric(
            "inventory_quantity", "Inventory quantity", "units", "valuation", dimensions=UNIT_DIMS
        ),
        Metric("on_hand", "Units on hand", "units", "", dimensions=UNIT_DIMS),
        Metric("sold", "Units sold", "units", "", period=True, dimensions=UNIT_DIMS),
        Metric("on_order", "Units on order", "units", "", dimensions=UNIT_DIMS),
        Metric("in_transit", "Units in transit", "units", "", dimensions=UNIT_DIMS),
        Metric("out_of_stock", "Item-locations out of stock", "list", "", dimensions=UNIT_DIMS),
        Metric(
            "projected_stockouts",
            "Projected stockouts raised by planning",
            "list",
            "",
            dimensions=UNIT_DIMS,
        ),
        Metric("turnover", "Inventory turnover", "ratio", "turnover", True, filterable=PARTIES),
        Metric(
            "dio", "Days inventory outstanding (DIO)", "days", "turnover", True, filterable=PARTIES
        ),
        Metric("gmroi", "GMROI", "ratio", "turnover", True, filterable=PARTIES),
        Metric("weeks_of_supply", "Weeks of supply", "weeks", "turnover", True, filterable=PARTIES),
        Metric(
            "working_capital",
            "Working capital released",
            "money",
            "working-capital",
            period=True,
            filterable=PARTIES,
        ),
        Metric("cash_out", "Cash out for replenishment", "money", "cashflow", filterable=PARTIES),
        Metric(
            "owed",
            "Owed for replenishment",
            "money",
            "owed",
            governing="payment_terms",
            filterable=PARTIES,
        ),
        Metric("fill_rate", "Fill rate", "percent", "service", True, filterable=PARTIES),
        Metric(
            "fx_adjustment", "FX gain or loss on open invoices", "money", "fx", filterable=PARTIES
        ),
        Metric(
            "intercompany",
            "Intercompany unrealised profit",
            "money",
            "intercompany",
            filterable=PARTIES,
        ),
        # Settlement (issue 19): the supplier's receivable on consumption invoices (810s)
        # and the buyers' payments (820s), from the settlement figure.
        Metric(
            "receivable",
            "Owed to the supplier on settlements",
            "money",
            "settlement",
            governing="payment_terms",
            filterable=PARTIES,
        ),
        Metric(
            "overdue",
            "Overdue on settlements",
            "money",
            "settlement",
            governing="payment_terms",
            filterable=PARTIES,
        ),
        Metric(
            "invoiced",
            "Invoiced on settlements",
            "money",
            "settlement",
            period=True,
            filterable=PARTIES,
        ),
        Metric(
            "paid", "Paid on settlements", "money", "settlement", period=True, filterable=PARTIES
        ),
        Metric(
            "cash_in",
            "Cash received on settlements",
            "money",
            "settlement",
            filterable=PARTIES,
        ),
        Metric("dso", "Days sales outstanding (DSO)", "days", "settlement", filterable=PARTIES),
        Metric(
            "realised_fx",
            "Realised FX gain or loss on settlement payments",
            "money",
            "settlement",
            filterable=PARTIES,
        ),
        Metric(
            "approvals",
            "Approved orders and their approvers",
            "audit",
            "",
            period=True,
            filterable=("supplier", "buyer", "agreement"),
        ),
    ]
}


@dataclass(frozen=True)
class Named:
    """A thing the question names, resolved: its kind (item, location, supplier, buyer,
    agreement), its key (code) and the label people know it by."""

    kind: str
    key: str
    label: str


@dataclass(frozen=True)
class Query:
    metric: str
    as_of: date
    start: date | None = None
    end: date | None = None
    currency: str | None = None  # reporting currency; None: the configured one
    filters: tuple[Named, ...] = ()
    owner: str | None = None  # "supplier" (consigned) or "buyer"
    group_by: tuple[str, ...] = ()
    weeks: int | None = None  # cash out horizon
    date_said: str = ""

    def named(self, kind: str) -> list[Named]:
        return [f for f in self.filters if f.kind == kind]

    def key(self, kind: str) -> str | None:
        found = self.named(kind)
        return found[0].key if found else None

    def with_(self, **changes) -> Query:
        return replace(self, **changes)

    def as_dict(self) -> dict:
        data = asdict(self)
        for name in ("as_of", "start", "end"):
            data[name] = data[name].isoformat() if data[name] else None
        data["filters"] = [asdict(f) for f in self.filters]
        data["group_by"] = list(self.group_by)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Query:
        """A query as ``as_dict`` wrote it (a reading chosen on the chat page or sent to the
        API); anything else raises ValueError saying what is wrong."""
        if not isinstance(data, dict) or data.get("metric") not in METRICS:
            raise ValueError(f"the metric must be one of {', '.join(METRICS)}")
        kinds = {*DIMENSIONS, "currency"}
        for f in data.get("filters") or ():
            if (
                not isinstance(f, dict)
                or set(f) != {"kind", "key", "label"}
                or f["kind"] not in kinds
            ):
                raise ValueError("each filter is {kind, key, label} with a known kind")
        if data.get("currency") is not None and not (
            isinstance(data["currency"], str) and len(data["currency"]) == 3
        ):
            raise ValueError("the currency is a three-letter code")
        weeks = data.get("weeks")
        if weeks is not None and not (isinstance(weeks, int) and 1 <= weeks <= 104):
            raise ValueError("weeks is a whole number from 1 to 104")
        if any(g not in DIMENSIONS for g in data.get("group_by") or ()):
            raise ValueError(f"group_by takes {', '.join(DIMENSIONS)}")

        def day(value):
            return date.fromisoformat(value) if value else None

        return cls(
            metric=data["metric"],
            as_of=day(data["as_of"]),
            start=day(data.get("start")),
            end=day(data.get("end")),
            currency=data.get("currency"),
            filters=tuple(Named(**f) for f in data.get("filters") or ()),
            owner=data.get("owner"),
            group_by=tuple(data.get("group_by") or ()),
            weeks=data.get("weeks"),
            date_said=data.get("date_said") or "",
        )


@dataclass
class Reading:
    """One way to read a question: the query and how sure the parser is of it."""

    query: Query
    score: float
    why: str = ""
    alternatives_of: str = ""  # what differs from the first reading ("item", "buyer", ...)
    extra: dict = field(default_factory=dict)


def restatement(
    query: Query, *, reporting: str, latest: date | None = None, own_currency: str = ""
) -> str:
    """ "Inventory value, all owners, converted to USD at closing rates, buyer City Mart,
    as of 2026-11-01 (latest reports 2026-11-01)". ``own_currency``: the figure is stated
    in the currency its agreement books it in (as the finance pages state it), not
    converted."""
    metric = METRICS[query.metric]
    parts = [metric.title]
    if metric.kind == "money" and query.metric in ("inventory_value", "exposure"):
        parts.append(
            {"supplier": "consigned stock (supplier-owned)", "buyer": "buyer-owned stock"}.get(
                query.owner or "", "all owners"
            )
        )
    if metric.kind == "money" and own_currency:
        parts.append(f"in {own_currency}, the agreement's currency")
    elif metric.kind == "money":
        cur = query.currency or reporting
        parts.append(f"converted to {cur} at closing rates")
    for kind in ("supplier", "buyer", "agreement", "item", "location"):
        named = query.named(kind)
        if named:
            parts.append(f"{kind} " + ", ".join(n.label for n in named))
    if query.named("currency"):
        parts.append("denominated in " + ", ".join(n.key for n in query.named("currency")))
    if query.group_by:
        parts.append("by " + " and ".join(query.group_by))
    if query.metric == "realised_fx":
        parts.append("each payment at its payment date's rate against its invoice date's")
    if query.metric == "cash_in":
        start = query.as_of - timedelta(days=CASH_WINDOW_DAYS - 1)
        parts.append(f"over the {CASH_WINDOW_DAYS} days from {start.isoformat()}")
    if query.metric == "cash_out":
        parts.append(f"over the next {query.weeks or 12} weeks from {query.as_of.isoformat()}")
    elif metric.period and query.start:
        parts.append(f"from {query.start.isoformat()} to {(query.end or query.as_of).isoformat()}")
    else:
        parts.append(f"as of {query.as_of.isoformat()}")
    text = ", ".join(parts)
    if latest is not None:
        text += f" (latest reports {latest.isoformat()})"
    return text
