"""What a finance question asks: which figures, which agreement clauses, and for which
parties, currency and period. Keyword rules, deterministic and explainable; framework-free.

>>> parties = [KnownParty("acme-supply", "Acme Supply", "supplier")]
>>> intent_for("What is our inventory exposure to ACME in EUR?", parties).figures
('valuation',)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# figure -> phrases that ask for it (checked on the lower-cased question)
FIGURE_WORDS: dict[str, tuple[str, ...]] = {
    "valuation": (
        "exposure",
        "inventory value",
        "value of",
        "worth",
        "valuation",
        "how much stock",
        "how much inventory",
        "stock value",
    ),
    "cashflow": (
        "cash",
        "pay out",
        "payments",
        "outflow",
        "spend on replenishment",
        "goes out",
    ),
    "owed": ("owe", "payable", "outstanding", "invoice"),
    "turnover": (
        "turnover",
        "dio",
        "days inventory",
        "days of inventory",
        "gmroi",
        "weeks of supply",
    ),
    "working-capital": ("working capital", "carrying cost"),
    "fx": (
        "fx",
        "exchange rate",
        "currency loss",
        "currency gain",
        "remeasure",
        "write-down",
        "write down",
        "nrv",
    ),
    "settlement": (
        "overdue",
        "past due",
        "receivable",
        "receivables",
        "dso",
        "days sales outstanding",
        "realised fx",
        "realized fx",
    ),
    "intercompany": (
        "intercompany",
        "inter-company",
        "elimination",
        "unrealised profit",
        "unrealized profit",
    ),
    "service": (
        "fill rate",
        "stockout",
        "stock-out",
        "in-stock",
        "in stock",
        "service level achieved",
    ),
    "scorecard": ("scorecard", "on time", "on-time", "shipped versus", "shipped vs"),
    "continuity": (
        "run out",
        "runs out",
        "stop deliver",
        "stops deliver",
        "continuity",
        "days of cover",
        "last if",
    ),
}

# clause topic -> phrases
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "payment_terms": (
        "payment terms",
        "pay within",
        "terms of payment",
        "when do we pay",
        "due",
        "net 30",
        "days to pay",
    ),
    "ownership": (
        "ownership",
        "own the stock",
        "owns",
        "title",
        "consignment",
        "consigned",
        "risk",
    ),
    "obsolescence": (
        "obsolete",
        "obsolescence",
        "slow-moving",
        "slow moving",
        "dead stock",
        "liable",
        "liability",
        "write off",
        "unsold",
    ),
    "service_level": ("service level", "availability target", "fill target"),
    "lead_time": ("lead time", "deliver within", "delivery time", "how fast", "how quickly"),
    "pricing": ("price", "pricing", "unit cost", "cost per unit", "margin"),
    "currency": ("currency", "invoiced in", "denominated"),
    "data_sharing": ("852", "data sharing", "report inventory", "send data"),
    "termination": ("terminate", "termination", "notice period", "end the agreement"),
}

CLAUSE_CUES = (
    "agreement",
    "contract",
    "clause",
    "say about",
    "says about",
    "terms",
    "what does",
    "deal",
    "supplier",
    "buyer",
    "seller",
)
CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "JPY",
    "CAD",
    "AUD",
    "CNY",
    "MXN",
    "SEK",
    "DKK",
    "NOK",
    "PLN",
)
WEEKS = re.compile(
    r"(?:next|coming|following)\s+(\d+|one|two|three|four|five|six|eight|twelve)\s+weeks?"
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
DATE = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
# "item SOAP", "location S001", "store S001": an item or a location the question narrows to
# (a code: starts with a capital letter or a digit, so "per item and location" is not one).
ITEM_NAMED = re.compile(r"\b(?:item|sku|article)\s+([A-Z0-9][A-Za-z0-9_./-]*)")
LOCATION_NAMED = re.compile(
    r"\b(?:location|store|site|warehouse|dc|shop)\s+([A-Z0-9][A-Za-z0-9_./-]*)"
)
# Questions about the business as a whole, which no figure or clause here answers; they
# must not pull clauses through a weak word ("margin" in "EBITDA margin").
OUT_OF_SCOPE: tuple[str, ...] = (
    "ebitda",
    "ebit",
    "revenue",
    "revenues",
    "net profit",
    "net income",
    "operating profit",
    "profit and loss",
    "p&l",
    "profit margin",
    "operating margin",
    "net margin",
    "margin of the business",
    "business margin",
    "headcount",
    "employees",
    "staff",
    "salary",
    "salaries",
    "payroll",
    "share price",
    "stock price",
    "market cap",
    "dividend",
    "dividends",
    "tax",
    "taxes",
    "budget",
)
EXPLICIT_CLAUSE_CUES = ("agreement", "contract", "clause")


@dataclass(frozen=True)
class KnownParty:
    code: str
    name: str
    role: str  # buyer, supplier, both


@dataclass(frozen=True)
class Intent:
    figures: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    wants_clauses: bool = False
    suppliers: tuple[str, ...] = ()
    buyers: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()
    currency: str | None = None
    weeks: int | None = None
    as_of: str | None = None
    start: str | None = None  # a period: two dates asked ("from A to B"), as_of = end
    end: str | None = None
    items: tuple[str, ...] = ()  # item codes the question narrows to
    locations: tuple[str, ...] = ()  # location codes the question narrows to
    out_of_scope: tuple[str, ...] = ()  # words of a question no figure or clause answers
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        if self.figures and self.wants_clauses:
            return "both"
        if self.figures:
            return "figure"
        if self.wants_clauses:
            return "clause"
        return "unknown"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "figures": list(self.figures),
            "topics": list(self.topics),
            "suppliers": list(self.suppliers),
            "buyers": list(self.buyers),
            "unknown_names": list(self.unknown_names),
            "currency": self.currency,
            "weeks": self.weeks,
            "as_of": self.as_of,
            "start": self.start,
            "end": self.end,
            "items": list(self.items),
            "locations": list(self.locations),
            "out_of_scope": list(self.out_of_scope),
        }


def _has(text: str, phrase: str) -> bool:
    if " " in phrase or "-" in phrase:
        return phrase in text
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None


def _parties(question: str, parties: list[KnownParty]) -> tuple[list[KnownParty], list[str]]:
    """Parties named in the question (by code, full name or a distinctive word of the
    name), and capitalised names that match no party ("Globex")."""
    text = question.lower()
    found: list[KnownParty] = []
    for party in parties:
        names = {party.code.lower(), party.name.lower(), party.code.lower().replace("-", " ")}
        if any(_has(text, name) for name in names if name):
            found.append(party)
    if not found:
        for party in parties:
            words = {w for w in re.split(r"[\s\-]+", party.name.lower()) if len(w) > 3}
            words |= {party.code.split("-")[0].lower()}
            if any(_has(text, w) for w in words if w not in GENERIC_WORDS):
                found.append(party)
    known_words = {w for p in parties for w in re.split(r"[\s\-]+", f"{p.name} {p.code}".lower())}
    # A name is a run of capitalised words where a partner would stand: "the Globex
    # agreement", "exposure to EU Stores", "owe Globex", "Globex's terms".
    name = r"([A-Z][A-Za-z0-9&]+(?:\s+[A-Z][A-Za-z0-9&]+)*)"
    candidates = re.findall(
        rf"(?:\b(?:to|with|from|for|owe|of)\s+|\bthe\s+){name}"
        rf"|{name}(?:'s\b|\s+(?:agreement|contract)\b)",
        question,
    )
    known_names = {p.name.lower() for p in parties} | {p.code.lower() for p in parties}
    unknown = []
    for pair in candidates:
        for candidate in pair:
            words = [w for w in candidate.lower().split() if w not in STOP_CAPITALS]
            if not words or candidate.upper() in CURRENCIES:
                continue
            if candidate.lower() in known_names or all(w in known_words for w in words):
                continue
            unknown.append(candidate)
    return found, unknown


GENERIC_WORDS = {"supply", "stores", "retail", "store", "mart", "demo", "group", "europe", "city"}
STOP_CAPITALS = {
    "what",
    "which",
    "how",
    "does",
    "do",
    "is",
    "are",
    "our",
    "we",
    "the",
    "and",
    "show",
    "give",
    "list",
    "tell",
    "in",
    "for",
    "to",
    "of",
    "me",
    "per",
    "by",
    "with",
    "about",
    "when",
    "who",
    "will",
    "can",
    "us",
    "it",
    "if",
    "nrv",
    "dio",
    "gmroi",
    "fx",
    "po",
    "usd",
    "eur",
    "buyer",
    "seller",
    "supplier",
    "schedule",
    "agreement",
    "intercompany",
    "european",
    "europe",
    "retailer",
    "customer",
}


def _named_codes(
    question: str, pattern: re.Pattern, known: tuple[str, ...] | list[str]
) -> tuple[str, ...]:
    """Codes after "item"/"location" (known or not), and known codes standing alone."""
    found = [m.group(1).rstrip(".,;:?!") for m in pattern.finditer(question)]
    by_lower = {code.lower(): code for code in known}
    found = [by_lower.get(code.lower(), code) for code in found]
    # A code standing alone is a whole run of word characters and hyphens; a set lookup
    # finds those among thousands of codes, the rare code with other characters a search.
    runs = set(_WORD_RUN.findall(question))
    found += [
        code
        for code in known
        if code
        and (
            code in runs
            if _WORD_RUN.fullmatch(code)
            else re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", question)
        )
    ]
    return tuple(dict.fromkeys(found))


_WORD_RUN = re.compile(r"[\w-]+")


def intent_for(
    question: str,
    parties: list[KnownParty],
    *,
    items: tuple[str, ...] | list[str] = (),
    locations: tuple[str, ...] | list[str] = (),
) -> Intent:
    """``items`` and ``locations``: the item and location codes the asker may see, so that
    a question naming one ("SOAP at S001") is known to be narrowed."""
    text = " ".join(question.lower().split())
    figures = [name for name, words in FIGURE_WORDS.items() if any(_has(text, w) for w in words)]
    topics = [name for name, words in TOPIC_WORDS.items() if any(_has(text, w) for w in words)]
    cue = any(c in text for c in CLAUSE_CUES)
    out_of_scope = tuple(w for w in OUT_OF_SCOPE if _has(text, w))
    if out_of_scope and not figures and not any(c in text for c in EXPLICIT_CLAUSE_CUES):
        topics, cue = [], False
    wants_clauses = (bool(topics) and (cue or not figures or "liable" in text)) or (
        not figures and cue
    )
    if "payment terms" in text and "owed" not in figures:
        figures = [f for f in figures if f != "cashflow" or "cash" in text]
    found, unknown = _parties(question, parties)
    named_items = _named_codes(question, ITEM_NAMED, items)
    named_locations = _named_codes(question, LOCATION_NAMED, locations)
    codes = {c.lower() for c in named_items + named_locations}
    unknown = [u for u in unknown if u.lower() not in codes]
    suppliers = tuple(p.code for p in found if p.role in ("supplier", "both"))
    buyers = tuple(p.code for p in found if p.role in ("buyer", "both"))
    currency = next((c for c in CURRENCIES if re.search(rf"\b{c}\b", question.upper())), None)
    weeks = None
    match = WEEKS.search(text)
    if match:
        raw = match.group(1)
        weeks = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
    elif "next month" in text:
        weeks = 4
    dates = sorted(dict.fromkeys(DATE.findall(text)))
    start = end = None
    if len(dates) >= 2:
        start, end = dates[0], dates[-1]
    notes = []
    if found and not suppliers and not buyers:
        notes.append("the parties named have no buyer or supplier role")
    return Intent(
        figures=tuple(figures),
        topics=tuple(topics),
        wants_clauses=wants_clauses,
        suppliers=suppliers,
        buyers=buyers,
        unknown_names=tuple(dict.fromkeys(unknown)),
        currency=currency,
        weeks=weeks,
        as_of=dates[-1] if dates else None,
        start=start,
        end=end,
        items=named_items,
        locations=named_locations,
        out_of_scope=out_of_scope if not (figures or wants_clauses) else (),
        notes=tuple(notes),
    )
