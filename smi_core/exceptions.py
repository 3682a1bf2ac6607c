"""The one error base every layer raises for problems a user can act on.

Framework-free: pure modules (the X12 reader, planning maths) raise these too. The CLI
prints ``message`` and exits non-zero, the API answers 4xx with ``code`` and ``extra`` as
JSON, the admin shows ``message``.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A problem with the input or the request, explained in ``message``."""

    code = "application_error"
    http_status = 400

    def __init__(self, message: str, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = dict(extra or {})

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}
