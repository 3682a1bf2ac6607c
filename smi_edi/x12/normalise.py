"""Turn what our reader accepts into text pyx12 4.0.0 can read, one interchange at a time.

pyx12 reads the first 106 characters as the ISA, takes the segment terminator from the
106th and the component separator from the 105th, knows ISA12 00401 and 00501 only, reads
files as ASCII, stops at the first empty segment and reports a trailing element separator
as an error. Real files (see shared/corpus) break every one of those. So this module
writes a *copy* for pyx12, never for storage or business use:

* segments kept 1:1 and in order, each on the copy's own single-character terminator
  (``~`` unless that character occurs in the data or is a separator, then another unused
  one), with no whitespace between segments and no byte order mark;
* the ISA re-padded to its fixed widths (ISA13 with leading zeros), ISA12 mapped to the
  nearest version pyx12 knows (00401 up to 00500, 00501 above), and ISA11 set to ``U``
  when the copy says 00401;
* separators that are control or non-ASCII characters (0x1F as ISA16 is real) replaced by
  unused printable ones;
* non-ASCII characters replaced by ``?`` and reported (:class:`CharacterReplacement`), so
  the validator can flag them itself;
* trailing empty elements dropped (``N1*ST*X**`` -> ``N1*ST*X``);
* GE written to agree with the copy (set count, GS06): pyx12 dies on a GE01 that is not a
  number, and our reader has already checked the partner's GE;
* groups and sets left out when the caller's ``plan_group`` says there is no map for them,
  and segments outside any ST/SE left out (our reader reports those envelope problems).

:class:`LineMap` maps pyx12's line numbers (segment numbers within the copy) back to the
segment numbers of the original file, which are what every report names.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .errors import readable
from .reader import ISA_FIELD_WIDTHS, InterchangeSummary, Source, X12Reader, is_digits

PYX12_VERSIONS = ("00401", "00501")
_PLACEHOLDER = "\x00"  # element separator while a copy is being built
_COMPONENT_MARK = "\x01"  # ISA16 while a copy is being built
_RESERVED = frozenset({_PLACEHOLDER, _COMPONENT_MARK})
_CANDIDATES = "~*|^!`{}\\@#$%&;<=>+_"


def pyx12_version(isa12: str) -> str:
    """The ISA12 pyx12 is given for ``isa12``: 00401 up to 00500, 00501 above."""
    return "00401" if isa12 <= "00500" else "00501"


@dataclass(slots=True, frozen=True)
class CharacterReplacement:
    """A non-ASCII character replaced by '?' in the copy."""

    segment_number: int  # in the original file, ISA is 1
    segment_id: str
    element: int  # 1-based element position (0 for the segment id)
    component: int | None  # 1-based, when the element has components
    value: str  # the original element (or component) value


@dataclass(slots=True)
class GroupPlan:
    """What to feed pyx12 for one functional group.

    ``include`` False leaves the whole group out of the copy; its sets are then reported
    with ``set_code`` (an AK502 code) and ``message``. ``gs01``/``gs08`` are written into
    the copy's GS (pyx12 picks the map by ISA12, GS08 and GS01). ``note`` is a sentence for
    the group's result when the copy differs from what the partner sent."""

    include: bool
    gs01: str = ""
    gs08: str = ""
    set_id: str | None = None  # the sets this group's map validates
    set_code: str = "1"
    message: str = ""
    note: str | None = None


@dataclass(slots=True)
class GroupContext:
    gs: list[str]  # GS elements as sent
    first_set_id: str | None  # ST01 of the group's first set
    version: str  # ISA12 of the copy (00401 or 00501)
    segment_number: int


PlanGroup = Callable[[GroupContext], GroupPlan]


class Sink(Protocol):
    """Takes the copy's segments one by one instead of the text (streaming validation)."""

    def feed(self, fields: list[str]) -> None: ...

    def run(self) -> tuple[Callable, int] | None:
        """(accept, limit) when the segments after the last fed can be taken as a run."""
        ...

    def ran(self, count: int, last: str) -> None: ...

    def finish(self) -> tuple[object, dict[int, list[str]]]: ...


SinkFactory = Callable[[X12Reader, str], Sink]  # (reader, the copy's ISA12) -> sink


def _keep_group(ctx: GroupContext) -> GroupPlan:
    gs = ctx.gs
    return GroupPlan(
        include=True,
        gs01=gs[1] if len(gs) > 1 else "",
        gs08=gs[8] if len(gs) > 8 else "",
        set_id=ctx.first_set_id,
    )


@dataclass(slots=True)
class SkippedSet:
    """A transaction set left out of the copy, with the AK502 code to report."""

    segment_number: int  # the ST's number in the file
    set_id: str
    control_number: str
    code: str
    message: str


class LineMap:
    """pyx12 line number (1-based segment number in the copy) -> file segment number.

    Stored as runs of consecutive numbers, so a copy that leaves nothing out is one run."""

    def __init__(self) -> None:
        self._line_starts = array("q")  # first copy line of each run
        self._file_starts = array("q")  # its file segment number
        self.count = 0

    def append(self, file_segment_number: int) -> None:
        line = self.count + 1
        if self._line_starts and (
            file_segment_number - self._file_starts[-1] == line - self._line_starts[-1]
        ):
            self.count = line
            return
        self._line_starts.append(line)
        self._file_starts.append(file_segment_number)
        self.count = line

    def extend(self, first_file_segment_number: int, count: int) -> None:
        """``count`` consecutive file segments, the first numbered as given."""
        self.append(first_file_segment_number)
        if count > 1:  # the rest continue the run append() just made or extended
            self.count += count - 1

    def file_segment(self, line: int) -> int | None:
        if line < 1 or line > self.count:
            return None
        i = bisect.bisect_right(self._line_starts, line) - 1
        return self._file_starts[i] + (line - self._line_starts[i])

    def line(self, file_segment_number: int) -> int | None:
        """The copy line of a file segment, or None when it was left out."""
        for i in range(len(self._line_starts)):
            start = self._file_starts[i]
            end_line = (
                self._line_starts[i + 1] - 1 if i + 1 < len(self._line_starts) else self.count
            )
            length = end_line - self._line_starts[i] + 1
            if start <= file_segment_number < start + length:
                return self._line_starts[i] + (file_segment_number - start)
        return None


@dataclass(slots=True)
class NormalisedInterchange:
    text: str  # what pyx12 reads
    summary: InterchangeSummary  # the reader's (complete once the reader is exhausted)
    lines: LineMap
    original_version: str  # ISA12 as sent
    version: str  # ISA12 in the copy
    element: str  # separators of the copy
    component: str
    terminator: str
    replacements: list[CharacterReplacement] = field(default_factory=list)
    skipped_sets: list[SkippedSet] = field(default_factory=list)
    group_plans: dict[int, GroupPlan] = field(default_factory=dict)  # GS segment number ->
    notes: list[str] = field(default_factory=list)  # interchange-level sentences

    checked: object | None = None  # what the sink's finish() returned (streaming mode)
    recorded: dict[int, list[str]] = field(default_factory=dict)  # line -> fields (streaming)
    _segments: list[str] | None = None

    def segments(self) -> list[str]:
        """The copy split into segments (line i is ``segments()[i - 1]``)."""
        if self._segments is None:
            self._segments = self.text.split(self.terminator)[:-1]
        return self._segments

    def segment_elements(self, line: int) -> list[str] | None:
        if line in self.recorded:
            return list(self.recorded[line])
        parts = self.segments()
        if 1 <= line <= len(parts):
            return parts[line - 1].split(self.element)
        return None


class _Builder:
    """One interchange's copy under construction."""

    def __init__(
        self, reader: X12Reader, summary: InterchangeSummary, sink: Sink | None = None
    ) -> None:
        self.reader = reader
        self.summary = summary
        self.sink = sink
        self.parts: list[str] = []
        self.lines = LineMap()
        self.seen: set[str] = set()
        self.replacements: list[CharacterReplacement] = []
        self.skipped: list[SkippedSet] = []
        self.plans: dict[int, GroupPlan] = {}
        self.notes: list[str] = []
        self.original_version = summary.version
        self.version = pyx12_version(summary.version)
        self.pending_gs: tuple[list[str], int] | None = None
        self.group_plan: GroupPlan | None = None
        self.group_emitted = False
        self.group_sets = 0  # sets of the current group in the copy
        self.set_included = False

    # -- emitting ---------------------------------------------------------------------

    def emit(self, elements: list[str], number: int) -> None:
        sink = self.sink
        if sink is not None:
            joined = "".join(elements)
            if joined.isascii() and _PLACEHOLDER not in joined and _COMPONENT_MARK not in joined:
                fields = elements if elements[-1] != "" or len(elements) == 1 else list(elements)
            else:
                fields = [
                    self._clean(value, number, elements[0], i) for i, value in enumerate(elements)
                ]
            while len(fields) > 1 and fields[-1] == "":
                fields.pop()
            self.lines.append(number)
            sink.feed(fields)
            return
        fields = [self._clean(value, number, elements[0], i) for i, value in enumerate(elements)]
        while len(fields) > 1 and fields[-1] == "":
            fields.pop()
        self.parts.append(_PLACEHOLDER.join(fields))
        self.lines.append(number)

    def _clean(self, value: str, number: int, segment_id: str, position: int) -> str:
        if value.isascii() and _PLACEHOLDER not in value and _COMPONENT_MARK not in value:
            self.seen.update(value)
            return value
        component_sep = self.reader.delimiters.component
        components = value.split(component_sep)
        for c, component in enumerate(components, start=1):
            if not component.isascii() or _RESERVED.intersection(component):
                self.replacements.append(
                    CharacterReplacement(
                        number,
                        segment_id,
                        position,
                        c if len(components) > 1 else None,
                        component.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                    )
                )
        cleaned = "".join(ch if ch.isascii() and ch not in _RESERVED else "?" for ch in value)
        self.seen.update(cleaned)
        return cleaned

    def emit_isa(self, elements: list[str], number: int) -> None:
        fields = list(elements[1:17]) + [""] * max(0, 16 - len(elements[1:17]))
        fields[11] = self.version
        if self.version == "00401":
            fields[10] = "U"
        if is_digits(fields[12]):
            fields[12] = fields[12].zfill(9)
        padded = []
        for i, (value, width) in enumerate(zip(fields[:15], ISA_FIELD_WIDTHS[:15], strict=True)):
            if not value.isascii():
                self.notes.append(
                    f"ISA{i + 1:02d} {readable(value)} contains characters outside ASCII; "
                    "they were read as '?' for validation"
                )
            if len(value) > width:
                self.notes.append(
                    f"ISA{i + 1:02d} {readable(value)} is {len(value)} characters long; "
                    f"its fixed width is {width}"
                )
            value = "".join(ch if ch.isascii() else "?" for ch in value[:width])
            padded.append(value.ljust(width))
        if self.sink is not None:
            component = self.reader.delimiters.component
            padded.append(component if component.isascii() else "?")
            self.lines.append(number)
            self.sink.feed(["ISA", *padded])
            return
        padded.append(_COMPONENT_MARK)  # ISA16: the copy's component separator, set at the end
        self.seen.update("".join(padded[:15]))
        self.parts.append("ISA" + _PLACEHOLDER + _PLACEHOLDER.join(padded))
        self.lines.append(number)

    def emit_iea(self, elements: list[str], number: int) -> None:
        elements = list(elements)
        if len(elements) > 2 and is_digits(elements[2]):
            elements[2] = elements[2].zfill(9)
        self.emit(elements, number)

    # -- finishing ----------------------------------------------------------------------

    def finish(self) -> NormalisedInterchange:
        delimiters = self.reader.delimiters
        if self.sink is not None:
            checked, recorded = self.sink.finish()
            return NormalisedInterchange(
                text="",
                summary=self.summary,
                lines=self.lines,
                original_version=self.original_version,
                version=self.version,
                element=delimiters.element,
                component=delimiters.component,
                terminator=delimiters.segment,
                replacements=self.replacements,
                skipped_sets=self.skipped,
                group_plans=self.plans,
                notes=self.notes,
                checked=checked,
                recorded=recorded,
            )
        data_chars = set(self.seen)
        data_chars.discard(delimiters.component)
        if delimiters.repetition:
            data_chars.discard(delimiters.repetition)
        taken = set(data_chars) | {"?", " "}
        if delimiters.repetition:
            taken.add(delimiters.repetition)

        def pick(preferred: str) -> str:
            if _printable_separator(preferred) and preferred not in taken:
                choice = preferred
            else:
                choice = next(c for c in _CANDIDATES if c not in taken)
            taken.add(choice)
            return choice

        element = pick(delimiters.element)
        component = pick(delimiters.component)
        terminator = pick("~")
        text = terminator.join(self.parts)
        if component != delimiters.component:
            text = text.replace(delimiters.component, component)
        text = text.replace(_COMPONENT_MARK, component).replace(_PLACEHOLDER, element)
        return NormalisedInterchange(
            text=text + terminator if text else "",
            summary=self.summary,
            lines=self.lines,
            original_version=self.original_version,
            version=self.version,
            element=element,
            component=component,
            terminator=terminator,
            replacements=self.replacements,
            skipped_sets=self.skipped,
            group_plans=self.plans,
            notes=self.notes,
        )


def _printable_separator(ch: str) -> bool:
    return len(ch) == 1 and ch.isascii() and ch.isprintable() and not ch.isalnum() and ch != " "


def normalise(
    reader: X12Reader,
    *,
    plan_group: PlanGroup | None = None,
    observe: Callable[[list[str], int], None] | None = None,
    sink: SinkFactory | None = None,
) -> Iterator[NormalisedInterchange]:
    """Read ``reader`` to the end, yielding each interchange's copy after its IEA (or when
    the next ISA or the end of the file closes it). ``observe(elements, segment_number)``
    sees every segment of the sets that are fed to pyx12, ST and SE included. With
    ``sink``, each interchange's segments go to ``sink(reader, version)`` as they are read
    and no text is built: the copy comes back with ``text`` empty and ``checked`` set to
    what the sink returned (streaming validation, memory flat in the file's size)."""
    plan_group = plan_group or _keep_group
    builder: _Builder | None = None
    for elements in reader.segments():
        number = reader.segment_number
        segment_id = elements[0]
        if segment_id == "ISA":
            if builder is not None:
                yield builder.finish()
            summary = reader.current_interchange
            assert summary is not None
            builder = _Builder(
                reader, summary, sink(reader, pyx12_version(summary.version)) if sink else None
            )
            builder.emit_isa(elements, number)
            continue
        if builder is None:  # pragma: no cover - the reader starts with an ISA
            continue
        if segment_id == "IEA":
            builder.emit_iea(elements, number)
            yield builder.finish()
            builder = None
        elif segment_id == "GS":
            builder.pending_gs = (elements, number)
            builder.group_plan = None
            builder.group_emitted = False
            builder.group_sets = 0
        elif segment_id == "GE":
            if builder.group_emitted:
                # pyx12 int()s GE01 and stops dead on "1A"; the reader has already checked
                # GE01/GE02, so the copy's GE simply agrees with what the copy holds.
                gs = builder.pending_gs[0] if builder.pending_gs else []
                control = gs[6] if len(gs) > 6 else ""
                builder.emit(["GE", str(builder.group_sets), control], number)
            builder.pending_gs = None
            builder.group_plan = None
            builder.group_emitted = False
        elif segment_id == "ST":
            _open_set(builder, reader, elements, number, plan_group)
            if builder.set_included:
                builder.emit(elements, number)
                if observe:
                    observe(elements, number)
        elif segment_id == "SE":
            if builder.set_included:
                builder.emit(elements, number)
                if observe:
                    observe(elements, number)
            builder.set_included = False
        elif builder.set_included and reader.current_set is not None:
            builder.emit(elements, number)
            if observe:
                observe(elements, number)
            if builder.sink is not None:
                _take_run(reader, builder, elements[0], observe)
    if builder is not None:
        yield builder.finish()


def _take_run(reader: X12Reader, builder: _Builder, segment_id: str, observe) -> None:
    """Let the sink check the like segments that follow as one run, when it can and the
    observer does not need to see them one by one."""
    run = builder.sink.run()
    if run is None:
        return
    if observe is not None and not getattr(observe, "runs_ok", lambda _: False)(segment_id):
        return
    first = reader.segment_number + 1
    taken, last = reader.take_run(*run)
    if taken:
        builder.lines.extend(first, taken)
        builder.sink.ran(taken, last)
        if observe is not None:
            observe.ran(segment_id, reader.segment_number)


def _open_set(
    builder: _Builder,
    reader: X12Reader,
    st: list[str],
    number: int,
    plan_group: PlanGroup,
) -> None:
    set_id = st[1] if len(st) > 1 else ""
    control = st[2] if len(st) > 2 else ""
    builder.set_included = False
    if builder.pending_gs is None:
        return  # ST outside a group: the reader reports it
    gs, gs_number = builder.pending_gs
    if builder.group_plan is None:
        plan = plan_group(GroupContext(gs, set_id or None, builder.version, gs_number))
        builder.group_plan = plan
        builder.plans[gs_number] = plan
    plan = builder.group_plan
    if not plan.include:
        builder.skipped.append(SkippedSet(number, set_id, control, plan.set_code, plan.message))
        return
    if plan.set_id is not None and set_id != plan.set_id:
        builder.skipped.append(
            SkippedSet(
                number,
                set_id,
                control,
                "6",
                f"ST01 {set_id!r} does not belong in this group: it holds "
                f"{plan.set_id} sets (GS01 {gs[1] if len(gs) > 1 else ''!r})",
            )
        )
        return
    if not builder.group_emitted:
        copy = list(gs) + [""] * max(0, 9 - len(gs))
        copy[1], copy[8] = plan.gs01, plan.gs08
        builder.emit(copy, gs_number)
        builder.group_emitted = True
    builder.group_sets += 1
    builder.set_included = True


def normalise_source(source: Source, **kwargs) -> list[NormalisedInterchange]:
    """Convenience for tests and tools: every interchange's copy of ``source``."""
    return list(normalise(X12Reader(source), **kwargs))
