"""Validate X12 interchanges: our reader's envelope checks plus pyx12's map validation.

    results = validate(path_or_bytes)        # -> list[InterchangeResult]

Each interchange is normalised into a copy pyx12 4.0.0 can read (:mod:`.normalise`), run
through ``pyx12.x12n_document`` with our map directory (``smi_edi/maps``, built by
:mod:`.maps_build`), and pyx12's error tree (``pyx12.error_handler.err_handler``) is
turned into the 997/999 vocabulary of :mod:`.results`: per set the segment errors (AK3
codes, segment position in the set and in the file), their element errors (AK4 codes,
element/component position, element number, bad value), the set status and AK502 codes;
per group the status and AK905 codes; and a sentence for every problem.

Envelope problems (counts, control numbers, missing trailers) come from our reader, which
checks them while it reads; pyx12's own envelope findings are dropped as duplicates.

What is a rejection and what is a note:

* any segment or element error pyx12 finds rejects the set (AK501 R), as pyx12 does;
* a non-ASCII character (replaced by '?' in pyx12's copy) is an AK4 code 6 that is only
  *noted* (AK501 E): the set is accepted with errors;
* HL01 numbers that do not run 1, 2, 3... are a note without AK3; an HL02 naming a parent
  that does not precede it rejects the set;
* a group whose sets we have no map for (810, 860, ...) is not fed to pyx12; its sets get
  AK502 1 "transaction set not supported". A group sent with an unexpected GS01 or GS08
  (an 852 under GS01 SQ, a 003030 852) is validated with the nearest map, with a note.

Unreadable input raises :class:`~smi_edi.x12.errors.X12SyntaxError` (from the reader), as
before; anything pyx12 itself cannot handle gives a result with errors, never a crash.
"""

from __future__ import annotations

import contextvars
import io
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.params
import pyx12.path
import pyx12.segment
import pyx12.x12n_document
from lxml import etree
from pyx12.map_if import segment_if

from .acks import group_status
from .envelope_results import REJECTING_GROUP_CODES, REJECTING_SET_CODES, results_from_envelopes
from .errors import readable
from .fastcheck.engine import Engine
from .fastcheck.tables import compile_directory
from .normalise import GroupContext, GroupPlan, NormalisedInterchange, normalise
from .reader import Source, X12Reader, is_digits
from .results import (
    ELEMENT_ERROR_TEXT,
    SEGMENT_ERROR_TEXT,
    ElementError,
    InterchangeResult,
    SegmentError,
    SetResult,
    SetStatus,
)

DEFAULT_MAP_PATH = Path(__file__).resolve().parent.parent / "maps"

# The sets we have maps for: (ST01, version family) -> (GS01, GS08) pyx12 is given.
SUPPORTED: dict[tuple[str, str], tuple[str, str]] = {
    ("810", "4"): ("IN", "004010"),
    ("810", "5"): ("IN", "005010"),
    ("820", "4"): ("RA", "004010"),
    ("820", "5"): ("RA", "005010"),
    ("846", "4"): ("IB", "004010"),
    ("846", "5"): ("IB", "005010"),
    ("850", "4"): ("PO", "004010"),
    ("850", "5"): ("PO", "005010"),
    ("852", "4"): ("PD", "004010"),
    ("852", "5"): ("PD", "005010"),
    ("855", "4"): ("PR", "004010"),
    ("855", "5"): ("PR", "005010"),
    ("856", "4"): ("SH", "004010"),
    ("856", "5"): ("SH", "005010"),
    ("997", "4"): ("FA", "004010"),
    ("997", "5"): ("FA", "005010"),
    ("999", "4"): ("FA", "005010X231A1"),
    ("999", "5"): ("FA", "005010X231A1"),
}
_TAKEN = sorted({set_id for set_id, _ in SUPPORTED})
# "810, 820, ... 997 and 999", for the message refusing any other set
TAKEN_TEXT = f"{', '.join(_TAKEN[:-1])} and {_TAKEN[-1]}"

# --------------------------------------------------------------------------------------
# pyx12 plumbing: silence its logging; get hold of the error tree x12n_document builds.
# --------------------------------------------------------------------------------------

_pyx12_logger = logging.getLogger("pyx12")
_pyx12_logger.addHandler(logging.NullHandler())
_pyx12_logger.propagate = False
_pyx12_logger.setLevel(logging.CRITICAL)

_CAPTURE: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "smi_pyx12_capture", default=None
)
_ErrHandler = pyx12.error_handler.err_handler


class _CapturingErrHandler(_ErrHandler):
    """pyx12's error handler, unchanged, that also hands itself to whoever is listening
    (x12n_document creates one and returns only a boolean)."""

    def __init__(self) -> None:
        super().__init__()
        sink = _CAPTURE.get()
        if sink is not None:
            sink.append(self)


if not issubclass(pyx12.error_handler.err_handler, _CapturingErrHandler):
    pyx12.error_handler.err_handler = _CapturingErrHandler  # type: ignore[misc]


def _speed_up_pyx12() -> None:
    """Two behaviour-preserving shortcuts that double pyx12's speed on our maps (measured:
    0.07 -> 0.16 MB/s on an 852): ``Segment._parse_refdes`` parsed the same "03" or
    "03-1" into an X12Path for every element of every segment, and
    ``segment_if.get_child_node_by_idx`` scanned all children to find child ``idx``."""
    segment_cls = pyx12.segment.Segment
    if getattr(segment_cls, "_smi_fast", False):
        return
    parsed: dict[str, tuple[str | None, int | None, int | None]] = {}

    def parse_refdes(self, ref_des: str) -> tuple[int | None, int | None]:
        hit = parsed.get(ref_des)
        if hit is None:
            xp = pyx12.path.X12Path(ref_des)
            hit = (
                xp.seg_id,
                xp.ele_idx - 1 if xp.ele_idx is not None else None,
                xp.subele_idx - 1 if xp.subele_idx is not None else None,
            )
            if len(parsed) < 10_000:
                parsed[ref_des] = hit
        if hit[0] is not None and hit[0] != self.seg_id:
            raise pyx12.errors.EngineError(
                f"Invalid Reference Designator: {ref_des}, seg_id: {self.seg_id}"
            )
        return hit[1], hit[2]

    slow_child = segment_if.get_child_node_by_idx

    def child_by_idx(self, idx: int):
        children = self.children
        if 0 <= idx < len(children) and children[idx].seq == idx + 1:
            return children[idx]
        return slow_child(self, idx)

    # pyx12 parses each map file again for every document; the parsed maps hold no
    # per-document state (counts live in the walker), so one parse per file is enough.
    load_map_file = pyx12.map_if.load_map_file
    loaded: dict[tuple, Any] = {}

    def load_map_file_once(map_file, param, map_path=None):
        key = (map_file, os.fspath(map_path) if map_path else None, param.get("charset"))
        key += (param.get("exclude_external_codes"), _mtime(Path(map_path or ".") / map_file))
        if key not in loaded:
            loaded[key] = load_map_file(map_file, param, map_path)
        return loaded[key]

    pyx12.map_if.load_map_file = load_map_file_once
    segment_cls._parse_refdes = parse_refdes  # type: ignore[method-assign]
    segment_if.get_child_node_by_idx = child_by_idx  # type: ignore[method-assign]
    segment_cls._smi_fast = True  # type: ignore[attr-defined]


_speed_up_pyx12()


def run_pyx12(text: str, map_path: str | os.PathLike) -> Any:
    """Validate ``text`` (one normalised interchange) with pyx12; return its error tree.

    Exceptions from pyx12 propagate; the tree built so far is attached to them as
    ``exc.errh`` (None if pyx12 failed before building one)."""
    sink: list = []
    token = _CAPTURE.set(sink)
    try:
        # ParamsBase: the defaults (extended character set), not ~/.pyx12.conf.xml
        pyx12.x12n_document.x12n_document(
            pyx12.params.ParamsBase(), io.StringIO(text), None, None, map_path=os.fspath(map_path)
        )
    except Exception as exc:
        exc.errh = sink[0] if sink else None  # type: ignore[attr-defined]
        raise
    finally:
        _CAPTURE.reset(token)
    return sink[0] if sink else None


class _FastSink:
    """Feeds one interchange's normalised segments to the compiled validator. A failure
    (a map it cannot use) stops this interchange's validation, never the file's."""

    def __init__(self, tables: Any, element: str, component: str | None) -> None:
        self.engine = Engine(tables, element=element, component=component)
        self.feed = self.engine.feed  # keeps a failure to itself, like the pyx12 engine
        self.run = self.engine.run
        self.ran = self.engine.ran

    def finish(self) -> tuple[tuple[Any, str | None], dict[int, list[str]]]:
        tree = self.engine.finish()
        element = self.engine.element
        recorded = {
            node.cur_line: node.fields.split(element)
            if isinstance(node.fields, str)
            else node.fields
            for isa in tree.children
            for gs in isa.children
            for st in gs.children
            for node in st.children
            if node.fields is not None
        }
        return (tree, self.engine.failure), recorded


def _fast_sink(map_path: Path):
    tables = compile_directory(map_path)

    def make(reader: X12Reader, _version: str) -> _FastSink:
        component = reader.delimiters.component
        return _FastSink(
            tables, reader.delimiters.element, component if component.isascii() else None
        )

    return make


# --------------------------------------------------------------------------------------
# The map directory, read once per path (and again when a file changes).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapDirectory:
    path: Path
    index: dict[tuple[str, str, str], str]  # (ISA12, GS08, GS01) -> map file
    elements: dict[str, tuple[str, int, int, str]]  # number -> (type, min, max, name)
    codesets: dict[str, tuple[str, ...]]

    def map_file(self, version: str, gs08: str, gs01: str) -> str | None:
        return self.index.get((version, gs08, gs01))

    def describe(self, map_file: str) -> MapInfo:
        return _map_info(str(self.path / map_file), _mtime(self.path / map_file))


@dataclass(frozen=True)
class MapInfo:
    set_id: str
    segment_ids: frozenset[str]
    codes: dict[str, tuple[str, ...]]  # element refdes (ZA01, CTP05-01) -> valid codes
    external: dict[str, str]  # element refdes -> external code set id
    elements: dict[str, tuple[str, str]]  # element refdes -> (data element, name)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def load_map_directory(map_path: str | os.PathLike | None = None) -> MapDirectory:
    path = Path(map_path) if map_path is not None else DEFAULT_MAP_PATH
    stamp = tuple(_mtime(path / name) for name in ("maps.xml", "dataele.xml", "codes.xml"))
    return _load_map_directory(str(path), stamp)


@lru_cache(maxsize=8)
def _load_map_directory(path: str, _stamp: tuple) -> MapDirectory:
    base = Path(path)
    index: dict[tuple[str, str, str], str] = {}
    for version in etree.parse(str(base / "maps.xml")).getroot().iter("version"):
        for entry in version.iter("map"):
            key = (version.get("icvn") or "", entry.get("vriic") or "", entry.get("fic") or "")
            index.setdefault(key, (entry.text or "").strip())
    elements = {
        el.get("ele_num"): (
            el.get("data_type"),
            int(el.get("min_len")),
            int(el.get("max_len")),
            el.get("name"),
        )
        for el in etree.parse(str(base / "dataele.xml")).getroot().iter("data_ele")
    }
    codesets = {
        (cs.findtext("id") or ""): tuple(c.text or "" for c in cs.iterfind("version/code"))
        for cs in etree.parse(str(base / "codes.xml")).getroot().iter("codeset")
    }
    return MapDirectory(base, index, elements, codesets)


@lru_cache(maxsize=32)
def _map_info(path: str, _mtime_stamp: float) -> MapInfo:
    root = etree.parse(path).getroot()
    st_loop = next((lp for lp in root.iter("loop") if lp.get("xid") == "ST_LOOP"), root)
    segment_ids = frozenset(s.get("xid") for s in st_loop.iter("segment"))
    codes: dict[str, tuple[str, ...]] = {}
    external: dict[str, str] = {}
    elements: dict[str, tuple[str, str]] = {}
    for el in root.iter("element"):
        xid = el.get("xid") or ""
        elements.setdefault(xid, (el.findtext("data_ele") or "", el.findtext("name") or ""))
        for v in el.findall("valid_codes"):
            if v.get("external"):
                external.setdefault(xid, v.get("external"))
            inline = tuple(c.text or "" for c in v.findall("code"))
            if inline:
                codes.setdefault(xid, inline)
    return MapInfo(root.get("xid") or "", segment_ids, codes, external, elements)


# --------------------------------------------------------------------------------------
# Choosing a map for a group
# --------------------------------------------------------------------------------------


def _family(gs08: str, copy_version: str) -> tuple[str, bool]:
    """'4' or '5', and whether that is a guess (GS08 not 004xxx / 005xxx)."""
    head = gs08[:3]
    if head == "004":
        return "4", False
    if head == "005":
        return "5", False
    if is_digits(head) and len(head) == 3:
        return ("4" if head < "005" else "5"), True
    return ("5" if copy_version == "00501" else "4"), True


def _planner(maps: MapDirectory):
    def plan(ctx: GroupContext) -> GroupPlan:
        gs = ctx.gs
        gs01 = gs[1] if len(gs) > 1 else ""
        gs08 = gs[8] if len(gs) > 8 else ""
        set_id = ctx.first_set_id
        if set_id is None:
            return GroupPlan(include=False, message="the group holds no transaction set")
        family, guessed = _family(gs08, ctx.version)
        wanted = SUPPORTED.get((set_id, family))
        if wanted is None:
            return GroupPlan(
                include=False,
                set_code="1",
                message=(
                    f"transaction set {set_id} is not one we validate or process "
                    f"(we take {TAKEN_TEXT})"
                ),
            )
        fic, vriic = wanted
        canonical = maps.map_file(ctx.version, vriic, fic)
        if canonical is None:
            return GroupPlan(
                include=False,
                set_code="1",
                message=f"the map directory has no map for {set_id} {vriic}",
            )
        if maps.map_file(ctx.version, gs08, gs01) == canonical:
            return GroupPlan(include=True, gs01=gs01, gs08=gs08, set_id=set_id)
        notes = []
        if gs01 != fic:
            notes.append(
                f"GS01 {gs01!r} is not the functional identifier of {set_id} sets ({fic!r})"
            )
        if guessed or maps.map_file(ctx.version, gs08, fic) is None:
            notes.append(f"GS08 {gs08!r} has no map of its own")
        note = "; ".join(notes) + f"; its sets were validated against the {vriic} {set_id} map."
        return GroupPlan(
            include=True, gs01=fic, gs08=vriic, set_id=set_id, note=note[0].upper() + note[1:]
        )

    return plan


# --------------------------------------------------------------------------------------
# Findings per interchange, merged into the envelope results at the end
# --------------------------------------------------------------------------------------


@dataclass
class _SetFindings:
    segment_errors: list[SegmentError] = field(default_factory=list)
    set_codes: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    rejected: bool = False
    noted: bool = False
    validated: bool = False


@dataclass
class _Findings:
    interchange_errors: list[str] = field(default_factory=list)
    group_messages: dict[int, list[str]] = field(default_factory=dict)  # GS number ->
    group_codes: dict[int, list[str]] = field(default_factory=dict)
    sets: dict[int, _SetFindings] = field(default_factory=dict)  # ST number ->

    def set(self, st_number: int) -> _SetFindings:
        return self.sets.setdefault(st_number, _SetFindings())


class _StructureChecks:
    """Checks pyx12 gets wrong, made on the segments as they are fed to it.

    * A LIN followed directly by a LIN: pyx12 re-enters the LIN loop before it looks at
      the loop's children, so the missing mandatory ZA loop goes unreported.
    * HL trees: pyx12 checks HL02 against its own count of HL segments, not against the
      HL01 values sent, so a tree numbered 5, 6, 7 is "broken" and a parent that does not
      exist may pass. Here HL02 must name an earlier HL01 of the same set, HL01 must be
      unique, and HL01 numbers that do not run 1, 2, 3 are a note.
    """

    def __init__(self) -> None:
        self.st_number = 0
        self.set_id = ""
        self.previous = ""
        self.previous_number = 0
        self.hl_ids: set[str] = set()
        self.hl_count = 0
        self.sequence_noted = False
        # (ST number, SegmentError or None, message, rejects)
        self.found: list[tuple[int, SegmentError | None, str, bool]] = []

    def runs_ok(self, segment_id: str) -> bool:
        """Whether a run of these segments may pass unseen (only ST, LIN and HL matter)."""
        return segment_id not in ("ST", "LIN", "HL")

    def ran(self, segment_id: str, last_number: int) -> None:
        self.previous, self.previous_number = segment_id, last_number

    def __call__(self, elements: list[str], number: int) -> None:
        segment_id = elements[0]
        if segment_id == "ST":
            self.set_id = elements[1] if len(elements) > 1 else ""
            self.st_number = number
            self.hl_ids, self.hl_count, self.sequence_noted = set(), 0, False
        elif segment_id == "LIN" and self.previous == "LIN" and self.set_id == "852":
            self._missing_za(number)
        elif segment_id == "HL":
            self._hl(elements, number)
        self.previous, self.previous_number = segment_id, number

    def _missing_za(self, number: int) -> None:
        position = number - self.st_number + 1
        lin = self.previous_number - self.st_number + 1
        message = (
            f"mandatory loop ZA is missing after LIN segment {lin} (file segment "
            f"{self.previous_number}): every LIN needs at least one ZA"
        )
        error = SegmentError("ZA", position, "3", message, file_segment_number=number)
        self.found.append((self.st_number, error, message, True))

    def _hl(self, elements: list[str], number: int) -> None:
        position = number - self.st_number + 1
        where = f"HL segment {position} (file segment {number})"
        hl01 = elements[1] if len(elements) > 1 else ""
        hl02 = elements[2] if len(elements) > 2 else ""
        self.hl_count += 1
        problems = []
        if hl01 and hl01 in self.hl_ids:
            problems.append(
                ElementError(
                    position=1,
                    code="7",
                    message=f"HL01 {hl01!r} is used twice in this set",
                    data_element="628",
                    value=hl01,
                )
            )
        elif hl01 != str(self.hl_count) and not self.sequence_noted:
            self.sequence_noted = True
            message = (
                f"{where}: HL01 {hl01!r} is out of sequence (expected {self.hl_count}); "
                "HL01 numbers should run 1, 2, 3..."
            )
            self.found.append((self.st_number, None, message, False))
        if hl02 and hl02 not in self.hl_ids:
            problems.append(
                ElementError(
                    position=2,
                    code="7",
                    message=f"HL02 {hl02!r} names no earlier HL01 of this set, so the "
                    "level has no parent",
                    data_element="734",
                    value=hl02,
                )
            )
        self.hl_ids.add(hl01)
        for problem in problems:
            error = SegmentError(
                "HL",
                position,
                "8",
                f"HL segment {position} has data element errors",
                file_segment_number=number,
                elements=[problem],
            )
            self.found.append((self.st_number, error, f"{where}: {problem.message}", True))


ENGINES = ("fast", "pyx12")
# SMI_X12_ENGINE=pyx12 puts every validation back on pyx12 (a fallback switch for operators).
DEFAULT_ENGINE = os.environ.get("SMI_X12_ENGINE", "fast")


def validate(
    source: Source, *, map_path: str | os.PathLike | None = None, engine: str | None = None
) -> list[InterchangeResult]:
    """Validate every interchange in ``source`` (a path, bytes or a binary file object).

    ``engine`` "fast" (the default) runs the validator compiled from the map directory
    (:mod:`smi_edi.x12.fastcheck`), streaming; "pyx12" runs pyx12 itself over a normalised
    copy of each interchange, the reference the fast one is tested against."""
    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}; choose one of {ENGINES}")
    maps = load_map_directory(map_path)
    reader = X12Reader(source)
    checks = _StructureChecks()
    findings: dict[int, _Findings] = {}  # ISA segment number ->
    sink = _fast_sink(maps.path) if engine == "fast" else None
    for copy in normalise(reader, plan_group=_planner(maps), observe=checks, sink=sink):
        findings[copy.summary.segment_number] = _validate_copy(copy, maps)
    for st_number, error, message, rejects in checks.found:
        for found in findings.values():
            if st_number in found.sets:
                entry = found.sets[st_number]
                if error is not None:
                    entry.segment_errors.append(error)
                entry.messages.append(message)
                entry.rejected = entry.rejected or rejects
    results = results_from_envelopes(reader)
    for summary, result in zip(reader.interchanges, results, strict=True):
        found = findings.get(summary.segment_number)
        if found is not None:
            _merge(result, summary, found)
    return results


# -- one interchange -----------------------------------------------------------------


def _validate_copy(copy: NormalisedInterchange, maps: MapDirectory) -> _Findings:
    found = _Findings(interchange_errors=list(copy.notes))
    for gs_number, plan in copy.group_plans.items():
        if plan.note:
            found.group_messages.setdefault(gs_number, []).append(plan.note)
    for skipped in copy.skipped_sets:
        entry = found.set(skipped.segment_number)
        entry.set_codes.append(skipped.code)
        entry.messages.append(
            f"{skipped.set_id or 'set'} {skipped.control_number}: {skipped.message}"
        )
        entry.rejected = True
    _note_replacements(copy, found)
    if not any(plan.include for plan in copy.group_plans.values()):
        return found
    failure = None
    if copy.checked is not None:  # the fast engine ran while the copy was read
        errh, failure = copy.checked
    else:
        try:
            errh = run_pyx12(copy.text, maps.path)
        except Exception as exc:  # pyx12 must never take the validation down with it
            errh = getattr(exc, "errh", None)
            failure = f"{type(exc).__name__}: {exc}"
    if errh is not None:
        try:
            _read_tree(errh, copy, maps, found)
        except Exception as exc:  # an error tree we do not understand is no verdict
            failure = failure or f"{type(exc).__name__} while reading pyx12's errors: {exc}"
    if failure is not None or errh is None:
        reason = failure or "pyx12 produced no result"
        found.interchange_errors.append(
            f"the validator could not finish interchange {copy.summary.control_number} ({reason})"
        )
        for number in _included_set_numbers(copy):
            entry = found.set(number)
            if not entry.validated:
                entry.rejected = True
                entry.messages.append(
                    "this set could not be validated, so it is not accepted; "
                    f"the validator stopped with {reason}"
                )
    return found


def _included_set_numbers(copy: NormalisedInterchange) -> Iterable[int]:
    skipped = {s.segment_number for s in copy.skipped_sets}
    for group in copy.summary.groups:
        plan = copy.group_plans.get(group.segment_number)
        if plan is None or not plan.include:
            continue
        for st in group.sets:
            if st.segment_number not in skipped:
                yield st.segment_number


def _note_replacements(copy: NormalisedInterchange, found: _Findings) -> None:
    if not copy.replacements:
        return
    starts = sorted(
        (st.segment_number, st.segment_number + max(st.segment_count, 1) - 1)
        for group in copy.summary.groups
        for st in group.sets
    )
    by_segment: dict[int, SegmentError] = {}
    for r in copy.replacements:
        owner = next((s for s, e in starts if s <= r.segment_number <= e), None)
        where = f"{r.segment_id}{r.element:02d}" + (f"-{r.component:02d}" if r.component else "")
        text = (
            f"element {where} {readable(r.value)} contains characters outside ASCII; "
            "they were read as '?' for validation"
        )
        if owner is None:
            found.interchange_errors.append(
                f"{r.segment_id} (file segment {r.segment_number}): {text}"
            )
            continue
        entry = found.set(owner)
        position = r.segment_number - owner + 1
        segment = by_segment.get(r.segment_number)
        if segment is None:
            segment = SegmentError(
                segment_id=r.segment_id,
                position=position,
                code="8",
                message=f"{r.segment_id} segment {position} has data element errors",
                file_segment_number=r.segment_number,
            )
            by_segment[r.segment_number] = segment
            entry.segment_errors.append(segment)
        segment.elements.append(
            ElementError(
                position=r.element,
                component=r.component,
                code="6",
                message=text,
                value=r.value,
            )
        )
        entry.messages.append(
            f"{r.segment_id} segment {position} (file segment {r.segment_number}): {text}."
        )
        entry.noted = True


# -- pyx12's error tree ----------------------------------------------------------------

_SYNTAX = re.compile(r"Syntax Error \(([PRECL])(\d+)\)")
_TOO_MANY = re.compile(r"Has (\d+), should have (\d+)")
_REFDES = re.compile(r"\(([A-Z][A-Z0-9]{1,2})(\d\d)(?:-(\d\d))?\)")
# Envelope findings our reader already reports (and words better).
_COVERED_SET_CODES = {"2", "3", "4", "23"}


def _read_tree(
    errh: Any, copy: NormalisedInterchange, maps: MapDirectory, found: _Findings
) -> None:
    lines = copy.lines
    for isa in errh.children:
        for element in getattr(isa, "elements", []):
            for code, text, value in element.errors:
                if "(IEA" in text or "(ISA16)" in text:
                    continue  # the reader checks IEA; ISA16 is a separator, not data
                found.interchange_errors.append(
                    _envelope_element_sentence("ISA", element, code, value, maps)
                )
        for gs in isa.children:
            gs_number = lines.file_segment(gs.cur_line_gs)
            plan = copy.group_plans.get(gs_number) if gs_number else None
            map_file = (
                maps.map_file(copy.version, plan.gs08, plan.gs01) if plan is not None else None
            )
            info = maps.describe(map_file) if map_file else None
            # GS elements are checked on what was sent (envelope_results.gs_element_problems),
            # not on this copy, whose GS08 may name the map used instead; GE is the reader's.
            for st in gs.children:
                st_number = lines.file_segment(st.cur_line_st)
                if st_number is None:
                    continue
                entry = found.set(st_number)
                entry.validated = st.cur_line_se is not None
                _read_set(st, st_number, copy, maps, info, entry)


def _read_set(
    st: Any,
    st_number: int,
    copy: NormalisedInterchange,
    maps: MapDirectory,
    info: MapInfo | None,
    entry: _SetFindings,
) -> None:
    for element in st.elements:
        for code, text, value in element.errors:
            if "(SE" in text:
                continue  # SE01/SE02 are the reader's
            entry.set_codes.append("6" if element.ele_pos == 1 else "7")
            entry.messages.append(_envelope_element_sentence("ST", element, code, value, maps))
            entry.rejected = True
    for code, _text in st.errors:
        if code not in _COVERED_SET_CODES:
            entry.set_codes.append(code)
            entry.rejected = True
    merged: dict[tuple[int, str, str], SegmentError] = {}
    for node in st.children:
        file_number = copy.lines.file_segment(node.cur_line) or 0
        position = file_number - st_number + 1 if file_number else node.seg_count
        segment_id = node.seg_id or "?"
        element_errors: list[ElementError] = []
        for code, text, _value in node.errors:
            if code in ("HL1", "HL2"):
                continue  # pyx12 counts HLs instead of reading HL01/HL02: _StructureChecks
            if code not in SEGMENT_ERROR_TEXT:
                entry.messages.append(f"{segment_id} segment {position}: {text}")
                continue
            if code == "8":
                derived = _segment_level_element_errors(text, copy, node.cur_line, info)
                element_errors.extend(derived)
                if derived:
                    continue
            if segment_id == "SE" and code == "3":
                continue  # a missing SE is the reader's
            if code == "1" and info is not None and segment_id in info.segment_ids:
                code = "2"  # known to the set, just not here
            key = (file_number, segment_id, code)
            if key not in merged:
                merged[key] = SegmentError(
                    segment_id=segment_id,
                    position=position,
                    code=code,
                    message=_segment_sentence(segment_id, position, file_number, code, text, info),
                    file_segment_number=file_number or None,
                )
        for element in node.elements:
            for code, text, value in element.errors:
                error = ElementError(
                    position=element.ele_pos,
                    component=element.subele_pos,
                    code=code,
                    message="",
                    data_element=element.ele_ref_num,
                    value=value,
                )
                error.message = _element_sentence(segment_id, error, element.name, maps, info, text)
                element_errors.append(error)
        if element_errors:
            key = (file_number, segment_id, "8")
            holder = merged.get(key)
            if holder is None:
                holder = merged[key] = SegmentError(
                    segment_id=segment_id,
                    position=position,
                    code="8",
                    message=f"{segment_id} segment {position} has data element errors",
                    file_segment_number=file_number or None,
                )
            holder.elements.extend(element_errors)
    for error in merged.values():
        entry.rejected = True
        entry.segment_errors.append(error)
        where = f"{error.segment_id} segment {error.position} (file segment {error.file_segment_number})"
        if error.elements:
            for element in error.elements:
                entry.messages.append(f"{where}: {element.message}")
        else:
            entry.messages.append(error.message)


def _segment_level_element_errors(
    text: str, copy: NormalisedInterchange, line: int, info: MapInfo | None
) -> list[ElementError]:
    """pyx12 reports syntax notes, extra elements and missing composites as segment
    errors (AK304 8) without the element; put the element back."""
    elements = copy.segment_elements(line) or []
    segment_id = elements[0] if elements else ""

    def value(position: int) -> str:
        return elements[position] if position < len(elements) else ""

    def described(position: int) -> str:
        refdes = f"{segment_id}{position:02d}"
        name = info.elements.get(refdes, ("", ""))[1] if info else ""
        return f"element {refdes}" + (f" ({name})" if name else "")

    def number(position: int) -> str | None:
        if info is None:
            return None
        return info.elements.get(f"{segment_id}{position:02d}", ("", ""))[0] or None

    match = _SYNTAX.search(text)
    if match:
        kind, digits = match.group(1), match.group(2)
        positions = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
        present = [p for p in positions if value(p)]
        names = ", ".join(f"{segment_id}{p:02d}" for p in positions)
        if kind == "E":
            return [
                ElementError(
                    position=p,
                    code="10",
                    message=f"{described(p)} {value(p)!r} must not be sent: only one of {names} may be present",
                    data_element=number(p),
                    value=value(p),
                )
                for p in present[1:]
            ]
        if kind == "P":
            missing = [p for p in positions if not value(p)]
            rule = f"{names} go together: if one is present, all are required"
        elif kind == "C":
            missing = [p for p in positions[1:] if not value(p)]
            rule = f"when {segment_id}{positions[0]:02d} is present, {names.split(', ', 1)[1]} are required"
        elif kind == "L":
            missing = positions[1:2]
            rule = (
                f"when {segment_id}{positions[0]:02d} is present, at least one of "
                f"{names.split(', ', 1)[1]} is required"
            )
        else:  # R
            missing = positions[:1]
            rule = f"at least one of {names} is required"
        return [
            ElementError(
                position=p,
                code="2",
                message=f"{described(p)} is missing: {rule}",
                data_element=number(p),
            )
            for p in missing
        ]
    match = _TOO_MANY.search(text)
    if match:
        extra = int(match.group(2)) + 1
        return [
            ElementError(
                position=extra,
                code="3",
                message=f"{segment_id} has {int(match.group(1))} elements; it has at most {extra - 1}",
                value=value(extra),
            )
        ]
    match = _REFDES.search(text)
    if match and "composite" in text:
        position = int(match.group(2))
        if "Too many" in text:
            return [ElementError(position=position, code="3", message=text, value=value(position))]
        if "missing" in text:
            return [ElementError(position=position, code="1", message=text)]
    return []


# -- sentences -----------------------------------------------------------------------------


def _segment_sentence(
    segment_id: str, position: int, file_number: int, code: str, text: str, info: MapInfo | None
) -> str:
    where = f"{segment_id} segment {position} (file segment {file_number})"
    set_name = f"an {info.set_id}" if info and info.set_id.startswith("8") else "this set"
    if code == "3":
        what = "loop" if "loop" in text.lower() else "segment"
        name = re.search(r'"([^"]+)"', text)
        label = f" ({name.group(1)})" if name else ""
        return (
            f"mandatory {what} {segment_id}{label} is missing before segment {position} "
            f"(file segment {file_number})"
        )
    if code == "1":
        return f"{where}: {segment_id} is not a segment of {set_name}"
    if code == "2":
        return (
            f"{where}: {segment_id} is not expected here (out of order, or in a loop "
            "where the standard does not place it)"
        )
    if code in ("4", "5"):
        counts = re.search(r"Found (\d+), should have (\d+)", text)
        limit = f" (at most {counts.group(2)})" if counts else ""
        kind = "loop" if code == "4" else "segment"
        return f"{where}: the {segment_id} {kind} occurs too often{limit}"
    return f"{where}: {SEGMENT_ERROR_TEXT.get(code, text)}"


def _codes_for(
    refdes: str, data_element: str | None, maps: MapDirectory, info: MapInfo | None
) -> tuple[str, ...]:
    if info is not None:
        if refdes in info.codes:
            return info.codes[refdes]
        external = info.external.get(refdes)
        if external:
            return maps.codesets.get(external, ())
    if data_element:
        return maps.codesets.get(f"x12_{data_element}", ())
    return ()


def _element_sentence(
    segment_id: str,
    error: ElementError,
    name: str | None,
    maps: MapDirectory,
    info: MapInfo | None,
    pyx12_text: str,
) -> str:
    refdes = f"{segment_id}{error.position:02d}" + (
        f"-{error.component:02d}" if error.component else ""
    )
    label = f"element {refdes}" + (f" ({name})" if name else "")
    value = error.value
    spec = maps.elements.get(error.data_element or "")
    code = error.code
    if code == "1":
        return f"{label} is missing; it is mandatory"
    size = ""
    if spec:
        size = f"exactly {spec[1]}" if spec[1] == spec[2] else f"{spec[1]} to {spec[2]}"
    if code == "4" and spec:
        return f"{label} {value!r} is too short; it takes {size} characters"
    if code == "5" and spec:
        return f"{label} {value!r} is too long; it takes {size} characters"
    if code == "6":
        if "trailing spaces" in pyx12_text:
            return f"{label} {value!r} ends with spaces"
        if "control character" in pyx12_text:
            return f"{label} contains a control character {value}"
        kind = {
            "R": "a decimal number",
            "N0": "a whole number",
            "N2": "a number with 2 implied decimals",
        }.get(spec[0] if spec else "", "text in the X12 character set")
        return f"{label} {value!r} contains an invalid character; it must be {kind}"
    if code == "7":
        codes = _codes_for(refdes, error.data_element, maps, info)
        if codes:
            shown = ", ".join(codes[:15]) + (", ..." if len(codes) > 15 else "")
            return f"{label} {value!r} is not a valid code; expected one of {shown}"
        return f"{label} {value!r} is not a valid value"
    if code == "8":
        return f"{label} {value!r} is not a valid date (CCYYMMDD)"
    if code == "9":
        return f"{label} {value!r} is not a valid time (HHMM, HHMMSS)"
    return f"{label}: {ELEMENT_ERROR_TEXT.get(code, pyx12_text)}" + (
        f" ({pyx12_text})" if code in ("2", "3", "10") else ""
    )


def _envelope_element_sentence(
    segment_id: str, element: Any, code: str, value: str | None, maps: MapDirectory
) -> str:
    error = ElementError(
        position=element.ele_pos,
        component=element.subele_pos,
        code=code,
        message="",
        data_element=element.ele_ref_num,
        value=value,
    )
    return _element_sentence(segment_id, error, element.name, maps, None, "")


# -- merging into the envelope results --------------------------------------------------


def _merge(result: InterchangeResult, summary: Any, found: _Findings) -> None:
    for message in found.interchange_errors:
        if message not in result.interchange_errors:
            result.interchange_errors.append(message)
    for group_summary, group in zip(summary.groups, result.groups, strict=True):
        group.messages.extend(found.group_messages.get(group_summary.segment_number, []))
        for code in found.group_codes.get(group_summary.segment_number, []):
            if code not in group.group_errors:
                group.group_errors.append(code)
        for set_summary, set_result in zip(group_summary.sets, group.sets, strict=True):
            entry = found.sets.get(set_summary.segment_number)
            if entry is not None:
                _merge_set(set_result, entry)
        if group.status is SetStatus.REJECTED or REJECTING_GROUP_CODES.intersection(
            group.group_errors
        ):
            group.status = SetStatus.REJECTED  # the envelope's verdict (a bad GS) stands
        else:
            group.status = group_status(group)


def _merge_set(result: SetResult, entry: _SetFindings) -> None:
    unique: dict[tuple[str, int, str], SegmentError] = {}
    for error in entry.segment_errors:
        key = (error.segment_id, error.position, error.code)
        if key in unique:
            unique[key].elements.extend(error.elements)
        else:
            unique[key] = error
    result.segment_errors.extend(sorted(unique.values(), key=lambda e: (e.position, e.code)))
    for code in entry.set_codes:
        if code not in result.set_errors:
            result.set_errors.append(code)
    result.messages.extend(m for m in entry.messages if m not in result.messages)
    if REJECTING_SET_CODES.intersection(result.set_errors) or entry.rejected:
        result.status = SetStatus.REJECTED
    elif entry.noted and result.status is SetStatus.ACCEPTED:
        result.status = SetStatus.ACCEPTED_WITH_ERRORS
    if result.segment_errors and "5" not in result.set_errors:
        result.set_errors.append("5")
    result.set_errors.sort(key=lambda c: (int(c), c) if is_digits(c) else (10_000, c))
