"""The fast path: one compiled regular expression (plus a syntax-rule function) per
segment definition, that accepts a segment only when the thorough checks of
:mod:`.elements` would find nothing wrong with it.

The expression is built from the same tables (types, lengths, required flags, code lists,
character set), for one pair of separators, over the segment's fields joined by the
element separator (which no field can contain: the reader split on it). It is
deliberately *sound, not complete*: whatever it accepts is valid, and whatever it does
not accept goes through the thorough checks, which then say exactly what is wrong. So a
bug here can only cost speed, never a verdict, provided it never accepts a bad segment;
``tests/smi_edi/test_fast_validator.py`` holds it to that with generated segments.

Dates and times are matched as digits and confirmed by the same date rules after the
match; segments whose checks depend on other elements (DTP, 1250/1251 date formats) and
binary elements always take the thorough path.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from .elements import element_errors, valid_type
from .tables import DATE_TYPES, CompositeDef, ElementDef, Segment

FastCheck = Callable[[list[str]], bool]
_UNSAFE_SEPARATORS = set(string.ascii_letters + string.digits + "-. ")


class _NoFastPath(Exception):
    pass


def _charset(icvn: str | None, excluded: set[str]) -> str:
    allowed = [
        c
        for c in map(chr, range(32, 127))
        if valid_type(c, "AN", icvn or "00401") and c not in excluded
    ]
    return "".join(re.escape(c) for c in allowed)


class _Builder:
    def __init__(self, node: Segment, element: str, component: str | None) -> None:
        self.node = node
        self.element = element
        self.component = component
        excluded = {element} | ({component} if component else set())
        self.chars = _charset(node.icvn, excluded)
        self.chars_no_space = _charset(node.icvn, excluded | {" "})
        self.not_sep = "[^" + re.escape(element) + (re.escape(component) if component else "") + "]"
        self.not_elem = "[^" + re.escape(element) + "]"
        self.dates: list[tuple[str, str]] = []  # (group name, data type)

    def value(self, node: ElementDef) -> str:
        """Pattern for a non-empty value with no error."""
        if node.has_codes:
            codes = sorted(
                (
                    c
                    for c in (node.codes | (node.external_codes or frozenset()))
                    if c
                    and self.element not in c
                    and (not self.component or self.component not in c)
                    and not element_errors(node, c)
                ),
                key=lambda c: (-len(c), c),
            )
            if not codes:
                return "(?!)"  # no value can pass: always the thorough path
            return "(?>" + "|".join(re.escape(c) for c in codes) + ")"
        data_type = node.data_type or ""
        low, high = node.min_len, node.max_len
        if high < 1:
            raise _NoFastPath
        if data_type in ("ID", "AN"):
            size = f"{{{max(low, 1)},{high}}}+"
            # values without spaces (nearly all) first; a last character that is a space
            # is an error (trailing spaces) the thorough path words
            return f"(?:[{self.chars_no_space}]{size}(?![{self.chars}])|[{self.chars}]{size}(?<! ))"
        if data_type[:1] == "N":
            return f"-?+[0-9]{{{max(low, 1)},{high}}}+"
        if data_type == "R":
            low = max(low, 1)  # never the empty string; "-" alone takes the thorough path
            # whole numbers (the usual case) first, then numbers with a decimal point: the
            # two never match the same text, so a failing segment backtracks in linear time
            whole = rf"-?+[0-9]{{{low},{high}}}+"
            decimal = rf"-?+(?=(?:\.?[0-9]){{{low},{high}}}(?![0-9.]))[0-9]*+\.[0-9]++"
            return f"(?:{whole}|{decimal})"
        if data_type in ("DT", "D8", "D6", "TM"):
            name = f"d{len(self.dates)}"
            self.dates.append((name, data_type))
            return f"(?P<{name}>[0-9]{{{max(low, 1)},{high}}}+)"
        raise _NoFastPath  # RD8, B, unknown types

    def simple(self, node: ElementDef, required: bool) -> str:
        if node.usage == "N":
            return ""
        pattern = self.value(node)
        return pattern if required else f"(?:{pattern})?+"

    def composite(self, node: CompositeDef) -> str:
        if node.usage == "N":
            return ""
        parts = []
        for child in node.children:
            required = child.usage == "R" and (child.seq != 1 or node.usage == "R")
            parts.append((self.simple(child, required), required))
        body = _sequence(parts, re.escape(self.component) if self.component else None)
        present = f"(?={self.not_elem}*{self.not_sep}){body}"
        return present if node.usage == "R" else f"(?:{present})?+"

    def segment(self) -> str:
        node = self.node
        if node.id == "DTP" or any(
            isinstance(c, ElementDef) and c.data_ele in ("1250", "1251") for c in node.children
        ):
            raise _NoFastPath
        pairs = self.foldable_pairs()
        sep = re.escape(self.element)
        fields = []
        skip = set()
        for index, child in enumerate(node.children, start=1):
            if index in skip:
                continue
            if index in pairs:  # P rule on this element and the next: both or neither
                second = node.children[index]
                both = f"{self.value(child)}{sep}{self.value(second)}"
                fields.append((f"(?:{both}|{sep})", False))  # disjoint: both, or neither
                skip.add(index + 1)
            elif isinstance(child, CompositeDef):
                if self.component is None:
                    raise _NoFastPath
                fields.append((self.composite(child), child.usage == "R"))
            else:
                fields.append((self.simple(child, child.usage == "R"), child.usage == "R"))
        return re.escape(node.id) + _tail(fields, sep)

    def foldable_pairs(self) -> set[int]:
        """First positions of P rules on two neighbouring optional simple elements; the
        expression checks those, the syntax function the other rules."""
        children = self.node.children
        out = set()
        for kind, positions in self.node.syntax:
            if kind != "P" or len(positions) != 2 or positions[1] != positions[0] + 1:
                continue
            a, b = positions
            if b > len(children) or a in out or (a - 1) in out or b in out:
                continue
            first, second = children[a - 1], children[b - 1]
            if all(
                isinstance(c, ElementDef) and c.usage not in ("R", "N") for c in (first, second)
            ):
                out.add(a)
        return out


def _tail(fields: list[tuple[str, bool]], sep: str) -> str:
    """Fields 1..n after the id, each preceded by the separator; trailing fields may be
    left out unless a required one follows."""
    out = ""
    required_after = False
    for pattern, required in reversed(fields):
        required_after = required_after or required
        inner = sep + pattern + out
        out = inner if required_after else f"(?:{inner})?+"
    return out


def _sequence(parts: list[tuple[str, bool]], sep: str | None) -> str:
    if not parts:
        return ""
    if sep is None:
        return parts[0][0]
    first, rest = parts[0][0], parts[1:]
    return first + _tail(rest, sep)


def _syntax_function(node: Segment, folded: set[int]) -> Callable[[list[str]], bool] | None:
    rules = [
        (kind, positions)
        for kind, positions in node.syntax
        if not (kind == "P" and len(positions) == 2 and positions[0] in folded)
    ]
    if not rules:
        return None
    top = max(p for _, positions in rules for p in positions)
    terms = []
    for kind, positions in rules:
        present = [f'(f[{p}] != "")' for p in positions]
        if kind == "P":
            terms.append(f"({' + '.join(present)}) in (0, {len(positions)})")
        elif kind == "R":
            terms.append(f"({' or '.join(present)})")
        elif kind == "E":
            terms.append(f"({' + '.join(present)}) <= 1")
        elif kind == "C":
            terms.append(f'(f[{positions[0]}] == "" or ({" and ".join(present[1:])}))')
        elif kind == "L":
            terms.append(f'(f[{positions[0]}] == "" or {" or ".join(present[1:])})')
    source = (
        "def check(f):\n"
        f"    if len(f) <= {top}:\n"
        f'        f = f + [""] * ({top + 1} - len(f))\n'
        f"    return {' and '.join(terms) or 'True'}\n"
    )
    namespace: dict = {}
    exec(compile(source, f"<syntax {node.id}>", "exec"), namespace)  # our own map data
    return namespace["check"]


def fast_check(node: Segment, element: str, component: str | None) -> FastCheck | None:
    """The compiled check of ``node`` for these separators (cached on the node), or None
    when the node always takes the thorough path."""
    key = (element, component)
    if key in node.fast:
        return node.fast[key]
    check = _build(node, element, component)
    node.fast[key] = check
    return check


def _build(node: Segment, element: str, component: str | None) -> FastCheck | None:
    if element in _UNSAFE_SEPARATORS or (component and component in _UNSAFE_SEPARATORS):
        return None
    if component == element:
        component = None
    builder = _Builder(node, element, component)
    try:
        pattern = builder.segment()
    except _NoFastPath:
        return None
    fullmatch = re.compile(pattern, re.S).fullmatch
    syntax = _syntax_function(node, builder.foldable_pairs())
    dates = builder.dates
    join = element.join
    if syntax is None and not dates:

        def check(fields: list[str]) -> bool:
            return fullmatch(join(fields)) is not None

        check.raw = fullmatch  # type: ignore[attr-defined]  # for runs of raw segments
        return check

    def check_with_rules(fields: list[str]) -> bool:
        m = fullmatch(join(fields))
        if m is None:
            return False
        if syntax is not None and not syntax(fields):
            return False
        for name, data_type in dates:
            value = m.group(name)
            if value is not None and not valid_type(value, data_type):
                return False
        return True

    return check_with_rules


__all__ = ["DATE_TYPES", "fast_check"]
