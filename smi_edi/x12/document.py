"""An interchange read whole into its envelope tree, and its canonical JSON form.

For documents that are shown or compared (the CLI, the admin, tests, acknowledgments);
bulk paths stream with :class:`~smi_edi.x12.reader.X12Reader` instead. The canonical JSON
is the one form every place uses to show or compare a document: keys sorted, no
insignificant whitespace, every segment with its number in the file (ISA = 1), its byte
offset and its elements.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from .reader import (
    Delimiters,
    EnvelopeError,
    GroupSummary,
    InterchangeSummary,
    SetSummary,
    Source,
    X12Reader,
)


@dataclass(slots=True)
class Segment:
    elements: list[str]  # elements[0] is the segment id
    number: int  # position in the file, ISA is 1
    offset: int  # byte offset in the file

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, position: int, default: str = "") -> str:
        """Element by its X12 position (``XQ02`` is ``get(2)``); '' when absent."""
        return self.elements[position] if len(self.elements) > position else default

    def as_dict(self) -> dict:
        return {"number": self.number, "offset": self.offset, "elements": self.elements}


@dataclass(slots=True)
class TransactionSet:
    summary: SetSummary
    segments: list[Segment] = field(default_factory=list)  # ST .. SE inclusive

    @property
    def set_id(self) -> str:
        return self.summary.set_id

    @property
    def control_number(self) -> str:
        return self.summary.control_number

    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return [s for s in self.segments if s.id not in ("ST", "SE")]


@dataclass(slots=True)
class FunctionalGroup:
    summary: GroupSummary
    sets: list[TransactionSet] = field(default_factory=list)


@dataclass(slots=True)
class Interchange:
    summary: InterchangeSummary
    groups: list[FunctionalGroup] = field(default_factory=list)

    @property
    def sets(self) -> Iterator[TransactionSet]:
        for group in self.groups:
            yield from group.sets


@dataclass(slots=True)
class Document:
    delimiters: Delimiters
    interchanges: list[Interchange]
    envelope_errors: list[EnvelopeError]
    warnings: list[str]
    segment_count: int
    stray_segments: list[Segment] = field(default_factory=list)  # outside any set

    @property
    def sets(self) -> Iterator[TransactionSet]:
        for interchange in self.interchanges:
            yield from interchange.sets

    def as_dict(self, *, positions: bool = True) -> dict:
        return _document_dict(self, positions=positions)

    def canonical_json(self, *, positions: bool = True) -> str:
        return canonical_json(self.as_dict(positions=positions))


def read_document(source: Source) -> Document:
    """Read a whole file into its envelope tree; raises X12SyntaxError when it cannot."""
    reader = X12Reader(source)
    sets_by_summary: dict[int, TransactionSet] = {}
    stray: list[Segment] = []
    current: TransactionSet | None = None
    for elements in reader.segments():
        segment = Segment(elements, reader.segment_number, reader.offset)
        segment_id = elements[0]
        if segment_id == "ST" and reader.current_group is None:
            current = None  # a set outside any group belongs to no group: its segments are stray
        elif segment_id == "ST":
            current = TransactionSet(reader.current_set)
            sets_by_summary[id(current.summary)] = current
        elif (
            current is not None and reader.current_set is not current.summary and segment_id != "SE"
        ):
            current = None  # the set was closed without an SE (a GE or IEA came first)
        if current is not None:
            current.segments.append(segment)
            if segment_id == "SE":
                current = None
        elif segment_id not in ("ISA", "IEA", "GS", "GE"):
            stray.append(segment)
    interchanges = []
    for ix in reader.interchanges:
        interchange = Interchange(ix)
        for gs in ix.groups:
            group = FunctionalGroup(
                gs, [sets_by_summary[id(s)] for s in gs.sets if id(s) in sets_by_summary]
            )
            interchange.groups.append(group)
        interchanges.append(interchange)
    return Document(
        delimiters=reader.delimiters,
        interchanges=interchanges,
        envelope_errors=reader.envelope_errors,
        warnings=reader.warnings,
        segment_count=reader.segment_number,
        stray_segments=stray,
    )


def canonical_json(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _envelope_dict(summary, *, positions: bool) -> dict:
    data = {
        "header": summary.header,
        "trailer": summary.trailer,
        "errors": [
            e.as_dict() if positions else {"code": e.code, "message": e.message}
            for e in summary.errors
        ],
    }
    if positions:
        data["segment_number"] = summary.segment_number
        data["offset"] = summary.offset
    return data


def _document_dict(doc: Document, *, positions: bool) -> dict:
    def segment_dict(segment: Segment) -> dict | list[str]:
        return segment.as_dict() if positions else segment.elements

    interchanges = []
    for interchange in doc.interchanges:
        ix = interchange.summary
        groups = []
        for group in interchange.groups:
            sets = []
            for ts in group.sets:
                entry = _envelope_dict(ts.summary, positions=positions)
                entry.update(
                    set_id=ts.set_id,
                    control_number=ts.control_number,
                    segments=[segment_dict(s) for s in ts.segments],
                )
                sets.append(entry)
            entry = _envelope_dict(group.summary, positions=positions)
            entry.update(
                functional_id=group.summary.functional_id,
                control_number=group.summary.control_number,
                version=group.summary.version,
                sets=sets,
            )
            groups.append(entry)
        entry = _envelope_dict(ix, positions=positions)
        entry.update(
            sender={"qualifier": ix.sender_qualifier, "id": ix.sender_id},
            receiver={"qualifier": ix.receiver_qualifier, "id": ix.receiver_id},
            control_number=ix.control_number,
            version=ix.version,
            groups=groups,
        )
        interchanges.append(entry)
    data = {
        "delimiters": doc.delimiters.as_dict(),
        "interchanges": interchanges,
        "envelope_errors": [
            e.as_dict() if positions else {"code": e.code, "message": e.message}
            for e in doc.envelope_errors
        ],
        "warnings": doc.warnings,
        "segment_count": doc.segment_count,
    }
    if doc.stray_segments:
        data["stray_segments"] = [segment_dict(s) for s in doc.stray_segments]
    return data
