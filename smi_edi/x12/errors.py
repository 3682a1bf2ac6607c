"""Errors raised by the framework-free X12 code."""

from __future__ import annotations

import unicodedata

from smi_core.exceptions import ApplicationError


class X12Error(ApplicationError):
    code = "x12_error"


class X12SyntaxError(X12Error):
    """The bytes cannot be read as X12; says where (byte offset, segment number) and what was expected."""

    code = "x12_syntax_error"

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        segment_number: int | None = None,
        expected: str | None = None,
    ):
        where = []
        if offset is not None:
            where.append(f"byte offset {offset}")
        if segment_number is not None:
            where.append(f"segment {segment_number}")
        full = message
        if where:
            full += f" (at {', '.join(where)})"
        if expected:
            full += f"; expected {expected}"
        super().__init__(
            full,
            extra={"offset": offset, "segment_number": segment_number, "expected": expected},
        )
        self.reason = message
        self.offset = offset
        self.segment_number = segment_number
        self.expected = expected


class X12WriteError(X12Error):
    """A document could not be written (bad element content for the chosen delimiters, ...)."""

    code = "x12_write_error"


def readable(text: str) -> str:
    """``text`` quoted for a sentence a person reads: printable characters as they are,
    line breaks and tabs as ``\\n`` ``\\r`` ``\\t``, other ASCII control characters
    as ``\\xNN``, other invisible or space-like characters by
    name (``<U+00A0 NO-BREAK SPACE>``), and undecodable bytes (lone surrogates from
    ``surrogateescape``) as ``\\xNN``."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in "\n\r\t":
            out.append(repr(ch)[1:-1])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch == "'" or ch == "\\":
            out.append("\\" + ch)
        elif code < 0x7F or (ch.isprintable() and not ch.isspace()):
            out.append(ch)
        else:
            name = unicodedata.name(ch, "")
            out.append(f"<U+{code:04X}{' ' + name if name else ''}>")
    return "'" + "".join(out) + "'"


def readable_bytes(raw: str) -> str:
    """:func:`readable` for text the reader holds as Latin-1 (one character per byte):
    decoded as UTF-8 where it is UTF-8, every other byte shown as ``\\xNN``."""
    return readable(raw.encode("latin-1", "replace").decode("utf-8", "surrogateescape"))
