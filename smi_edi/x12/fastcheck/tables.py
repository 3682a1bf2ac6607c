"""The map directory compiled into tables the fast validator walks (framework-free).

pyx12's map files stay the single source of truth: this module reads the same XML
(``maps.xml``, ``dataele.xml``, ``codes.xml`` and each map) with lxml and builds, once
per directory, plain node objects holding exactly what pyx12's ``map_if`` nodes hold for
validation: loops with their children in position order (pyx12's ``pos_map``), segments
with their element and composite definitions, data element types and lengths, code lists
and syntax rules, plus the counter keys pyx12's ``NodeCounter`` uses (the node's path).

Names, usages, positions, repeats and paths follow pyx12 4.0.0's ``map_if`` constructors
to the letter, because they end up in error texts and in which node a segment matches.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

MAXINT = 2147483647
DATE_TYPES = ("RD8", "DT", "D8", "D6")


class MapError(Exception):
    """A map the compiler cannot use (pyx12 would fail on it too)."""


def _text(elem, name: str) -> str | None:
    value = elem.get(name)
    if value:
        return value
    return elem.findtext(name)


def _required(elem, name: str) -> str:
    value = elem.get(name) or elem.findtext(name)
    if value is None:
        raise MapError(f"Required attribute or child {name!r} missing on <{elem.tag}>")
    return value


class Node:
    """What pyx12's nodes share: identity is (id, parent id), as in ``x12_node.__eq__``."""

    __slots__ = ("eqkey", "fullpath", "id", "key", "name", "parent", "path", "usage")
    is_loop = False
    is_segment = False
    is_root = False

    def _read(self, elem, parent) -> int:
        """The attributes a segment and a loop read alike from the map; returns ``pos``."""
        self.parent = parent
        self.id = elem.get("xid")
        self.path = self.id or ""
        self.name = _text(elem, "name")
        self.usage = _text(elem, "usage")
        return int(_required(elem, "pos"))

    def _finish_path(self) -> None:
        parent_path = self.parent.fullpath
        self.fullpath = "/" + self.path if parent_path == "/" else parent_path + "/" + self.path
        self.key = _counter_key(self.fullpath)
        self.eqkey = (self.id, self.parent.id)


def _counter_key(path: str) -> str:
    """pyx12's counter keys are X12Path objects; equal paths format to equal strings."""
    from pyx12.path import X12Path  # the reference's own parser, used at compile time only

    return X12Path(path).format()


class ElementDef:
    __slots__ = (
        "code_list",
        "codes",
        "data_ele",
        "data_type",
        "ele_pos",
        "external",
        "external_codes",
        "id",
        "in_composite",
        "max_len",
        "min_len",
        "name",
        "parent",
        "refdes",
        "seq",
        "subele_pos",
        "usage",
    )

    def __init__(self, elem, parent, data_elements, codesets) -> None:
        self.id = elem.get("xid")
        self.refdes = self.id
        self.data_ele = _text(elem, "data_ele")
        self.usage = _text(elem, "usage")
        self.name = _text(elem, "name")
        self.seq = int(_required(elem, "seq"))
        self.parent = parent
        spec = data_elements.get(self.data_ele or "")
        if spec is None:
            raise MapError(f'Data Element "{self.data_ele}" is not defined ({self.id})')
        self.data_type, self.min_len, self.max_len = spec
        self.code_list: list[str | None] = []
        self.external = None
        valid = elem.find("valid_codes")
        if valid is not None:
            self.external = valid.get("external")
            self.code_list = [c.text for c in valid.findall("code")]
        self.codes = frozenset(self.code_list)
        self.external_codes: frozenset | None = None
        if self.external is not None:
            if self.external not in codesets:
                raise MapError(f'External Code "{self.external}" is not defined ({self.id})')
            self.external_codes = codesets[self.external]
        self.in_composite = isinstance(parent, CompositeDef)
        if self.in_composite:
            self.ele_pos, self.subele_pos = parent.seq, self.seq
        else:
            self.ele_pos, self.subele_pos = self.seq, None

    @property
    def has_codes(self) -> bool:
        return bool(self.codes) or self.external is not None


class CompositeDef:
    __slots__ = ("children", "data_ele", "id", "name", "parent", "refdes", "seq", "usage")

    def __init__(self, elem, parent, data_elements, codesets) -> None:
        self.id = elem.get("xid")
        self.refdes = elem.findtext("refdes") or self.id
        self.data_ele = _text(elem, "data_ele")
        self.usage = _text(elem, "usage")
        self.seq = int(_required(elem, "seq"))
        self.name = _text(elem, "name")
        self.parent = parent
        self.children = [
            ElementDef(e, self, data_elements, codesets) for e in elem.findall("element")
        ]


class Segment(Node):
    __slots__ = (
        "children",
        "fast",
        "icvn",
        "match_key",
        "max_repeat",
        "max_use",
        "pos",
        "qualifier",
        "repeats_alone",
        "runs",
        "syntax",
    )
    is_segment = True

    def __init__(self, elem, parent, tables) -> None:
        self.pos = self._read(elem, parent)
        self.max_use = _text(elem, "max_use")
        self.max_repeat = (
            MAXINT if self.max_use is None or self.max_use == ">1" else int(self.max_use)
        )
        self.syntax: list[tuple[str, tuple[int, ...]]] = []
        for s in elem.findall("syntax"):
            text = s.text
            if text and text[0] in "PRCLE":
                digits = text[1:]
                self.syntax.append(
                    (
                        text[0],
                        tuple(int(digits[i * 2 : i * 2 + 2]) for i in range(len(digits) // 2)),
                    )
                )
        children = {}
        for e in elem.findall("element"):
            children[int(_required(e, "seq"))] = e
        for e in elem.findall("composite"):
            children[int(_required(e, "seq"))] = e
        self.children: list[ElementDef | CompositeDef] = []
        for seq in sorted(children):
            e = children[seq]
            cls = ElementDef if e.tag == "element" else CompositeDef
            self.children.append(cls(e, self, tables.data_elements, tables.codesets))
        for i, child in enumerate(self.children):
            if child.seq != i + 1:
                raise MapError(f"segment {self.id}: element positions are not 1, 2, 3...")
        self.match_key = self._match_key()
        self.qualifier = self._qualifier()
        self.fast = {}  # (element sep, component sep) -> compiled fast check
        self.repeats_alone = False  # set once the parent loop is built
        self.runs = False  # repeats alone, and its compiled check selects only this node

    def _first_three(self):
        c = self.children
        return (
            c[0] if len(c) > 0 else None,
            c[1] if len(c) > 1 else None,
            c[2] if len(c) > 2 else None,
        )

    def _match_key(self):
        """pyx12 ``segment_if._resolve_unique_key_field(with_qual=False)``: where the
        qualifier that tells same-named segments apart is read, and its codes."""
        c0, c1, c2 = self._first_three()
        if (
            isinstance(c0, ElementDef)
            and c0.data_type == "ID"
            and c0.usage == "R"
            and len(c0.code_list) > 0
        ):
            return (1, None, c0.codes)
        if (
            self.id == "ENT"
            and isinstance(c1, ElementDef)
            and c1.data_type == "ID"
            and len(c1.code_list) > 0
        ):
            return (2, None, c1.codes)
        if (
            self.id == "CTX"
            and isinstance(c0, CompositeDef)
            and c0.children[0].data_type == "AN"
            and len(c0.children[0].code_list) > 0
        ):
            return (1, 1, c0.children[0].codes)
        if (
            isinstance(c0, CompositeDef)
            and c0.children[0].data_type == "ID"
            and len(c0.children[0].code_list) > 0
        ):
            return (1, 1, c0.children[0].codes)
        if self.id == "HL" and isinstance(c2, ElementDef) and len(c2.code_list) > 0:
            return (3, None, c2.codes)
        return None

    def _qualifier(self) -> str | None:
        """pyx12 ``guess_unique_key_id_element``: the first code, appended to the path of
        a segment that shares its position with others (``REF[IA]``)."""
        c0, c1, c2 = self._first_three()
        if isinstance(c0, ElementDef) and c0.data_type == "ID" and len(c0.code_list) > 0:
            return c0.code_list[0] or ""
        if (
            self.id == "ENT"
            and isinstance(c1, ElementDef)
            and c1.data_type == "ID"
            and len(c1.code_list) > 0
        ):
            return c1.code_list[0] or ""
        if (
            isinstance(c0, CompositeDef)
            and c0.children[0].data_type == "ID"
            and len(c0.children[0].code_list) > 0
        ):
            return c0.children[0].code_list[0] or ""
        if self.id == "HL" and isinstance(c2, ElementDef) and len(c2.code_list) > 0:
            return c2.code_list[0] or ""
        return None


class Loop(Node):
    __slots__ = (
        "children",
        "descendant_keys",
        "first",
        "max_repeat",
        "pos",
        "positions",
        "repeat",
    )
    is_loop = True

    def __init__(self, elem, parent, tables) -> None:
        self.pos = self._read(elem, parent)
        self.repeat = _text(elem, "repeat")
        self.max_repeat = (
            MAXINT if self.repeat is None or self.repeat in ("&gt;1", ">1") else int(self.repeat)
        )
        _build_children(self, elem, tables)


class Root(Node):
    __slots__ = ("children", "descendant_keys", "first", "icvn", "map_id", "positions")
    is_root = True

    def __init__(self, elem, tables) -> None:
        self.parent = None
        self.id = elem.get("xid")
        self.map_id = self.id
        self.name = _text(elem, "name")
        self.usage = None
        self.path = "/"
        self.fullpath = "/"
        self.key = "/"
        self.eqkey = (self.id, None)
        _build_children(self, elem, tables)
        pending = list(self.children)
        while pending:  # paths top-down, once every qualifier suffix is known
            node = pending.pop(0)
            node._finish_path()
            if node.is_loop:
                pending.extend(node.children)
        _count_apart(self)
        isa = self.find("ISA_LOOP", "ISA")
        try:
            self.icvn = isa.children[11].code_list[0] if isa is not None else None
        except (IndexError, AttributeError):
            self.icvn = None
        for node in self.walk():
            if node.is_segment:
                node.icvn = self.icvn

    def find(self, *ids: str):
        node = self
        for wanted in ids:
            node = next((c for c in node.children if c.id.lower() == wanted.lower()), None)
            if node is None:
                return None
        return node

    def walk(self):
        stack = list(self.children)
        while stack:
            node = stack.pop()
            yield node
            if node.is_loop:
                stack.extend(node.children)


def _count_apart(root) -> None:
    """Give each of two same-named sibling segments that their qualifiers tell apart a
    counter of its own. pyx12 keys its counts by path, and a qualifier only enters the path
    when it is an ID element, so the 999's two CTX forms in loop 2100 (segment context,
    up to 9, told apart by CTX01-01 "SITUATIONAL TRIGGER"; business unit identifier, one,
    CTX01-01 CLM01, TRN02...) share one count in pyx12: a loop with one of each is
    reported as "CTX exceeded max count" (AK3 code 5). A known pyx12 4.0.0 defect; here
    the business unit CTX is counted on its own."""
    loops = [root]
    while loops:
        loop = loops.pop()
        seen: dict[str, int] = {}
        for child in loop.children:
            if child.is_loop:
                loops.append(child)
                continue
            if child.match_key is None or child.qualifier is not None:
                continue  # an ID qualifier is in the path already, as in pyx12
            n = seen.get(child.key, 0)
            seen[child.key] = n + 1
            if n:
                child.key = f"{child.key}#{n + 1}"


def _build_children(node, elem, tables) -> None:
    """Children in pyx12's ``pos_map`` iteration order: by position, and within one
    position the loops (as the XML lists them) before the segments."""
    by_pos: dict[int, list] = {}
    for e in elem.findall("loop"):
        child = Loop(e, node, tables)
        by_pos.setdefault(child.pos, []).append(child)
    for e in elem.findall("segment"):
        child = Segment(e, node, tables)
        by_pos.setdefault(child.pos, []).append(child)
    for pos in sorted(by_pos):
        if len(by_pos[pos]) > 1:
            for child in by_pos[pos]:
                if child.is_segment:
                    qualifier = child.qualifier
                    if qualifier is not None:
                        child.path = child.path + "[" + qualifier + "]"
    node.children = [c for pos in sorted(by_pos) for c in by_pos[pos]]
    node.positions = [c.pos for c in node.children]
    node.first = node.children[0] if node.children else None
    for index, child in enumerate(node.children):
        # pyx12's walk from this segment, meeting the same segment again, can only land
        # on this node: it is the first child scanned at its position, it does not start
        # the loop (that would be the loop repeating), and its usage is R or S.
        first_at_pos = index == start_index(node, child.pos)
        if child.is_segment and node.is_loop and first_at_pos:
            first = node.first
            child.repeats_alone = (
                first.is_segment and first.id != child.id and child.usage in ("R", "S")
            )
            key = child.match_key
            qualifier = child.children[key[0] - 1] if key is not None else None
            child.runs = child.repeats_alone and (
                key is None
                or (key[1] is None and qualifier.external is None and qualifier.usage == "R")
            )


def start_index(loop, pos: int) -> int:
    """Index of the first child whose position is at least ``pos``."""
    return bisect.bisect_left(loop.positions, pos)


@dataclass
class Tables:
    """One map directory, compiled."""

    path: Path
    data_elements: dict[str, tuple[str, int, int]]
    codesets: dict[str, frozenset]
    index: list[tuple[str, str, str, str]]  # (icvn, vriic, fic, file) in maps.xml order
    maps: dict[str, Root] = field(default_factory=dict)
    _descendants: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _all_keys: set[str] = field(default_factory=set)
    # segment id -> where its qualifiers are read (element, component), over all maps
    qualifiers: dict[str, tuple] = field(default_factory=dict)
    plans: dict = field(default_factory=dict)  # the walker's plans, per component separator

    def map_file(self, icvn: str | None, vriic: str | None, fic: str | None) -> str | None:
        for entry_icvn, entry_vriic, entry_fic, name in self.index:
            if entry_icvn == icvn and entry_vriic == vriic and entry_fic == fic:
                return name
        return None

    def load(self, name: str) -> Root:
        root = self.maps.get(name)
        if root is None:
            file = self.path / name
            if not file.exists():
                raise MapError(f"map file {name} is not in {self.path}")
            root = Root(etree.parse(str(file)).getroot(), self)
            self.maps[name] = root
            self._index_keys(root)
        return root

    def _index_keys(self, root: Root) -> None:
        self._all_keys.update(node.key for node in root.walk())
        self._descendants = {}
        for node in root.walk():
            if node.is_segment and node.match_key is not None:
                specs = set(self.qualifiers.get(node.id, ()))
                specs.add(node.match_key[:2])
                self.qualifiers[node.id] = tuple(sorted(specs, key=lambda s: (s[0], s[1] or 0)))

    def descendants(self, key: str) -> tuple[str, ...]:
        """Counter keys pyx12's ``NodeCounter.reset_to_node(key)`` deletes."""
        hit = self._descendants.get(key)
        if hit is None:
            root = key.split("/")
            hit = tuple(
                k
                for k in self._all_keys
                if len(k.split("/")) > len(root) and k.split("/")[: len(root)] == root
            )
            self._descendants[key] = hit
        return hit


def compile_directory(map_path: str | os.PathLike) -> Tables:
    """Compile ``map_path`` (every map it indexes, and both control maps)."""
    path = Path(map_path)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(path.glob("*.xml")) if p.is_file())
    return _compile(str(path), stamp)


@lru_cache(maxsize=4)
def _compile(path: str, _stamp: tuple) -> Tables:
    base = Path(path)
    data_elements = {
        el.get("ele_num"): (el.get("data_type"), int(el.get("min_len")), int(el.get("max_len")))
        for el in etree.parse(str(base / "dataele.xml")).getroot().iter("data_ele")
    }
    codesets = {
        cs.findtext("id"): frozenset(c.text for c in cs.iterfind("version/code"))
        for cs in etree.parse(str(base / "codes.xml")).getroot().iter("codeset")
    }
    index = []
    for version in etree.parse(str(base / "maps.xml")).getroot().iter("version"):
        for entry in version.iterfind("map"):
            index.append(
                (
                    version.get("icvn"),
                    entry.get("vriic"),
                    entry.get("fic"),
                    (entry.text or "").strip(),
                )
            )
    tables = Tables(base, data_elements, codesets, index)
    for name in ("x12.control.00401.xml", "x12.control.00501.xml"):
        tables.load(name)  # transaction maps are compiled when a group first needs one
    return tables
