"""gunicorn's logs as JSON lines, like the app's own with SMI_LOG_JSON=1 (config/gunicorn.py
selects this logger class then). An access line carries the method, path, query, status,
duration in milliseconds, bytes sent, the client's address and the request id a proxy in
front passed in X-Request-ID (or X-Correlation-ID), when there is one. gunicorn's own lines
(booting, worker restarts) are JSON too."""

from __future__ import annotations

from gunicorn import glogging

from smi_ops.logs import JsonFormatter

REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")


def _header(headers, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` among gunicorn's (name, value) header pairs."""
    found = {str(k).lower(): v for k, v in (headers or ())}
    for name in names:
        if found.get(name):
            return str(found[name])
    return None


def access_entry(resp, req, environ, request_time) -> dict:
    """The fields of one access line (what gunicorn's own atoms hold, by name)."""
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    if str(status).isdigit():
        status = int(status)
    request_id = _header(getattr(req, "headers", None), REQUEST_ID_HEADERS)
    entry = {
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": status,
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "bytes": getattr(resp, "sent", None),
        "remote_addr": environ.get("REMOTE_ADDR"),
    }
    if environ.get("QUERY_STRING"):
        entry["query"] = environ["QUERY_STRING"]
    if request_id:
        entry["request_id"] = request_id
    return entry


class JsonLogger(glogging.Logger):
    """gunicorn's logger with every handler it sets up formatting JSON."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            handler = self._get_gunicorn_handler(log)
            if handler is not None:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        try:
            entry = access_entry(resp, req, environ, request_time)
            self.access_log.info(
                "%s %s %s", entry["method"], entry["path"], entry["status"], extra=entry
            )
        except Exception:  # a log line never fails a request
            self.exception("could not write the access log line")
