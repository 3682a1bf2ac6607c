"""The data's own names, as the parser matches them: item codes, GTINs and descriptions,
location codes and names, partner codes, names and the distinctive words of a name,
agreement codes, and currency codes, names and symbols. Each phrase carries a score: a code
or a full name is sure (1.0), a distinctive word of a name less so.

``vocabulary_for`` builds it from the database for the parties a user may see; the rest is
framework-free.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

CURRENCY_NAMES: dict[str, tuple[str, ...]] = {
    "USD": ("usd", "us dollars", "us dollar", "dollars", "dollar", "$", "bucks"),
    "EUR": ("eur", "euros", "euro", "€"),
    "GBP": ("gbp", "pounds", "pound sterling", "sterling", "pound", "£", "quid"),
    "CHF": ("chf", "swiss francs", "francs"),
    "JPY": ("jpy", "yen", "¥"),
    "CAD": ("cad", "canadian dollars"),
    "AUD": ("aud", "australian dollars"),
    "SEK": ("sek", "swedish kronor", "kronor"),
    "DKK": ("dkk", "danish kroner"),
    "NOK": ("nok", "norwegian kroner"),
    "PLN": ("pln", "zloty", "zlotys"),
    "CNY": ("cny", "yuan", "renminbi"),
    "MXN": ("mxn", "pesos"),
}
# words of names that say nothing on their own
GENERIC = {
    "store",
    "stores",
    "supply",
    "retail",
    "mart",
    "group",
    "the",
    "and",
    "of",
    "dc",
    "main",
    "street",
    "road",
    "ml",
    "l",
    "pack",
    "rolls",
    "inc",
    "ltd",
    "gmbh",
    "co",
    "company",
    "trading",
    "foods",
    "europe",
    "shop",
    "market",
    "warehouse",
    "centre",
    "center",
    "m",
}


def _plural(term) -> str:
    """Descriptions and names also match in the plural ("hand soaps"); codes do not."""
    return "(?:s|es)?" if term.phrase[-1:].isalpha() and term.phrase.islower() else ""


@dataclass(frozen=True)
class Term:
    kind: str  # item, location, supplier, buyer, agreement, currency
    key: str
    label: str
    phrase: str  # lower case
    score: float


@dataclass
class Vocabulary:
    terms: list[Term] = field(default_factory=list)
    reporting: str = "USD"
    _patterns: list | None = None

    def patterns(self) -> list[tuple[re.Pattern, Term]]:
        if self._patterns is None:
            self._patterns = [
                (re.compile(rf"(?<![\w-]){re.escape(t.phrase)}{_plural(t)}(?![\w-])"), t)
                if t.phrase[0].isalnum()
                else (re.compile(re.escape(t.phrase)), t)
                for t in self.terms
            ]
        return self._patterns

    def add_item(self, key: str, code: str, gtin: str, description: str, aliases=()) -> None:
        label = f"{code} ({description})" if description else code
        self.terms.append(Term("item", key, label, code.lower(), 1.0))
        for alias in aliases:
            self.terms.append(Term("item", key, label, alias.lower(), 0.98))
        if gtin:
            self.terms.append(Term("item", key, label, gtin.lower(), 1.0))
            if gtin.startswith("0") and len(gtin) == 14:
                self.terms.append(Term("item", key, label, gtin[1:].lower(), 1.0))
        if description:
            text = description.lower()
            self.terms.append(Term("item", key, label, text, 0.95))
            words = [w for w in re.split(r"\s+", text) if not re.fullmatch(r"[\d.,]+|[a-z]", w)]
            core = [w for w in words if w not in GENERIC]
            if len(core) >= 2:
                self.terms.append(Term("item", key, label, " ".join(core), 0.9))
            for word in core:
                if len(word) > 3:
                    self.terms.append(Term("item", key, label, word, 0.6))
                    if word.endswith("s") and len(word) > 4:
                        self.terms.append(Term("item", key, label, word[:-1], 0.58))

    def add_location(self, key: str, code: str, name: str) -> None:
        label = f"{code} ({name})" if name else code
        self.terms.append(Term("location", key, label, code.lower(), 1.0))
        if name:
            self.terms.append(Term("location", key, label, name.lower(), 0.95))
            self._compact("location", key, label, name, 0.9)
            words = [w for w in name.lower().split() if w not in GENERIC and len(w) > 2]
            for word in words:
                if not word.isdigit():
                    self.terms.append(Term("location", key, label, word, 0.55))
            number = re.fullmatch(r"store (\d+).*", name.lower())
            if number:
                self.terms.append(Term("location", key, label, f"store {number.group(1)}", 0.9))

    def add_party(self, kind: str, code: str, name: str, aliases=()) -> None:
        self.terms.append(Term(kind, code, name, code.lower(), 1.0))
        if "-" in code:
            self.terms.append(Term(kind, code, name, code.lower().replace("-", " "), 0.95))
        self.terms.append(Term(kind, code, name, name.lower(), 1.0))
        self._compact(kind, code, name, name, 0.95)
        for alias in aliases:
            self.terms.append(Term(kind, code, name, alias.lower(), 0.97))
        words = [w for w in re.split(r"[\s-]+", name.lower()) if w not in GENERIC and len(w) > 2]
        for word in words:
            self.terms.append(Term(kind, code, name, word, 0.7))

    def _compact(self, kind: str, key: str, label: str, name: str, score: float) -> None:
        """A name of several words also matches written as one ("Citymart", "City-Mart")."""
        words = re.split(r"[\s-]+", name.lower().strip())
        if len(words) > 1:
            for joined in ("".join(words), "-".join(words)):
                if joined != name.lower():
                    self.terms.append(Term(kind, key, label, joined, score))

    def add_agreement(self, code: str, label: str) -> None:
        self.terms.append(Term("agreement", code, label, code.lower(), 0.99))

    def add_currencies(self, codes=None) -> None:
        for code, names in CURRENCY_NAMES.items():
            if codes is None or code in codes or code in ("USD", "EUR", "GBP"):
                for name in names:
                    self.terms.append(Term("currency", code, code, name, 1.0))


def vocabulary_for(party_ids: frozenset[int] | None) -> Vocabulary:
    """The names of what the parties ``party_ids`` (None: all) may see."""
    from django.conf import settings

    from smi_core.models import Item, Location, Party, SupplyAgreement

    vocab = Vocabulary(reporting=settings.SMI_REPORTING_CURRENCY)
    parties = Party.objects.all()
    items = Item.objects.select_related("supplier")
    locations = Location.objects.select_related("party")
    agreements = SupplyAgreement.objects.select_related("supplier", "buyer")
    if party_ids is not None:
        parties = parties.filter(pk__in=party_ids)
        items = items.filter(supplier_id__in=party_ids)
        locations = locations.filter(party_id__in=party_ids)
        agreements = agreements.filter(supplier_id__in=party_ids) | agreements.filter(
            buyer_id__in=party_ids
        )
    roles: dict[str, set[str]] = defaultdict(set)
    currencies = set()
    for agreement in agreements:
        roles[agreement.supplier.code].add("supplier")
        roles[agreement.buyer.code].add("buyer")
        currencies.add(agreement.currency)
        vocab.add_agreement(
            agreement.code,
            f"{agreement.code} ({agreement.supplier.name} to {agreement.buyer.name})",
        )
    for party in parties:
        kinds = roles.get(party.code) or (
            {"supplier"}
            if party.role == "supplier"
            else {"buyer"}
            if party.role == "buyer"
            else {"supplier", "buyer"}
        )
        for kind in sorted(kinds):
            vocab.add_party(kind, party.code, party.name)
    for item in items:
        vocab.add_item(item.vendor_item, item.vendor_item, item.gtin or "", item.description or "")
    for location in locations:
        vocab.add_location(
            f"{location.party.code}/{location.code}", location.code, location.name or ""
        )
    vocab.add_currencies(currencies | {vocab.reporting})
    return vocab
