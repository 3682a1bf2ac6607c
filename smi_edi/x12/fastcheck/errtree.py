"""The error tree the fast validator builds: the shape of pyx12's ``error_handler`` tree
(interchange -> groups -> sets -> segments -> elements), so the code that turns pyx12's
findings into 997/999 results (``smi_edi.x12.validation``) reads both the same way.

The cursor rules are pyx12's: ``add_seg`` prepares a segment node that joins its set only
when an error is recorded on it; element errors of the ISA, GS and ST (and of the IEA,
GE and SE, which pyx12 files under their headers) go to the envelope node's elements;
segment-level errors addressed to an envelope node are dropped, as pyx12 drops them.
A segment node is only created when it receives an error, so a clean file allocates
nothing per segment.
"""

from __future__ import annotations


class ElementNode:
    __slots__ = ("ele_pos", "ele_ref_num", "errors", "name", "subele_pos")

    def __init__(self, definition) -> None:
        self.ele_ref_num = definition.data_ele
        self.name = definition.name
        self.ele_pos = definition.ele_pos
        self.subele_pos = definition.subele_pos
        self.errors: list[tuple[str, str, str | None]] = []


class SegmentNode:
    __slots__ = ("cur_line", "elements", "errors", "fields", "name", "pos", "seg_count", "seg_id")
    envelope = False

    def __init__(self, map_node, seg_id, seg_count, cur_line, fields) -> None:
        self.name = map_node.name if map_node is not None else "Unknown"
        self.pos = map_node.pos if map_node is not None else -1
        self.seg_id = seg_id
        self.seg_count = seg_count
        self.cur_line = cur_line
        self.elements: list[ElementNode] = []
        self.errors: list[tuple[str, str, str | None]] = []
        self.fields = fields  # the segment's fields, or its text (the last of a run)


class _Envelope:
    envelope = True

    def __init__(self, line: int) -> None:
        self.children: list = []
        self.elements: list[ElementNode] = []
        self.errors: list[tuple[str, str]] = []
        self.line = line


class InterchangeNode(_Envelope):
    id = "ISA"


class GroupNode(_Envelope):
    id = "GS"

    @property
    def cur_line_gs(self) -> int:
        return self.line


class SetNode(_Envelope):
    id = "ST"

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.cur_line_se: int | None = None

    @property
    def cur_line_st(self) -> int:
        return self.line


class ErrorTree:
    """pyx12's ``err_handler``, reduced to what validation reads."""

    def __init__(self) -> None:
        self.children: list[InterchangeNode] = []
        self.isa: InterchangeNode | None = None
        self.gs: GroupNode | None = None
        self.st: SetNode | None = None
        self.cursor = None  # an envelope node, a SegmentNode, or None while pending
        self.pending: tuple | None = None  # (map node, seg id, seg count, line, fields)
        self.added = False
        self.element: ElementNode | None = None
        self.element_added = False

    # -- loops ----------------------------------------------------------------------

    def add_isa(self, line: int) -> None:
        self.isa = InterchangeNode(line)
        self.children.append(self.isa)
        self.cursor, self.added = self.isa, True

    def add_gs(self, line: int) -> None:
        self.gs = GroupNode(line)
        self.isa.children.append(self.gs)
        self.cursor, self.added = self.gs, True

    def add_st(self, line: int) -> None:
        self.st = SetNode(line)
        self.gs.children.append(self.st)
        self.cursor, self.added = self.st, True

    def close_st(self, line: int) -> None:
        self.st.cur_line_se = line
        self.cursor, self.added = self.st, True

    def close_envelope(self, node) -> None:
        self.cursor, self.added = node, True

    # -- segments and elements ----------------------------------------------------------

    def add_seg(self, map_node, seg_id, seg_count, line, fields) -> None:
        self.pending = (map_node, seg_id, seg_count, line, fields)
        self.cursor, self.added = None, False

    def _current(self):
        if self.cursor is None and self.pending is not None:
            self.cursor = SegmentNode(*self.pending)
        return self.cursor

    def _add_current(self) -> None:
        if not self.added:
            node = self._current()
            self.st.children.append(node)  # AttributeError with no set open, as in pyx12
            self.added = True

    def seg_error(self, code: str, text: str, value: str | None = None) -> None:
        try:
            self._add_current()
            node = self._current()
            if node is None or node.envelope:
                return  # pyx12: err_isa/err_gs/err_st.add_error() takes no value -> dropped
            node.errors.append((code, text, value))
        except AttributeError:
            return  # pyx12 logs "No current segment in error_handler"

    def add_ele(self, definition) -> None:
        self.element = ElementNode(definition)
        self.element_added = False

    def ele_error(self, code: str, text: str, value: str | None) -> None:
        self._add_current()
        if not self.element_added:
            self._current().elements.append(self.element)
            self.element_added = True
        self.element.errors.append((code, text, value))

    def envelope_error(self, node, code: str, text: str) -> None:
        if node is not None:
            node.errors.append((code, text))
