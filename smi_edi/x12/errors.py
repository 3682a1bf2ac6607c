"""Errors raised by the framework-free X12 code."""

from __future__ import annotations

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
