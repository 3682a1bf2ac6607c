"""Streaming X12 reader.

Reads a path, bytes or a binary file object in fixed-size chunks, so memory stays flat as
the file grows. Delimiters come from the ISA (element = the character after ``ISA``,
component = ISA16, segment terminator = the character after ISA16, repetition = ISA11 from
version 00402 on). What real partners send is normalised on the way: a UTF-8 byte order
mark, CR/LF and indentation between segments, newline-only terminators, unpadded ISA
fields, trailing spaces. What cannot be read raises :class:`X12SyntaxError` naming the
byte offset, the segment number and what was expected.

While it reads, the reader checks the envelopes (ISA/IEA, GS/GE, ST/SE: counts and control
numbers) and keeps a small summary tree of interchanges, groups and sets (no segments), so
that a validator or acknowledgment writer knows every envelope problem, not just the first.

The text is decoded as Latin-1 while splitting (one character per byte, so character
offsets are byte offsets and a multi-byte terminator such as U+2026 works), and a segment
holding non-ASCII bytes is re-decoded as UTF-8 before it is handed out.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from .errors import X12SyntaxError, readable, readable_bytes

Source = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes]

BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as Latin-1 text
_WHITESPACE = " \t\r\n\x0b\x0c"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
DEFAULT_CHUNK_SIZE = 1 << 18  # 256 KiB: as fast as 1 MiB, a quarter of the memory
ISA_FIELD_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    segment: str = "~"
    repetition: str | None = None

    def as_dict(self) -> dict:
        return {
            "element": self.element,
            "component": self.component,
            "segment": self.segment,
            "repetition": self.repetition,
        }


@dataclass(slots=True)
class EnvelopeError:
    """A broken envelope rule. ``level`` is interchange, group or set; ``code`` is the
    AK502 (set) or AK905 (group) code, or a TA1 note code for the interchange."""

    level: str
    code: str
    message: str
    segment_number: int
    offset: int

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "segment_number": self.segment_number,
            "offset": self.offset,
        }


@dataclass(slots=True)
class SetSummary:
    header: list[str]  # ST elements
    segment_number: int  # ST's number in the file
    offset: int
    trailer: list[str] | None = None
    segment_count: int = 0  # actual count, ST and SE included
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def set_id(self) -> str:
        return _get(self.header, 1)

    @property
    def control_number(self) -> str:
        return _get(self.header, 2)

    @property
    def implementation_reference(self) -> str:
        return _get(self.header, 3)


@dataclass(slots=True)
class GroupSummary:
    header: list[str]  # GS elements
    segment_number: int
    offset: int
    trailer: list[str] | None = None
    sets: list[SetSummary] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        return _get(self.header, 1)

    @property
    def sender_id(self) -> str:
        return _get(self.header, 2)

    @property
    def receiver_id(self) -> str:
        return _get(self.header, 3)

    @property
    def control_number(self) -> str:
        return _get(self.header, 6)

    @property
    def version(self) -> str:
        return _get(self.header, 8)


@dataclass(slots=True)
class InterchangeSummary:
    header: list[str]  # ISA elements, padding stripped
    segment_number: int
    offset: int
    trailer: list[str] | None = None
    groups: list[GroupSummary] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def sender_qualifier(self) -> str:
        return self.header[5]

    @property
    def sender_id(self) -> str:
        return self.header[6]

    @property
    def receiver_qualifier(self) -> str:
        return self.header[7]

    @property
    def receiver_id(self) -> str:
        return self.header[8]

    @property
    def date(self) -> str:
        return self.header[9]

    @property
    def time(self) -> str:
        return self.header[10]

    @property
    def version(self) -> str:
        return self.header[12]

    @property
    def control_number(self) -> str:
        return self.header[13]

    @property
    def ack_requested(self) -> str:
        return self.header[14]

    @property
    def usage(self) -> str:
        return self.header[15]


def _get(elements: list[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


def is_digits(value: str) -> bool:
    """Only ASCII digits: ``str.isdigit`` also takes "\u00b9" and other Unicode digits that
    ``int`` refuses, and a damaged file may hold any byte."""
    return value.isascii() and value.isdigit()


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if is_digits(a) and is_digits(b):
        return int(a) == int(b)
    return a == b


def _open(source: Source) -> tuple[IO[bytes], bool]:
    """Return a binary stream and whether we opened it (and so must close it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb"), True
        except OSError as exc:
            raise X12SyntaxError(f"cannot open {os.fspath(source)!r}: {exc.strerror}") from exc
    if hasattr(source, "read"):
        return source, False
    raise TypeError(
        f"X12 source must be a path, bytes or a binary file, not {type(source).__name__}"
    )


def _describe(text: str) -> str:
    """Raw text (Latin-1, one character per byte) quoted readably: see ``readable``."""
    return readable_bytes(text[:20])


def _utf8(value: str) -> str:
    """An ISA element as text: UTF-8 where its bytes are UTF-8 (a no-break space is one
    character, not 'Â\xa0'), else the Latin-1 it was read as."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return value


class X12Reader:
    """Iterate the segments of an X12 file as lists of elements.

    >>> reader = X12Reader(b"ISA*00*...~")          # doctest: +SKIP
    >>> for elements in reader.segments():           # doctest: +SKIP
    ...     print(reader.segment_number, elements[0])

    ``segment_number`` (ISA is 1) and ``offset`` (byte offset of the segment's first
    character) describe the segment last yielded. After the iteration, ``interchanges``
    holds the envelope summary and ``envelope_errors`` every envelope problem found.
    """

    def __init__(self, source: Source, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
        self._stream, self._owns_stream = _open(source)
        self._chunk_size = max(chunk_size, 256)
        self.segment_number = 0
        self._raw_start = 0  # offset of the ISA
        self._parts: list[str] | None = None  # the current chunk's raw segments
        self._index = 0
        self._resume = -1  # where to go on in the chunk after take_run()
        self._chunk_start = 0
        self._cursor_index = 0
        self._cursor_position = 0
        self._step = 1
        self._strip = _WHITESPACE
        self.bytes_read = 0
        self.warnings: list[str] = []
        self.interchanges: list[InterchangeSummary] = []
        self.envelope_errors: list[EnvelopeError] = []
        self._ix: InterchangeSummary | None = None
        self._group: GroupSummary | None = None
        self._set: SetSummary | None = None
        self._started = False
        self._head = self._read_head()
        self.delimiters, self.isa, self._isa_end = self._parse_isa(self._head)

    # -- opening ---------------------------------------------------------------------

    def _read(self) -> str:
        data = self._stream.read(self._chunk_size)
        if isinstance(data, str):
            raise TypeError("X12 file objects must be opened in binary mode ('rb')")
        self.bytes_read += len(data)
        return data.decode("latin-1")

    def _read_head(self) -> str:
        text = ""
        while len(text) < 4096:
            chunk = self._read()
            if not chunk:
                break
            text += chunk
        return text

    def _parse_isa(self, text: str) -> tuple[Delimiters, list[str], int]:
        start = 0
        if text.startswith(BOM):
            start = len(BOM)
            self.warnings.append("UTF-8 byte order mark removed")
        while start < len(text) and text[start] in _WHITESPACE:
            start += 1
        if start >= len(text):
            raise X12SyntaxError("the file is empty", offset=0, expected="an ISA segment")
        if not text.startswith("ISA", start):
            found = text[start : start + 3]
            hint = ""
            if text.startswith(("ST", "GS"), start):
                hint = " (a bare transaction set or group has no ISA to declare its delimiters)"
            raise X12SyntaxError(
                f"the file does not start with an ISA interchange header, found {_describe(found)}{hint}",
                offset=start,
                segment_number=1,
                expected="'ISA'",
            )
        self._raw_start = start
        if len(text) < start + 4:
            raise X12SyntaxError(
                "the file ends inside the ISA segment",
                offset=start,
                segment_number=1,
                expected="a complete ISA of 16 elements",
            )
        element = text[start + 3]
        if element.isalnum() or element in _WHITESPACE:
            raise X12SyntaxError(
                f"{readable_bytes(element)} cannot be the element separator",
                offset=start + 3,
                segment_number=1,
                expected="a punctuation character after 'ISA'",
            )
        position = start + 3
        for _ in range(15):
            position = text.find(element, position + 1)
            if position < 0:
                raise X12SyntaxError(
                    "the ISA segment has fewer than 16 elements",
                    offset=start,
                    segment_number=1,
                    expected=f"16 elements separated by {readable_bytes(element)}",
                )
        # ``position`` is the separator before ISA16; ISA16 is one character, then the terminator.
        if len(text) < position + 3:
            raise X12SyntaxError(
                "the file ends inside the ISA segment",
                offset=position,
                segment_number=1,
                expected="ISA16 and a segment terminator",
            )
        component = text[position + 1]
        terminator = text[position + 2]
        # Spaces or tabs left before the line break that ends each segment (an editor's
        # trailing whitespace) are trailing spaces, not the terminator: the line break is.
        gap = position + 2
        while gap < len(text) and gap < position + 66 and text[gap] in " \t":
            gap += 1
        if gap > position + 2 and text[gap : gap + 1] in ("\r", "\n"):
            terminator = text[gap]
        else:
            gap = position + 2
        if terminator == "\r" and text[gap + 1 : gap + 2] == "\n":
            terminator = "\n"  # CRLF: split on LF, the CR goes with the whitespace
        if terminator in "\r\n":
            self.warnings.append("segments are terminated by line breaks")
        elif terminator == "\xe2" and text[position + 2 : position + 5] == "\xe2\x80\xa6":
            terminator = "\xe2\x80\xa6"  # U+2026 '…' in UTF-8, seen in real files
        isa_end = gap + (2 if text[gap : gap + 2] == "\r\n" else len(terminator))
        raw_isa = text[start : position + 2]
        if re.search(rf"[\r\n~^!|]\s*GS{re.escape(element)}", raw_isa):
            raise X12SyntaxError(
                "the ISA segment has fewer than 16 elements (a GS starts before ISA16)",
                offset=start,
                segment_number=1,
                expected=f"16 elements separated by {readable_bytes(element)}, then ISA16 and the segment terminator",
            )
        if "\n" in raw_isa or "\r" in raw_isa:
            raise X12SyntaxError(
                "the ISA segment is broken across lines",
                offset=start + raw_isa.find("\n" if "\n" in raw_isa else "\r"),
                segment_number=1,
                expected="the 16 ISA elements on one line",
            )
        if terminator.isalnum() or terminator == " ":
            raise X12SyntaxError(
                f"{readable_bytes(terminator)} after ISA16 cannot be a segment terminator",
                offset=position + 2,
                segment_number=1,
                expected="a segment terminator such as '~' right after ISA16",
            )
        if component.isalnum() or component == " ":
            raise X12SyntaxError(
                f"ISA16 {readable_bytes(component)} cannot be the component separator",
                offset=position + 1,
                segment_number=1,
                expected="a punctuation character in ISA16",
            )
        if len({element, component, terminator}) < 3:
            raise X12SyntaxError(
                "the element separator, component separator and segment terminator are not all different",
                offset=position + 1,
                segment_number=1,
                expected="three distinct delimiters",
            )
        raw_elements = raw_isa.split(element)
        # spaces only: ISA16 may be 0x1F; ISA16 stays the raw character it splits on
        isa = [_utf8(value).strip(" ") for value in raw_elements[:16]] + raw_elements[16:]
        version = isa[12]
        if not (len(version) == 5 and is_digits(version)):
            raise X12SyntaxError(
                f"ISA12 version {readable(version)} is not a 5-digit version number",
                offset=start,
                segment_number=1,
                expected="an interchange version such as 00401 or 00501",
            )
        repetition = None
        if version >= "00402" and not isa[11].isalnum() and isa[11] not in ("", " "):
            repetition = raw_elements[11]
            if repetition in (element, component, terminator):
                raise X12SyntaxError(
                    f"ISA11 repetition separator {readable_bytes(repetition)} repeats another delimiter",
                    offset=start,
                    segment_number=1,
                    expected="a distinct repetition separator",
                )
        if len(raw_isa) != 105 or any(
            len(raw_elements[i + 1]) != width for i, width in enumerate(ISA_FIELD_WIDTHS[:-1])
        ):
            self.warnings.append("ISA fields are not padded to their fixed widths")
        self._terminator = terminator
        visible = terminator.encode("latin-1").decode("utf-8", "replace")
        return Delimiters(element, component, visible, repetition), isa, isa_end

    # -- iteration -------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Byte offset of the first character of the segment last yielded.

        Computed on demand (the hot loop only records the segment's index in its chunk);
        a cursor makes a run of calls linear in the chunk size.
        """
        parts = self._parts
        if parts is None:
            return self._raw_start
        index = self._index
        if self._cursor_index > index:
            self._cursor_index, self._cursor_position = 0, self._chunk_start
        position, step = self._cursor_position, self._step
        for i in range(self._cursor_index, index):
            position += len(parts[i]) + step
        self._cursor_index, self._cursor_position = index, position
        raw = parts[index]
        return position + len(raw) - len(raw.lstrip(self._strip))

    @property
    def current_interchange(self) -> InterchangeSummary | None:
        """The interchange the last segment belongs to (None after its IEA)."""
        return self._ix

    @property
    def current_group(self) -> GroupSummary | None:
        return self._group

    @property
    def current_set(self) -> SetSummary | None:
        """The open transaction set (None outside ST..SE, and after SE)."""
        return self._set

    def __iter__(self) -> Iterator[list[str]]:
        return self.segments()

    def segments(self) -> Iterator[list[str]]:
        """Yield each segment as a list of elements; elements[0] is the segment id."""
        if self._started:
            raise RuntimeError("an X12Reader can be iterated once")
        self._started = True
        try:
            yield from self._segments()
        finally:
            if self._owns_stream:
                self._stream.close()

    def _segments(self) -> Iterator[list[str]]:
        delimiters = self.delimiters
        terminator = self._terminator
        element = delimiters.element
        # Whitespace between segments goes, and so does a stray '~' where '~' is no
        # delimiter (partners who switch terminators leave one at the end of a segment).
        strip = "".join(
            c
            for c in _WHITESPACE + "~"
            if c not in (element, delimiters.component, delimiters.repetition)
        )
        self._strip = strip
        self._step = len(terminator)
        # segment id -> is it an envelope segment; ids not in here are checked once.
        known_ids = dict.fromkeys(_ENVELOPE_IDS, True)

        # The ISA first: its elements are stripped of padding.
        self.segment_number = 1
        self._open_interchange(list(self.isa))
        yield list(self.isa)

        position = self._isa_end
        buffer = self._head[self._isa_end :]
        self._head = ""
        number = 1
        in_set = False
        while True:
            chunk = self._read()
            if chunk:
                buffer += chunk
                size = len(buffer)
                parts = buffer.split(terminator)
                buffer = parts.pop()
                consumed = size - len(buffer)
            else:
                consumed = len(buffer)
                parts = buffer.split(terminator)
                parts.append(self._last_segment(parts.pop(), strip))
                buffer = ""
            self._parts, self._chunk_start = parts, position
            self._cursor_index, self._cursor_position = 0, position
            self._resume = -1
            index, count = -1, len(parts)
            while True:
                if self._resume < 0:
                    index += 1
                else:  # take_run() consumed a run of segments after the last one yielded
                    index, self._resume = self._resume, -1
                    number = self.segment_number
                if index >= count:
                    break
                raw = parts[index]
                text = raw.strip(strip)
                if not text:
                    continue
                number += 1
                self.segment_number = number
                self._index = index
                if not text.isascii():
                    text = self._decode(text)
                elements = text.split(element)
                envelope = known_ids.get(elements[0])
                if envelope:
                    self._envelope(elements)
                    in_set = self._set is not None
                elif envelope is None:
                    self._check_segment_id(elements[0], not chunk and index == len(parts) - 1)
                    known_ids[elements[0]] = False
                    if not in_set:
                        self._outside_set(elements[0])
                elif not in_set:
                    self._outside_set(elements[0])
                yield elements
            position += consumed
            if not chunk:
                break
        self._finish()

    def take_run(self, accept, limit: int) -> tuple[int, str]:
        """Consume, without yielding them, the segments that directly follow the one last
        yielded in the current chunk, as long as ``accept(text)`` matches each one (a
        compiled ``fullmatch``) and at most ``limit``; return how many, and the last one.

        For a consumer that can check a run of like segments at once (the validator, on
        thousands of SDQ segments in a row). Only body segments can be in a run: an
        ``accept`` must never match an envelope segment (ISA, GS, ST, SE, GE, IEA) or an
        unknown segment id, which the reader has to see itself.
        """
        parts = self._parts
        if parts is None or limit < 1:
            return 0, ""
        strip, element = self._strip, self.delimiters.element
        taken, text = 0, ""
        index, count, last = self._index + 1, len(parts), self._index
        while index < count:
            candidate = parts[index].strip(strip)
            if candidate:
                if taken >= limit or candidate[-1] == element or accept(candidate) is None:
                    break
                taken, text, last = taken + 1, candidate, index
            index += 1
        if taken:
            self._resume = last + 1
            self._index = last
            self.segment_number += taken
        return taken, text

    def _decode(self, text: str) -> str:
        """A segment with non-ASCII bytes: UTF-8, or else Latin-1 (older systems), said once."""
        try:
            return text.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            if not any(w.startswith("bytes that are not UTF-8") for w in self.warnings):
                self.warnings.append(
                    f"bytes that are not UTF-8 were read as Latin-1 (first in segment {self.segment_number})"
                )
            return text

    def _last_segment(self, text: str, strip: str) -> str:
        """What follows the last terminator: nothing, or a final segment a partner left
        unterminated (or ended with a stray '~'), which we take with a warning."""
        body = text.rstrip(strip)
        if not body:
            return text
        self.warnings.append(
            f"the last segment is not terminated by {readable(self.delimiters.segment)}"
        )
        return body

    def _check_segment_id(self, segment_id: str, last: bool) -> None:
        if _SEGMENT_ID.match(segment_id):
            return
        expected = "a segment id of 2 or 3 upper-case letters and digits"
        if last:
            reason = f"the file ends with {readable(segment_id[:20])}, which is not a segment"
            expected += f", each segment ending with {readable(self.delimiters.segment)}"
        else:
            reason = f"{readable(segment_id[:20])} is not a segment id"
        raise X12SyntaxError(
            reason, offset=self.offset, segment_number=self.segment_number, expected=expected
        )

    # -- envelope checks -------------------------------------------------------------

    def _error(self, level: str, code: str, message: str) -> EnvelopeError:
        error = EnvelopeError(level, code, message, self.segment_number, self.offset)
        self.envelope_errors.append(error)
        return error

    def _outside_set(self, segment_id: str) -> None:
        error = self._error(
            "set" if self._group else "interchange",
            "6" if self._group else "024",
            f"segment {segment_id} (segment {self.segment_number}) is outside any ST/SE transaction set",
        )
        (self._group or self._ix or self._placeholder()).errors.append(error)

    def _placeholder(self) -> InterchangeSummary:
        return self.interchanges[-1]

    def _envelope(self, elements: list[str]) -> None:
        segment_id = elements[0]
        if segment_id == "ST":
            self._open_set(elements)
        elif segment_id == "SE":
            self._close_set(elements)
        elif segment_id == "GS":
            self._open_group(elements)
        elif segment_id == "GE":
            self._close_group(elements)
        elif segment_id == "ISA":
            if elements != self.isa and len(elements) != 17:
                raise X12SyntaxError(
                    "a later interchange in this file does not use the first one's delimiters",
                    offset=self.offset,
                    segment_number=self.segment_number,
                    expected=f"16 ISA elements separated by {readable_bytes(self.delimiters.element)}",
                )
            elements[:] = [e.strip(" ") for e in elements]  # what the caller gets is unpadded too
            self._open_interchange(list(elements))
        else:
            self._close_interchange(elements)

    def _open_interchange(self, isa: list[str]) -> None:
        if self._ix is not None:
            self._missing_trailers("ISA")
        self._ix = InterchangeSummary(isa, self.segment_number, self.offset)
        self.interchanges.append(self._ix)

    def _close_interchange(self, iea: list[str]) -> None:
        ix = self._ix
        if ix is None:
            self._error(
                "interchange", "001", f"IEA at segment {self.segment_number} has no matching ISA"
            )
            return
        if self._group is not None or self._set is not None:
            self._missing_trailers("IEA")
        ix.trailer = iea
        count, control = _get(iea, 1), _get(iea, 2)
        if not is_digits(count) or int(count) != len(ix.groups):
            ix.errors.append(
                self._error(
                    "interchange",
                    "021",
                    f"IEA01 says {count or 'nothing'} functional groups but the interchange has {len(ix.groups)}",
                )
            )
        if not _same_number(control, ix.control_number):
            ix.errors.append(
                self._error(
                    "interchange",
                    "001",
                    f"IEA02 control number {readable(control)} does not match ISA13 {readable(ix.control_number)}",
                )
            )
        self._ix = None

    def _open_group(self, gs: list[str]) -> None:
        if self._ix is None:
            raise X12SyntaxError(
                "GS functional group header outside an interchange",
                offset=self.offset,
                segment_number=self.segment_number,
                expected="ISA before GS",
            )
        if self._group is not None:
            self._missing_trailers("GS")
        group = GroupSummary(gs, self.segment_number, self.offset)
        if len(gs) < 9:
            group.errors.append(
                self._error(
                    "group", "6", f"GS has {len(gs) - 1} elements; GS01 to GS08 are required"
                )
            )
        if any(_same_number(g.control_number, group.control_number) for g in self._ix.groups):
            group.errors.append(
                self._error(
                    "group",
                    "19",
                    f"group control number GS06 {readable(group.control_number)} is used twice in this interchange",
                )
            )
        self._ix.groups.append(group)
        self._group = group

    def _close_group(self, ge: list[str]) -> None:
        group = self._group
        if group is None:
            self._error(
                "interchange", "024", f"GE at segment {self.segment_number} has no matching GS"
            )
            return
        if self._set is not None:
            self._missing_trailers("GE")
        group.trailer = ge
        count, control = _get(ge, 1), _get(ge, 2)
        if not is_digits(count) or int(count) != len(group.sets):
            group.errors.append(
                self._error(
                    "group",
                    "5",
                    f"GE01 says {count or 'nothing'} transaction sets but group {group.control_number} has {len(group.sets)}",
                )
            )
        if not _same_number(control, group.control_number):
            group.errors.append(
                self._error(
                    "group",
                    "4",
                    f"GE02 control number {readable(control)} does not match GS06 {readable(group.control_number)}",
                )
            )
        self._group = None

    def _open_set(self, st: list[str]) -> None:
        if self._set is not None:
            self._missing_trailers("ST")
        ts = SetSummary(st, self.segment_number, self.offset)
        if self._group is None:
            error = self._error(
                "interchange",
                "024",
                f"transaction set ST at segment {self.segment_number} is outside a GS/GE group",
            )
            ts.errors.append(error)
            (self._ix.errors if self._ix else []).append(error)
        else:
            if not ts.set_id:
                ts.errors.append(
                    self._error("set", "6", "ST01 transaction set identifier is missing")
                )
            if not ts.control_number:
                ts.errors.append(
                    self._error("set", "7", "ST02 transaction set control number is missing")
                )
            elif any(s.control_number == ts.control_number for s in self._group.sets):
                ts.errors.append(
                    self._error(
                        "set",
                        "23",
                        f"set control number ST02 {readable(ts.control_number)} is used twice in this group",
                    )
                )
            self._group.sets.append(ts)
        self._set = ts

    def _close_set(self, se: list[str]) -> None:
        ts = self._set
        if ts is None:
            self._error("set", "2", f"SE at segment {self.segment_number} has no matching ST")
            return
        ts.trailer = se
        ts.segment_count = self.segment_number - ts.segment_number + 1
        count, control = _get(se, 1), _get(se, 2)
        if not is_digits(count) or int(count) != ts.segment_count:
            ts.errors.append(
                self._error(
                    "set",
                    "4",
                    f"SE01 says {count or 'nothing'} segments but set {ts.set_id} {ts.control_number} has {ts.segment_count} (ST and SE included)",
                )
            )
        if control.strip() != ts.control_number.strip():
            ts.errors.append(
                self._error(
                    "set",
                    "3",
                    f"SE02 control number {readable(control)} does not match ST02 {readable(ts.control_number)}",
                )
            )
        self._set = None

    # What a segment closes when the trailers before it are missing.
    _CLOSES = {
        "ST": ("set",),
        "GE": ("set",),
        "GS": ("set", "group"),
        "IEA": ("set", "group"),
        "ISA": ("set", "group", "interchange"),
    }

    def _missing_trailers(self, at: str) -> None:
        """Close what is still open before ``at`` (or the end of the file), recording each missing trailer."""
        closes = self._CLOSES.get(at, ("set", "group", "interchange"))
        if self._set is not None:
            ts = self._set
            ts.segment_count = self.segment_number - ts.segment_number
            ts.errors.append(
                self._error(
                    "set", "2", f"set {ts.set_id} {ts.control_number} has no SE trailer before {at}"
                )
            )
            self._set = None
        if "group" in closes and self._group is not None:
            group = self._group
            group.errors.append(
                self._error(
                    "group", "3", f"group {group.control_number} has no GE trailer before {at}"
                )
            )
            self._group = None
        if "interchange" in closes and self._ix is not None:
            ix = self._ix
            ix.errors.append(
                self._error(
                    "interchange",
                    "023",
                    f"interchange {ix.control_number} has no IEA trailer before {at}",
                )
            )
            self._ix = None

    def _finish(self) -> None:
        if self._set is not None or self._group is not None or self._ix is not None:
            self.segment_number += 1  # the missing trailer would have been the next segment
            self._parts, self._raw_start = None, self.bytes_read
            self._missing_trailers("the end of the file")
            self.segment_number -= 1

    # -- conveniences ----------------------------------------------------------------

    def read_all(self) -> int:
        """Consume every segment (for envelope checks only); return the segment count."""
        count = 0
        for _ in self.segments():
            count += 1
        return count

    def close(self) -> None:
        if self._owns_stream:
            self._stream.close()

    def __enter__(self) -> X12Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
