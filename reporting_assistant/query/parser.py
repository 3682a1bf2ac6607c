"""From a question to readings of it (:class:`Reading`, best first), built from the data's
own names (:mod:`vocabulary`), dates in words (:mod:`dates`) and the metric catalogue.

The metric comes from exact rules where a phrase settles it ("DIO", "owe", "in transit"),
else from the nearest labelled examples by the shipped embeddings. Names are matched
longest first, so "ACME-1001" is the item and never the partner Acme; a phrase that fits
two or three things equally well gives as many readings. "in USD"/"in euros" is the
currency to report in; "denominated in EUR" is a filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from reporting_assistant.query.dates import when
from reporting_assistant.query.model import METRICS, Named, Query, Reading
from reporting_assistant.query.vocabulary import Term, Vocabulary

# (metric, phrases), the first that matches wins; checked on the lower-cased question
RULES: tuple[tuple[str, tuple[str | re.Pattern, ...]], ...] = (
    ("gmroi", ("gmroi", "return on inventory", "margin return", "gross margin return")),
    (
        "dso",
        (
            "dso",
            "days sales outstanding",
            "days sale outstanding",
            "days of sales outstanding",
            "days to collect",
            "days to get paid",
            "collection period",
            "how long buyers take to pay",
            "how long do buyers take to pay",
        ),
    ),
    (
        "dio",
        (
            "dio",
            "days inventory",
            "days of inventory",
            "days in inventory",
            "days sales of inventory",
            "days on hand",
            "how many days of stock",
        ),
    ),
    (
        "weeks_of_supply",
        ("weeks of supply", "weeks of cover", "weeks of stock", "weeks of inventory", "wos"),
    ),
    ("turnover", ("turnover", "inventory turns", "stock turns", "turn over", "turns")),
    ("working_capital", ("working capital", "capital released", "capital freed", "cash tied up")),
    (
        "fill_rate",
        (
            "fill rate",
            "fill-rate",
            "service level achieved",
            "fillrate",
            "orders filled",
            "demand filled",
        ),
    ),
    (
        "projected_stockouts",
        (
            "projected stockout",
            "projected stock-out",
            "stockout risk",
            "stock-out risk",
            "risk of stockout",
            "risk of running out",
            "going to run out",
            "will run out",
            "about to run out",
            "run out next",
            "stockouts coming",
            "stock out next",
            "will stock out",
            "running out",
            "run dry",
            "next week's stockouts",
            "stockouts next",
        ),
    ),
    (
        "out_of_stock",
        (
            "out of stock",
            "out-of-stock",
            "stocked out",
            "stockout",
            "stock-out",
            "no stock left",
            "zero stock",
            "empty shelves",
            "nothing on the shelf",
            "sold out",
        ),
    ),
    (
        "intercompany",
        ("intercompany", "inter-company", "unrealised profit", "unrealized profit", "elimination"),
    ),
    (
        "realised_fx",
        (
            *(
                f"{r} {w}"
                for r in ("realised", "realized")
                for w in ("fx", "exchange", "currency", "gain", "loss", "gains", "losses")
            ),
            "fx on payments",
            "fx on settlements",
            "fx on settlement",
        ),
    ),
    (
        "fx_adjustment",
        (
            "fx",
            "exchange gain",
            "exchange loss",
            "currency gain",
            "currency loss",
            "remeasure",
            "forex",
            "exchange rate effect",
            "exchange-rate effect",
        ),
    ),
    (
        "overdue",
        ("overdue", "past due", "past-due", "late payment", "paying late", "pay late", "arrears"),
    ),
    (
        "receivable",
        (
            "owe us",
            "owes us",
            "owed to us",
            "owing us",
            "owing to us",
            "due to us",
            "receivable",
            "receivables",
            "still to collect",
            "debtors",
            "aged debt",
            "ageing",
            "aging",
        ),
    ),
    (
        "cash_in",
        (
            "cash in",
            "cash-in",
            "cash received",
            "cash collected",
            "cash came in",
            "cash come in",
            "cash coming in",
            "money came in",
            "received against",
            "collections",
        ),
    ),
    (
        "invoiced",
        ("invoiced", "billed", "did we invoice", "did we bill", "invoice total"),
    ),
    (
        "owed",
        (
            "owe",
            "owed",
            "owing",
            "payable",
            "payables",
            "outstanding",
            "amount due",
            "amounts due",
            "unpaid",
        ),
    ),
    (
        "cash_out",
        (
            "cash out",
            "cash-out",
            "cash outflow",
            "outflow",
            "pay out",
            "cash goes out",
            "cash will go out",
            "spend on replenishment",
            "cash needed",
            "cash requirement",
            "payments coming",
            "going out the door",
            "cash burn",
            "how much cash",
        ),
    ),
    (
        "paid",
        (
            "paid",
            "pay us",
            "payments received",
            "payment received",
            "remitted",
            "remittances",
            # "what did City Mart pay", "has Kestrel paid" (not "have to pay")
            re.compile(r"(?<![\w-])(?:did|has|have|does)\s(?:(?!to\s)[\w-]+\s){1,4}?pay(?![\w-])"),
        ),
    ),
    (
        "in_transit",
        ("in transit", "in-transit", "on the way", "en route", "on the road", "being shipped"),
    ),
    ("on_order", ("on order", "on-order", "open orders", "ordered but", "still ordered")),
    (
        "sold",
        (
            "sold",
            " sell",
            "sales in units",
            "units sold",
            "sell-through",
            "shift",
            "move",
            "moved",
            "went out of the store",
        ),
    ),
    (
        "approvals",
        (
            "approvals",
            "approved orders",
            "approvers",
            "orders approved",
            "who approves",
            "approved",
        ),
    ),
    ("exposure", ("exposure", "exposed", "on the hook", "at stake")),
    (
        "on_hand",
        (
            "on hand",
            "on-hand",
            "how many units",
            "how many",
            "units in stock",
            "units do we have",
            "units are there",
            "stock count",
            "pieces",
            "units",
        ),
    ),
    ("inventory_quantity", ("quantity", "how much stock in units", "volume of stock")),
    (
        "inventory_value",
        (
            "inventory value",
            "stock value",
            "value",
            "worth",
            "valuation",
            "how much stock",
            "how much inventory",
            "sitting in stock",
            "tied up in stock",
            "inventory",
            "stock",
        ),
    ),
)
# labelled examples for the nearest-neighbour intent when no rule fires
EXAMPLES: dict[str, tuple[str, ...]] = {
    "inventory_value": (
        "what is our stock worth",
        "how much money is sitting on the shelves",
        "total inventory at cost",
    ),
    "exposure": ("how much are we exposed to", "what do we risk losing on this customer's stock"),
    "on_hand": ("how many pieces are left", "count of units at the store"),
    "sold": ("how many did the shop get rid of", "sales volume of the item"),
    "out_of_stock": ("which shelves are empty", "what has nothing left"),
    "projected_stockouts": ("what will be missing soon", "which products may be short next week"),
    "turnover": ("how fast does the stock rotate", "how quickly does inventory cycle"),
    "dio": ("how long does stock sit before it sells",),
    "gmroi": ("how much margin does each dollar of stock earn",),
    "weeks_of_supply": ("how long will the stock last",),
    "working_capital": ("how much money did we free up",),
    "cash_out": ("how much will we have to pay suppliers in the coming weeks",),
    "owed": ("what bills are open", "what do we still have to pay"),
    "fill_rate": ("how much of demand did we serve",),
    "fx_adjustment": ("what did currency moves cost us",),
    "intercompany": ("profit inside the group to eliminate",),
    "approvals": ("which orders got signed off",),
}
GROUP = re.compile(
    r"\b(?:by|per|for each|broken down by|split by|across|each)\s+"
    r"(supplier|vendor|buyer|customer|retailer|owner|item|product|sku|article|location|store|site|shop|agreement|contract|week)s?\b"
)
GROUP_NAMES = {
    "vendor": "supplier",
    "customer": "buyer",
    "retailer": "buyer",
    "product": "item",
    "sku": "item",
    "article": "item",
    "store": "location",
    "site": "location",
    "shop": "location",
    "contract": "agreement",
}
REPORT_IN = re.compile(
    r"\b(?:in|into|to|as|expressed in|converted to|converted into)\s+(?:the\s+)?$"
)
FILTER_IN = re.compile(r"\b(?:denominated in|invoiced in|priced in|billed in)\s+$")
# "on EUR invoices", "GBP payments": the currency of the documents, a filter
FILTER_BEFORE = re.compile(
    r"\s+(?:invoices?|bills?|settlements?|payments?|receivables?|remittances?)\b"
)
SUPPLIER_CUE = re.compile(
    r"\b(?:supplier|vendor|from|supplied by|exposure to|exposed to|owe|owed to|pay)\s+(?:the\s+)?$"
)
BUYER_CUE = re.compile(r"\b(?:buyer|customer|retailer|at|for|with|client)\s+(?:the\s+)?$")
AUDIT = re.compile(
    r"\bwho\b.*?\b(approved|approve|proposed|propose|created|overrode|overrid(?:e|den)|shipped|ship|confirmed|rejected)\b"
    r"|\bwhen\s+(?:was|were|did)\b.*?\b(approved|proposed|shipped|confirmed|rejected|overridden|created)\b"
)
ORDER_REF = re.compile(
    r"\b(?:po|order|purchase order)\s*(?:number|no\.?|#)?\s*([A-Z]{2,}[0-9]{4,})\b|\b([A-Z]{3}\d{7})\b",
    re.I,
)
PROPOSAL_REF = re.compile(r"\bproposal\s*(?:number|no\.?|#)?\s*(\d+)\b", re.I)
WEEKS_AHEAD = re.compile(
    r"\b(?:next|coming|following)\s+(\d+|one|two|three|four|five|six|eight|twelve)\s+weeks?\b"
)
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "twelve": 12,
}
CONSIGNED = (
    "consigned",
    "consignment",
    "supplier-owned",
    "supplier owned",
    "owned by the supplier",
    "we still own",
    "our own stock",
    "stock we own",
)
BUYER_OWNED = ("buyer-owned", "buyer owned", "owned by the buyer", "owned by buyers", "they own")
# "does the supplier own", "the buyers own", "owned by the vendor", "the retailer's own stock"
OWNER_SAID = re.compile(
    r"\b(?:(?:the|our|a|each)\s+)?(supplier|vendor|buyer|customer|retailer)s?(?:'s?)?\s+"
    r"(?:\w+\s+){0,2}?own(?:s|ed)?\b"
    r"|\bowned\s+by\s+(?:the\s+|our\s+)?(supplier|vendor|buyer|customer|retailer)s?\b"
)
OWNER_ROLES = {"vendor": "supplier", "customer": "buyer", "retailer": "buyer"}
# an item named with one of these and no figure asked: its units on hand ("how much hand
# soap do we have?")
QUANTITY_CUE = re.compile(
    r"\b(?:how much|how many|do we have|have we got|do they have|is there|are there|left|remaining)\b"
)


@dataclass
class Audit:
    action: str
    po_number: str = ""
    proposal: int | None = None


@dataclass
class Parse:
    readings: list[Reading] = field(default_factory=list)
    audit: Audit | None = None
    not_understood: list[str] = field(default_factory=list)
    metric_from: str = ""  # "rule", "word" (a catch-all word), "examples" or "owner" (who owns)
    more: list[Query] = field(default_factory=list)  # further metrics asked in the question


@dataclass
class _Match:
    start: int
    end: int
    terms: list[Term]


def _matches(text: str, vocab: Vocabulary) -> list[_Match]:
    spans: dict[tuple[int, int], list[Term]] = {}
    for pattern, term in vocab.patterns():
        for m in pattern.finditer(text):
            spans.setdefault((m.start(), m.end()), []).append(term)
    taken: list[_Match] = []
    # longest first: "acme-1001" before "acme", "city mart downtown" before "city mart"
    for (start, end), terms in sorted(
        spans.items(), key=lambda kv: (-(kv[0][1] - kv[0][0]), kv[0][0])
    ):
        if any(start < t.end and t.start < end for t in taken):
            continue
        taken.append(_Match(start, end, terms))
    taken.extend(_misspelt(text, vocab, taken))
    return sorted(taken, key=lambda m: m.start)


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one letter added, dropped, changed or two swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    )


def _misspelt(text: str, vocab: Vocabulary, taken: list[_Match]) -> list[_Match]:
    """A word of five letters or more that matched nothing and is one typing slip away from
    a name of one word ("Citymrat", "Berlni"), at a lower score than the name itself."""
    words = {
        t.phrase: t
        for t in vocab.terms
        if t.kind != "currency" and len(t.phrase) >= 5 and t.phrase.isalpha()
    }
    found = []
    for m in re.finditer(r"(?<![\w-])[a-z]{5,}(?![\w-])", text):
        if any(m.start() < t.end and t.start < m.end() for t in taken):
            continue
        terms = [
            Term(t.kind, t.key, t.label, m.group(0), round(t.score * 0.85, 3))
            for phrase, t in words.items()
            if _one_edit(m.group(0), phrase)
        ]
        if terms:
            found.append(_Match(m.start(), m.end(), terms))
    return found


WEAK = {
    "on_hand": (
        "how many units",
        "how many",
        "units do we have",
        "units are there",
        "units",
        "pieces",
    ),
    "inventory_value": ("value", "inventory", "stock"),
}


def _found(text: str, phrase: str | re.Pattern) -> re.Match | None:
    """``phrase`` in ``text`` as whole words; a phrase starting with a space (" sell") only
    where a word starts with it ("sells", "selling", not "bestseller"); a pattern as it
    is."""
    if isinstance(phrase, re.Pattern):
        return phrase.search(text)
    if phrase.startswith(" "):
        return re.search(rf"(?<![\w-]){re.escape(phrase.strip())}", text)
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?:s|es)?(?![\w-])", text)


def _metrics(text: str, embed=None) -> tuple[list[str], float, str]:
    """The metrics asked for, in the order the question names them. A phrase that settles a
    metric is blanked out before the next rules are tried ("stockout risk" is not also
    "stockout"); the catch-all words ("stock", "value", "how many") count only when no other
    rule matched; with no rule, the nearest labelled examples decide."""
    found: list[tuple[int, str]] = []
    for metric, phrases in RULES:
        for phrase in phrases:
            if isinstance(phrase, str) and phrase.strip() in WEAK.get(metric, ()):
                continue
            while match := _found(text, phrase):
                if metric not in [m for _, m in found]:
                    found.append((match.start(), metric))
                text = (
                    text[: match.start()]
                    + " " * (match.end() - match.start())
                    + text[match.end() :]
                )
    if not found:
        for metric, phrases in WEAK.items():
            for phrase in phrases:
                match = _found(text, phrase)
                if match:
                    return [metric], 0.9, "word"
    if found:
        return [m for _, m in sorted(found)], 1.0, "rule"
    if embed is not None:
        hit = embed(text)
        if hit is not None:
            return [hit[0]], hit[1], "examples"
    return [], 0.0, ""


def _metric(text: str, embed=None) -> tuple[str | None, float, str]:
    metrics, score, source = _metrics(text, embed)
    return (metrics[0] if metrics else None), score, source


# phrases of the question's grammar that are nobody's name ("on hand" is not "Hand soap")
NOT_NAMES = re.compile(
    r"\b(?:on[ -]hand|in[ -]transit|on[ -]order|out of stock|in stock|at hand|by hand|"
    r"by (?:item|location|store|supplier|buyer|owner|week|agreement)s?|per (?:item|location|store)s?)\b"
)


def _role_terms(terms: list[Term], before: str) -> list[Term]:
    """A party named where a supplier stands ("from Acme") is the supplier, "at"/"buyer"
    the buyer."""
    kinds = {t.kind for t in terms}
    if {"supplier", "buyer"} <= kinds:
        if SUPPLIER_CUE.search(before):
            return [t for t in terms if t.kind != "buyer"]
        if BUYER_CUE.search(before):
            return [t for t in terms if t.kind != "supplier"]
    return terms


def _best(terms: list[Term]) -> list[Term]:
    """The terms within 0.05 of the best score, one per thing (kind, key)."""
    top = max(t.score for t in terms)
    seen: dict[tuple[str, str], Term] = {}
    for t in sorted(terms, key=lambda t: -t.score):
        if t.score >= top - 0.05:
            seen.setdefault((t.kind, t.key), t)
    return list(seen.values())


def parse(
    question: str, vocab: Vocabulary, *, today: date, embed=None, default: date | None = None
) -> Parse:
    """``default``: the day a question naming none is as of (the site's reporting date;
    None: ``today``); words such as "last week" or "today" count from ``today``."""
    text = " ".join(question.lower().split())
    result = Parse()
    audit = AUDIT.search(text)
    if audit:
        action = audit.group(1) or audit.group(2)
        po = ORDER_REF.search(question)
        proposal = PROPOSAL_REF.search(question)
        result.audit = Audit(
            action=action,
            po_number=((po.group(1) or po.group(2)).upper() if po else ""),
            proposal=int(proposal.group(1)) if proposal else None,
        )
        return result
    metrics, score, source = _metrics(text, embed)
    metric = metrics[0] if metrics else None
    result.metric_from = source
    moment = when(text, today, default)
    currency = None
    currency_filter = None
    filters: list[list[Term]] = []
    masked = NOT_NAMES.sub(lambda m: " " * len(m.group(0)), text)
    for match in _matches(masked, vocab):
        before = text[max(0, match.start - 30) : match.start]
        terms = match.terms
        if any(t.kind == "currency" for t in terms):
            code = terms[0].key
            if FILTER_IN.search(before) or FILTER_BEFORE.match(masked, match.end):
                currency_filter = code
            else:
                currency = code
            continue
        terms = _best(_role_terms(terms, before))
        known = {(t.kind, t.key) for group in filters for t in group}
        if any((t.kind, t.key) in known for t in terms):
            continue  # the same thing named twice ("hand soap ACME-1001")
        filters.append(terms)
    owner = None
    said = OWNER_SAID.search(text)
    if any(p in text for p in CONSIGNED):
        owner = "supplier"
    elif any(p in text for p in BUYER_OWNED):
        owner = "buyer"
    elif said:
        role = said.group(1) or said.group(2)
        owner = OWNER_ROLES.get(role, role)
    if metric is None and said:
        # "what do the buyers own?": the value of what they own, not the ownership clause
        metric, score, source = "inventory_value", 0.9, "owner"
    elif (
        metric is None
        and QUANTITY_CUE.search(text)
        and any(t.kind == "item" for group in filters for t in group)
    ):
        metric, score, source = "on_hand", 0.85, "word"
    if metric is None:
        result.not_understood.append("which figure you are asking about")
        return result
    result.metric_from = source
    group_by = []
    for m in GROUP.finditer(text):
        name = GROUP_NAMES.get(m.group(1), m.group(1))
        if name not in group_by and name in (*METRICS[metric].dimensions, "owner"):
            group_by.append(name)
    weeks = None
    ahead = WEEKS_AHEAD.search(text)
    if ahead:
        weeks = NUMBER_WORDS.get(ahead.group(1)) or int(ahead.group(1))
    elif "next week" in text:
        weeks = 1
    elif "next month" in text:
        weeks = 4
    as_of, start, end = period_for(metric, moment, today)
    base = Query(
        metric=metric,
        as_of=as_of,
        start=start,
        end=end,
        currency=currency,
        owner=owner,
        group_by=tuple(group_by),
        weeks=weeks,
        date_said=moment.said,
    )
    if currency_filter:
        base = base.with_(filters=(Named("currency", currency_filter, currency_filter),))
    # one reading per choice of the ambiguous names (at most three in all)
    readings = [Reading(base, score, why=source)]
    for terms in filters:
        grown = []
        for reading in readings:
            for n, term in enumerate(terms[:3]):
                query = reading.query.with_(
                    filters=(*reading.query.filters, Named(term.kind, term.key, term.label))
                )
                differs = reading.alternatives_of or (term.kind if n else "")
                grown.append(Reading(query, reading.score * term.score, reading.why, differs))
        readings = grown[:3]
    result.readings = sorted(readings, key=lambda r: -r.score)
    first = result.readings[0].query
    for other in metrics[1:4]:
        day, begin, finish = period_for(other, moment, today)
        result.more.append(first.with_(metric=other, as_of=day, start=begin, end=finish))
    return result


def period_for(metric: str, moment, today: date) -> tuple[date, date | None, date | None]:
    """The as-of day and the period (start, end) of ``metric`` for what the question said
    about time: a period metric with no period said is over the 13 weeks up to the day (the
    dashboard's default), units sold over the last full week."""
    as_of, start, end = moment.as_of, None, None
    spec = METRICS[metric]
    if spec.period and moment.start:
        start, end = moment.start, moment.end
    elif spec.period and metric not in ("sold", "approvals"):
        start, end = as_of - timedelta(weeks=13) + timedelta(days=1), as_of
    elif spec.period and metric == "sold":
        # the last full week up to the day said, else up to the default day
        last = when("last week", moment.as_of)
        start, end = last.start, last.end
        as_of = end
    return as_of, start, end


def nearest_examples(embedder, threshold: float = 0.55):
    """A function question -> (metric, similarity) by the labelled examples, or None."""
    import numpy as np

    labels = [m for m, texts in EXAMPLES.items() for _ in texts]
    texts = [t for texts in EXAMPLES.values() for t in texts]
    matrix = np.asarray(embedder.embed_documents(texts), dtype="float32")

    def embed(text: str):
        vector = np.asarray(embedder.embed_query(text), dtype="float32")
        scores = matrix @ vector
        best = int(scores.argmax())
        if float(scores[best]) < threshold:
            return None
        return labels[best], round(float(scores[best]), 3)

    return embed
