"""Supply agreements split into clauses, with a topic for each. Framework-free.

A clause starts at a numbered heading and runs to the next one. Recognised headings:

* Markdown: ``## 4. Payment terms`` (any level ``#`` to ``######``; ``## Clause 4 - ...``
  too);
* plain text (what a .txt file or a PDF's extracted text has): ``4. Payment terms``,
  ``4 Payment terms`` is *not* taken (too easily a sentence), ``Clause 4 - Payment terms``,
  ``Section 4: ...`` and ``Article 4. ...``. A plain ``4. Something`` line is a heading only
  when it is short (at most 10 words, 80 characters) and does not end like a sentence
  (``.``, ``,``, ``;``, ``:``), so a numbered list inside a clause stays in its clause.

Text before the first heading (the document title, a preamble) belongs to no clause. A
document without any heading gives one clause numbered ``""`` holding all its text.

Within a clause, lines wrapped by the author are joined with spaces; blank lines separate
paragraphs (kept as ``"\\n\\n"``).

>>> [c.number for c in split_clauses("# T\\n\\n## 1. Scope\\nA.\\n\\n## 2. Pricing\\nB.",
...                                  agreement="x")]
['1', '2']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TOPICS = (
    "payment_terms",
    "ownership",
    "obsolescence",
    "service_level",
    "lead_time",
    "pricing",
    "currency",
    "data_sharing",
    "scope",
    "termination",
    "other",
)


@dataclass(frozen=True)
class Clause:
    agreement: str  # the agreement's code, e.g. "acme-city-mart"
    number: str  # "4", "4.2"; "" for a document without numbered headings
    title: str  # "Payment terms"
    text: str  # the clause's body, without its heading
    topic: str  # one of TOPICS

    @property
    def embedding_text(self) -> str:
        """What is embedded and searched: the title, then the body."""
        return f"{self.title}. {self.text}" if self.title else self.text


_NUMBER = r"(\d{1,3}(?:\.\d{1,3})*)"
_SEP = r"\s*[-\u2013\u2014:.)]?\s*"
_MARKDOWN = re.compile(
    rf"^\s{{0,3}}#{{1,6}}\s+(?:(?:clause|section|article)\s+)?{_NUMBER}\.?{_SEP}(.*?)\s*#*\s*$",
    re.IGNORECASE,
)
_KEYWORD = re.compile(
    rf"^\s*(?:clause|section|article)\s+{_NUMBER}\.?{_SEP}(.+?)\s*$",
    re.IGNORECASE,
)
_PLAIN = re.compile(rf"^\s*{_NUMBER}\.\s+(\S.*?)\s*$")
_MD_TITLE = re.compile(r"^\s{0,3}#{1,6}\s")


def _plain_heading(line: str) -> tuple[str, str] | None:
    match = _KEYWORD.match(line)
    if match:
        return match.group(1), match.group(2)
    match = _PLAIN.match(line)
    if not match:
        return None
    title = match.group(2)
    if len(title) > 80 or len(title.split()) > 10 or title[-1] in ".,;:":
        return None
    if not title[0].isupper():
        return None
    return match.group(1), title


def _heading(line: str) -> tuple[str, str] | None:
    match = _MARKDOWN.match(line)
    if match:
        return match.group(1), match.group(2).strip()
    if _MD_TITLE.match(line):
        return None
    return _plain_heading(line)


def _tidy(lines: list[str]) -> str:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def split_clauses(text: str, *, agreement: str) -> list[Clause]:
    """The numbered clauses of an agreement's text (Markdown or plain), in order."""
    sections: list[tuple[str, str, list[str]]] = []
    preamble: list[str] = []
    for line in text.splitlines():
        heading = _heading(line)
        if heading:
            sections.append((heading[0], heading[1], []))
        elif sections:
            sections[-1][2].append(line)
        else:
            preamble.append(line)
    if not sections:
        body = _tidy([line for line in preamble if not _MD_TITLE.match(line)])
        if not body:
            return []
        return [Clause(agreement, "", "", body, topic_for("", body))]
    clauses = []
    for number, title, lines in sections:
        body = _tidy(lines)
        clauses.append(Clause(agreement, number, title, body, topic_for(title, body)))
    return clauses


# topic -> patterns (regular expressions, matched case-insensitively on word starts).
# The order is the priority: the title is tried first and its first matching topic wins
# ("Obsolete and slow-moving stock" is obsolescence, "Ownership and consignment" is
# ownership, "Transfer pricing" is pricing). A title that matches nothing (or no title)
# falls back to the body: the topic whose patterns match most often, ties to the earlier
# topic; no match at all gives "other" (e.g. "Minimum order").
TOPIC_RULES: dict[str, tuple[str, ...]] = {
    "obsolescence": (
        r"obsole",
        r"slow[- ]moving",
        r"discontinu",
        r"buy[- ]?back",
        r"dead stock",
        r"write[- ]?off",
    ),
    "payment_terms": (
        r"payment",
        r"pays?\b",
        r"paid\b",
        r"credit terms",
        r"due date",
        r"net \d+",
    ),
    "ownership": (
        r"ownership",
        r"title\b",
        r"consign",
        r"risk of loss",
        r"retention of title",
        r"owns?\b",
    ),
    "service_level": (r"service level", r"fill rate", r"availability"),
    "lead_time": (r"lead[- ]time", r"deliver", r"shipment", r"shipping", r"transit time"),
    "currency": (r"currenc", r"exchange rate", r"\bfx\b", r"denominat"),
    "pricing": (r"pric", r"unit cost", r"margin", r"rebate", r"discount", r"tariff"),
    "data_sharing": (
        r"data",
        r"\b852\b",
        r"\bedi\b",
        r"activity report",
        r"information",
        r"forecast sharing",
    ),
    "termination": (r"terminat", r"expir", r"renewal", r"duration", r"notice period"),
    "scope": (
        r"scope",
        r"parties",
        r"purpose",
        r"definitions",
        r"territory",
        r"products covered",
    ),
}
_COMPILED = {
    topic: tuple(re.compile(r"(?<![a-z0-9])" + p, re.IGNORECASE) for p in patterns)
    for topic, patterns in TOPIC_RULES.items()
}


def topic_for(title: str, text: str) -> str:
    """The clause's topic (one of TOPICS) by the keyword rules in TOPIC_RULES."""
    for topic, patterns in _COMPILED.items():
        if any(p.search(title) for p in patterns):
            return topic
    best, best_hits = "other", 0
    for topic, patterns in _COMPILED.items():
        hits = sum(len(p.findall(text)) for p in patterns)
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


TEXT_SUFFIXES = (".md", ".markdown", ".txt")


def document_text(path: str | Path) -> str:
    """The text of an agreement file: .md/.markdown/.txt as UTF-8, .pdf through pypdf.

    Raises ValueError for any other file type and for a PDF pypdf cannot read."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return path.read_text(encoding="utf-8")
    if suffix == ".pdf":
        try:
            from pypdf import PdfReader
            from pypdf.errors import PyPdfError
        except ImportError as exc:  # pragma: no cover - pypdf is a project dependency
            raise ValueError(f"reading {path.name} needs pypdf: pip install pypdf") from exc
        try:
            reader = PdfReader(str(path))
            return "\n".join((page.extract_text() or "") for page in reader.pages)
        except PyPdfError as exc:
            raise ValueError(f"{path.name} is not a readable PDF: {exc}") from exc
    raise ValueError(
        f"unsupported agreement file type {suffix or '(none)'!r} for {path.name}: "
        f"expected one of {', '.join((*TEXT_SUFFIXES, '.pdf'))}"
    )
