"""Validate one interchange, segment by segment: pyx12 4.0.0's ``x12n_document`` loop.

Feed it the segments of a normalised interchange (the same segments, in the same order,
that pyx12 reads from the normalised copy, see :mod:`smi_edi.x12.normalise`) and it builds
the error tree pyx12 builds: which map each group uses, where each segment sits in its
map, and what is wrong with it. Nothing is kept per segment unless it has an error, so
memory stays flat whatever the size of the file.

    engine = Engine(tables, element="*", component=":")
    for fields in segments:          # fields[0] is the segment id
        engine.feed(fields)
    tree = engine.finish()           # an errtree.ErrorTree
"""

from __future__ import annotations

import re

from .elements import formatted, segment_errors
from .errtree import ErrorTree
from .patterns import fast_check
from .tables import MapError, Tables
from .walker import Walker, segment_value

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$", re.S)
_ENVELOPE = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE"))
_UNCOMPILED = object()


class Engine:
    def __init__(self, tables: Tables, *, element: str, component: str | None) -> None:
        self.tables = tables
        self.element = element
        self.comp = component if component and component != element else None
        self.tree = ErrorTree()
        self.walker = Walker(tables, self.comp)
        self.node = None
        self.control = None
        self.map_file: str | None = None
        self.cur_map = None
        self.icvn: str | None = None
        self.line = 0
        self.seg_count = 0
        self.queued: list[tuple[str, str]] = []  # reader-level segment errors not yet filed
        self._valid_ids: set[str] = set()
        self._checks: dict = {}
        self.failure: str | None = None

    # -- one segment --------------------------------------------------------------------

    def feed(self, fields: list[str]) -> None:
        """Take the next segment. A failure (a map that cannot be used) is kept in
        ``failure`` and ends this interchange's validation, as a pyx12 crash would."""
        if self.failure is not None:
            return
        try:
            node = self.node
            if node is not None and fields[0] == node.id and node.repeats_alone:
                key = node.match_key
                if key is None or segment_value(fields, key[0], key[1], self.comp) in key[2]:
                    # The common case in big files (SDQ after SDQ) in as few steps as
                    # possible: not empty, nothing queued, within its count, and clean.
                    check = self._checks.get(node)
                    last = fields[-1]
                    comp = self.comp
                    if (
                        check is not None
                        and len(fields) > 1
                        and last
                        and not self.queued
                        and (comp is None or comp not in last)
                    ):
                        counts = self.walker.counts
                        count = counts[node.key] = counts.get(node.key, 0) + 1
                        if count <= node.max_repeat and check(fields):
                            self.seg_count += 1
                            self.line += 1
                            self.tree.add_seg(node, fields[0], self.seg_count, self.line, fields)
                            return
                        counts[node.key] = count - 1  # not clean: the full path counts it
                    self._repeat(node, fields)
                    return
            self._feed(fields)
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"

    def run(self):
        """When the segments that follow can be checked as a run of raw texts: the compiled
        check and how many more this node may take; else None (see ``X12Reader.take_run``).
        A run is offered only where each segment of it would take the one-step path of
        ``feed``: the same node again, the node's own compiled expression decides alone,
        and the expression can only accept values that also select this node."""
        node = self.node
        if node is None or not node.runs or self.queued or self.failure is not None:
            return None
        raw = getattr(self._checks.get(node), "raw", None)
        if raw is None:
            return None
        return raw, node.max_repeat - self.walker.counts.get(node.key, 0)

    def ran(self, count: int, last: str) -> None:
        """Count a run taken by ``X12Reader.take_run`` (every one of them clean); ``last``
        is the text of its last segment."""
        node = self.node
        counts = self.walker.counts
        counts[node.key] = counts.get(node.key, 0) + count
        self.seg_count += count
        self.line += count
        self.tree.add_seg(node, node.id, self.seg_count, self.line, last)  # split if needed

    def _repeat(self, node, fields: list[str]) -> None:
        """The same segment again, where pyx12's walk can only find this node again: count
        it (and report it when it occurs too often), then check its elements."""
        last = fields[-1]
        if (len(fields) == 1 or not last or (self.comp and self.comp in last)) and self._is_empty(
            fields
        ):
            self.queued.append(("8", f'Segment "{self._format(fields)}" is empty'))
        self.seg_count += 1
        self.line += 1
        counts = self.walker.counts
        count = counts[node.key] = counts.get(node.key, 0) + 1
        tree = self.tree
        if count > node.max_repeat:
            text = (
                f"Segment {fields[0]} exceeded max count.  Found {count}, "
                f"should have {node.max_repeat}"
            )
            tree.add_seg(node, fields[0], self.seg_count, self.line, fields)
            tree.seg_error("5", text)
        tree.add_seg(node, fields[0], self.seg_count, self.line, fields)
        if self.queued:
            self._file_queued()
        check = self._checks.get(node, _UNCOMPILED)
        if check is _UNCOMPILED:
            check = self._checks[node] = fast_check(node, self.element, self.comp)
        if check is None or not check(fields):
            self._thorough(node, fields)

    def _feed(self, fields: list[str]) -> None:
        seg_id = fields[0]
        last = fields[-1]
        if (
            seg_id in self._valid_ids
            and seg_id not in _ENVELOPE
            and len(fields) > 1
            and last
            and (self.comp is None or self.comp not in last)
        ):
            self._body(seg_id, fields)  # a body segment with a known id, not empty
            return
        self._any(fields)

    def _body(self, seg_id: str, fields: list[str]) -> None:
        """``_any`` for the common case: no reader-level finding, not an envelope."""
        self.seg_count += 1
        self.line += 1
        line = self.line
        orig = self.node
        node, errors = self.walker.walk(orig, fields, self.seg_count, line)
        tree = self.tree
        for error in errors:
            if error.map_node is not None:
                tree.add_seg(error.map_node, error.seg_id, error.seg_count, error.line, fields)
            tree.seg_error(error.code, error.text)
        if node is None:
            return
        tree.add_seg(node, seg_id, self.seg_count, line, fields)
        if self.queued:
            self._file_queued()
        self.node = node
        self._check_segment(node, fields)

    def _any(self, fields: list[str]) -> None:
        seg_id = fields[0]
        if seg_id[:1] == " ":
            self.queued.append(("1", "Segment contains a leading space"))
            fields = [seg_id.lstrip(), *fields[1:]]
            seg_id = fields[0]
        if self._is_empty(fields):
            self.queued.append(("8", f'Segment "{self._format(fields)}" is empty'))
        if seg_id not in self._valid_ids:
            if _SEGMENT_ID.search(seg_id):
                self._valid_ids.add(seg_id)
            else:
                self.queued.append(("1", f'Segment identifier "{seg_id}" is invalid'))
        if seg_id == "ST":
            self.seg_count = 1
        elif seg_id not in _ENVELOPE:
            self.seg_count += 1
        self.line += 1
        line = self.line
        tree = self.tree
        orig = self.node

        if seg_id == "ISA":
            self._start_interchange(fields)
            node = self.control.find("ISA_LOOP", "ISA")
            self.walker.force("/ISA_LOOP", "/ISA_LOOP/ISA")
        elif seg_id == "GS":
            node = self.control.find("ISA_LOOP", "GS_LOOP", "GS")
            self.walker.force("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
        else:
            if orig is None:
                raise MapError("a segment before the ISA")
            node, errors = self.walker.walk(orig, fields, self.seg_count, line)
            for error in errors:
                if error.map_node is not None:
                    tree.add_seg(error.map_node, error.seg_id, error.seg_count, error.line, fields)
                tree.seg_error(error.code, error.text)
        if node is None:
            self.node = orig
            return
        if seg_id == "ISA":
            tree.add_isa(line)
            self.icvn = fields[12] if len(fields) > 12 else None
            self._file_queued()
        elif seg_id == "IEA":
            self._file_queued()
            tree.close_envelope(tree.isa)
        elif seg_id == "GS":
            node = self._group_map(fields)
            tree.add_gs(line)
            self._file_queued()
        elif seg_id == "GE":
            self._file_queued()
            tree.close_envelope(tree.gs)
        elif seg_id == "ST":
            tree.add_st(line)
            self._file_queued()
        elif seg_id == "SE":
            self._file_queued()
            tree.close_st(line)
        else:
            tree.add_seg(node, seg_id, self.seg_count, line, fields)
            self._file_queued()
        self.node = node
        self._check_segment(node, fields)

    def _check_segment(self, node, fields: list[str]) -> None:
        check = self._checks.get(node, _UNCOMPILED)
        if check is _UNCOMPILED:
            check = self._checks[node] = fast_check(node, self.element, self.comp)
        if check is None or not check(fields):
            self._thorough(node, fields)

    def _thorough(self, node, fields: list[str]) -> None:
        tree = self.tree
        previous = None
        for error in segment_errors(node, fields, self.comp):
            if error.node is None:
                tree.seg_error("8", error.text, error.value)
                continue
            if error.node is not previous:
                tree.add_ele(error.node)
                previous = error.node
            tree.ele_error(error.code, error.text, error.value)

    # -- envelopes and maps --------------------------------------------------------------

    def _start_interchange(self, fields: list[str]) -> None:
        icvn = fields[12] if len(fields) > 12 else ""
        name = "x12.control.00501.xml" if icvn == "00501" else "x12.control.00401.xml"
        self.control = self.tables.load(name)
        if self.map_file is None:
            self.map_file = name

    def _group_map(self, fields: list[str]):
        fic = formatted(fields[1], self.comp) if len(fields) > 1 else None
        vriic = formatted(fields[8], self.comp) if len(fields) > 8 else None
        name = self.tables.map_file(self.icvn, vriic, fic)
        if self.map_file != name:
            if name is None:
                raise MapError(f"Map not found.  icvn={self.icvn}, fic={fic}, vriic={vriic}")
            self.map_file = name
            self.cur_map = self.tables.load(name)
        return self.cur_map.find("ISA_LOOP", "GS_LOOP", "GS")

    def _file_queued(self) -> None:
        if self.queued:
            for code, text in self.queued:
                self.tree.seg_error(code, text)
            self.queued = []

    # -- helpers -----------------------------------------------------------------------------

    def _is_empty(self, fields: list[str]) -> bool:
        if len(fields) == 1:
            return True
        last = fields[-1]
        if last and (self.comp is None or self.comp not in last):
            return False
        comp = self.comp or ""
        return all(not f.replace(comp, "") if comp else not f for f in fields[1:])

    def _format(self, fields: list[str]) -> str:
        return fields[0] + self.element + self.element.join(fields[1:]) + "~"

    def finish(self) -> ErrorTree:
        """The error tree (pyx12 also files the reader's errors left at the end)."""
        self._file_queued()
        return self.tree
