"""Structured logs: one JSON object per line (``SMI_LOG_JSON=1``), carrying the ids of what is
being worked on. Ids come from ``log_context`` (a contextvar, bound per task by
smi_ops.celery_signals) and from logging's ``extra=`` (``log.info("...", extra={"interchange_id": 7})``).
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "smi_log_context", default=None
)

# What every LogRecord has: anything else on a record came from extra= and is logged.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def bind(**ids) -> contextvars.Token:
    """Add ids to the context of what follows in this thread or task; returns the token
    for ``unbind``."""
    return _context.set({**(_context.get() or {}), **ids})


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


@contextmanager
def log_context(**ids) -> Iterator[None]:
    token = bind(**ids)
    try:
        yield
    finally:
        unbind(token)


def current_context() -> dict:
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the bound ids, extra= fields, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(current_context())
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
