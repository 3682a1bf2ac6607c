"""gunicorn settings (`make serve`, or `gunicorn -c config/gunicorn.py config.wsgi`).

Every value can be given in the environment: GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_THREADS, GUNICORN_TIMEOUT. With SMI_LOG_JSON=1 the access log is JSON lines
(config/gunicorn_logging.py). The workers share one metrics directory
(PROMETHEUS_MULTIPROC_DIR, emptied at start) so /metrics sums what every worker counted.
"""

import os
import shutil
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_var = Path(os.environ.get("SMI_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# An 852 upload of 100 MB is stored within this; processing runs in a worker or a task.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Restart a worker now and then, so a slow leak never takes the tier down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The TLS proxy in front sets X-Forwarded-Proto (read by Django via DJANGO_BEHIND_TLS_PROXY).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "prometheus"))

# The settings are read once here, before any worker starts: a missing variable (such as
# DJANGO_SECRET_KEY with debug off) stops gunicorn with one line, not a traceback per worker.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
try:
    from django.conf import settings as _settings

    _log_json = _settings.SMI_LOG_JSON
except ImproperlyConfigured as exc:
    sys.exit(f"error: {exc}")
# SMI_LOG_JSON=1: access lines (method, path, status, duration_ms, bytes, request_id) and
# gunicorn's own lines as JSON, like the app's logs.
if _log_json:
    logger_class = "config.gunicorn_logging.JsonLogger"


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
