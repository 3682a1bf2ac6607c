"""Find the map node of each segment: pyx12 4.0.0's ``map_walker.walk_tree`` on our tables.

The walk is the loop-and-segment state machine of the maps: from the node of the previous
segment it scans forward in the current loop, enters child loops whose first segment
matches, climbs to the parent loop when nothing matches, and reports what it passed on
the way (a mandatory segment or loop missing, a segment or loop repeated too often, a
segment not used, a segment not found). Counting follows pyx12's ``NodeCounter``: counts
keyed by node path, the counts under a loop cleared each time the loop starts again.
Every rule and sentence is pyx12's, so verdicts and AK3 codes match it.

It runs in two halves. Which nodes the walk passes, and where it stops, depends only on
the map, the node it starts from and the segment's id and qualifier, never on the counts:
that half is a *plan* (a short list of steps), computed once per (node, segment id,
qualifier) and kept. The other half executes the plan against the counts, which is where
missing and too-many findings come from, in pyx12's order.
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


# Plan steps: (kind, node, extra)
_MISS_SEGMENT = 0  # a mandatory segment passed over: missing unless already counted
_MISS_LOOP = 1  # a mandatory loop passed over (extra: its first segment)
_SEGMENT = 2  # the segment is this node
_ENTER = 3  # the segment starts this loop (extra: the loop's first segment)
_NOT_FOUND = 4  # no node anywhere: "segment not found" (from the start node)
_NOTHING = 5  # pyx12 found a loop but no segment in it: no node, no error
_PLAN_CACHE_LIMIT = 100_000


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
        self.plans = tables.plans.setdefault(component, {})
        self.qualifiers = tables.qualifiers  # grows in place as maps are compiled

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

    # -- the walk ----------------------------------------------------------------------

    def walk(self, node, fields: list[str], seg_count: int, line: int):
        """The node ``fields`` belongs to (None when there is none), and the errors found."""
        seg_id = fields[0]
        specs = self.qualifiers.get(seg_id)
        if not specs:
            key = (node, seg_id)
        elif len(specs) == 1:
            key = (node, seg_id, segment_value(fields, specs[0][0], specs[0][1], self.comp))
        else:
            key = (node, seg_id, *(segment_value(fields, e, c, self.comp) for e, c in specs))
        plan = self.plans.get(key)
        if plan is None:
            plan = self._plan(node, fields)
            if len(self.plans) < _PLAN_CACHE_LIMIT:
                self.plans[key] = plan
        return self._execute(plan, node, fields, seg_count, line)

    # -- planning (pyx12's traversal, without the counts) -------------------------------------

    def _plan(self, start, fields: list[str]) -> tuple:
        steps: list[tuple] = []
        node_pos = start.pos
        loop = start if (start.is_loop or start.is_root) else start.parent
        while True:
            if self._plan_scan(loop, node_pos, fields, steps):
                return tuple(steps)
            if loop.is_root:
                steps.append((_NOT_FOUND, start, None))
                return tuple(steps)
            node_pos = loop.pos
            loop = loop.parent

    def _plan_scan(self, loop, node_pos: int, fields, steps: list) -> bool:
        children = loop.children
        seg_id = fields[0]
        for i in range(bisect.bisect_left(loop.positions, node_pos), len(children)):
            child = children[i]
            if child.is_segment:
                if child.id == seg_id and self.is_match(child, fields):
                    if loop.is_loop and self._plan_loop_match(loop, fields, steps):
                        self._plan_goto(loop, fields, steps)
                    else:
                        steps.append((_SEGMENT, child, None))
                    return True
                if child.usage == "R":
                    steps.append((_MISS_SEGMENT, child, None))
            elif self._plan_loop_match(child, fields, steps):
                self._plan_goto(child, fields, steps)
                return True
        return False

    def _plan_loop_match(self, loop: Loop, fields, steps: list) -> bool:
        first = loop.first
        if first is None:
            return False
        if first.is_loop:
            return any(
                child.is_loop and self._plan_loop_match(child, fields, steps)
                for child in loop.children
            )
        if self.is_match(first, fields):
            return True
        if loop.usage == "R":
            steps.append((_MISS_LOOP, loop, first))
        return False

    def _plan_goto(self, loop: Loop, fields, steps: list) -> None:
        if not self._goto_found(loop, fields, steps):
            steps.append((_NOTHING, None, None))

    def _goto_found(self, loop: Loop, fields, steps: list) -> bool:
        first = loop.first
        if first is not None and first.is_segment and self.is_match(first, fields):
            steps.append((_ENTER, loop, first))
            return True
        return any(
            child.is_loop and self._goto_found(child, fields, steps) for child in loop.children
        )

    # -- executing a plan (the counts, and what pyx12 reports from them) -----------------------

    def _execute(self, plan: tuple, start, fields, seg_count: int, line: int):
        self.missing = []
        self.errors = []
        counts = self.counts
        for kind, node, extra in plan:
            if kind == _SEGMENT:
                counts[node.key] = counts.get(node.key, 0) + 1
                self._check_segment_usage(node, fields, seg_count, line)
                if self.missing:
                    eqkey = node.eqkey
                    self.missing = [m for m in self.missing if m.node.eqkey != eqkey]
                    self._flush(node.pos)
                return node, self.errors
            if kind == _MISS_SEGMENT:
                if counts.get(node.key, 0) < 1:
                    text = f'Mandatory segment "{node.name}" ({node.id}) missing'
                    self.missing.append(_Missing(node, text, seg_count, line))
            elif kind == _MISS_LOOP:
                if counts.get(node.key, 0) < 1:
                    text = f'Mandatory loop "{node.name}" ({node.id}) missing'
                    self.missing.append(_Missing(extra, text, seg_count, line))
            elif kind == _ENTER:
                self._check_loop_usage(node, fields, seg_count, line)
                counts[extra.key] = counts.get(extra.key, 0) + 1
                self._flush(None)
                return extra, self.errors
            elif kind == _NOT_FOUND:
                self._not_found(start, fields, seg_count, line)
                return None, self.errors
            else:  # _NOTHING
                return None, self.errors
        raise EngineError("a walk plan that ends nowhere")  # pragma: no cover

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
