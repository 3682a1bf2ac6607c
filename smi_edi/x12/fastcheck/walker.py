"""Find the map node of each segment: pyx12 4.0.0's ``map_walker.walk_tree`` on our tables.

The walk is the loop-and-segment state machine of the maps: from the node of the previous
segment it scans forward in the current loop, enters child loops whose first segment
matches, climbs to the parent loop when nothing matches, and reports what it passed on
the way (a mandatory segment or loop missing, a segment or loop repeated too often, a
segment not used, a segment not found). Counting follows pyx12's ``NodeCounter``: counts
keyed by node path, the counts under a loop cleared each time the loop starts again.
Every rule and sentence is pyx12's, so verdicts and AK3 codes match it.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

from .elements import formatted
from .tables import Loop, Segment, Tables


class WalkError(NamedTuple):
    code: str
    text: str
    map_node: object | None  # None: attached to the previous segment's node
    seg_id: str | None
    seg_count: int
    line: int


class _Missing(NamedTuple):
    node: Segment
    text: str
    seg_count: int
    line: int


class EngineError(Exception):
    """A map pyx12 itself would refuse while walking (bad usage code)."""


_NOT_FOUND_GOTO = object()  # pyx12 returns a None node without a "not found" error


def segment_value(fields: list[str], element: int, component: int | None, comp: str | None):
    """pyx12 ``Segment.get_value``: the (formatted) element, or one component of it."""
    if element >= len(fields):
        return None
    raw = fields[element]
    if component is None:
        return formatted(raw, comp)
    parts = raw.split(comp) if comp else [raw]
    return parts[component - 1] if component - 1 < len(parts) else None


class Walker:
    def __init__(self, tables: Tables, component: str | None) -> None:
        self.tables = tables
        self.comp = component
        self.counts: dict[str, int] = {}
        self.missing: list[_Missing] = []
        self.errors: list[WalkError] = []

    # -- counters ---------------------------------------------------------------------

    def reset(self, key: str) -> None:
        counts = self.counts
        if counts:
            for k in self.tables.descendants(key):
                if k in counts:
                    del counts[k]

    def force(self, loop_key: str, child_key: str) -> None:
        """``forceWalkCounterToLoopStart`` (ISA and GS)."""
        self.reset(loop_key)
        self.counts[loop_key] = self.counts.get(loop_key, 0) + 1
        self.counts[child_key] = self.counts.get(child_key, 0) + 1

    # -- matching -------------------------------------------------------------------------

    def is_match(self, node: Segment, fields: list[str]) -> bool:
        if fields[0] != node.id:
            return False
        key = node.match_key
        if key is None:
            return True
        element, component, codes = key
        return segment_value(fields, element, component, self.comp) in codes

    # -- the walk -------------------------------------------------------------------------

    def walk(self, node, fields: list[str], seg_count: int, line: int):
        """The node ``fields`` belongs to (None when there is none), and the errors found."""
        self.missing = []
        self.errors = []
        orig = node
        node_pos = node.pos
        if not (node.is_loop or node.is_root):
            node = node.parent
        while True:
            found = self._scan(node, node_pos, fields, seg_count, line)
            if found is not None:
                return (None if found is _NOT_FOUND_GOTO else found), self.errors
            if node.is_root:
                self._not_found(orig, fields, seg_count, line)
                return None, self.errors
            node_pos = node.pos
            node = node.parent

    def _scan(self, loop, node_pos: int, fields, seg_count: int, line: int):
        children = loop.children
        counts = self.counts
        seg_id = fields[0]
        for i in range(bisect.bisect_left(loop.positions, node_pos), len(children)):
            child = children[i]
            if child.is_segment:
                if child.id == seg_id and self.is_match(child, fields):
                    if loop.is_loop and self._is_loop_match(loop, fields, seg_count, line):
                        found = self._goto(loop, fields, seg_count, line)
                        return _NOT_FOUND_GOTO if found is None else found
                    key = child.key
                    counts[key] = counts.get(key, 0) + 1
                    self._check_segment_usage(child, fields, seg_count, line)
                    if self.missing:
                        eqkey = child.eqkey
                        self.missing = [m for m in self.missing if m.node.eqkey != eqkey]
                        self._flush(child.pos)
                    return child
                if child.usage == "R" and counts.get(child.key, 0) < 1:
                    text = f'Mandatory segment "{child.name}" ({child.id}) missing'
                    self.missing.append(_Missing(child, text, seg_count, line))
            elif self._is_loop_match(child, fields, seg_count, line):
                found = self._goto(child, fields, seg_count, line)
                return _NOT_FOUND_GOTO if found is None else found
        return None

    def _is_loop_match(self, loop: Loop, fields, seg_count: int, line: int) -> bool:
        first = loop.first
        if first is None:
            return False
        if first.is_loop:
            return any(
                child.is_loop and self._is_loop_match(child, fields, seg_count, line)
                for child in loop.children
            )
        if self.is_match(first, fields):
            return True
        if loop.usage == "R" and self.counts.get(loop.key, 0) < 1:
            text = f'Mandatory loop "{loop.name}" ({loop.id}) missing'
            self.missing.append(_Missing(first, text, seg_count, line))
        return False

    def _goto(self, loop: Loop, fields, seg_count: int, line: int):
        first = loop.first
        if first is not None and first.is_segment and self.is_match(first, fields):
            self._check_loop_usage(loop, fields, seg_count, line)
            self.counts[first.key] = self.counts.get(first.key, 0) + 1
            self._flush(None)
            return first
        for child in loop.children:
            if child.is_loop:
                found = self._goto(child, fields, seg_count, line)
                if found is not None:
                    return found
        return None

    # -- usage and counts --------------------------------------------------------------

    def _check_segment_usage(self, node: Segment, fields, seg_count: int, line: int) -> None:
        usage = node.usage
        if usage == "N":
            text = f"Segment {node.id} found but marked as not used"
            self.errors.append(WalkError("2", text, None, None, seg_count, line))
        elif usage in ("R", "S"):
            count = self.counts.get(node.key, 0)
            if count > node.max_repeat:
                text = (
                    f"Segment {fields[0]} exceeded max count.  Found {count}, "
                    f"should have {node.max_repeat}"
                )
                self.errors.append(WalkError("5", text, node, fields[0], seg_count, line))
        else:
            raise EngineError(f"Segment usage must be R, S, or N (got {usage!r})")

    def _check_loop_usage(self, loop: Loop, fields, seg_count: int, line: int) -> None:
        usage = loop.usage
        if usage == "N":
            text = f"Loop {loop.id} found but marked as not used"
            self.errors.append(WalkError("2", text, None, None, seg_count, line))
        elif usage in ("R", "S"):
            self.reset(loop.key)
            count = self.counts[loop.key] = self.counts.get(loop.key, 0) + 1
            if count > loop.max_repeat:
                text = (
                    f"Loop {loop.id} exceeded max count.  Found {count}, "
                    f"should have {loop.max_repeat}"
                )
                self.errors.append(WalkError("4", text, loop, fields[0], seg_count, line))
        else:
            raise EngineError(f"Loop usage must be R, S, or N (got {usage!r})")

    def _flush(self, pos: int | None) -> None:
        keep = []
        for m in self.missing:
            if m.node.pos != pos:
                self.errors.append(WalkError("3", m.text, m.node, m.node.id, m.seg_count, m.line))
            else:
                keep.append(m)
        self.missing = keep

    def _not_found(self, orig, fields, seg_count: int, line: int) -> None:
        seg_id = fields[0]
        if seg_id == "HL":
            values = [
                ":".join(formatted(f, self.comp).split(self.comp)) if self.comp else f
                for f in fields[1:]
            ]
            while values and values[-1] == "":
                values.pop()
            seg_str = f"HL*{'*'.join(values)}"
        else:
            seg_str = f"{seg_id}*{segment_value(fields, 1, None, self.comp)}"
        text = f"Segment {seg_str} not found.  Started at {orig.fullpath}"
        self.errors.append(WalkError("1", text, orig, seg_id, seg_count, line))
