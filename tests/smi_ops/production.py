"""The environment of a production process: base settings, DEBUG off, a real secret; and
gunicorn started with config/gunicorn.py in it (the tests and bench/web_throughput.py)."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SMI_", "CELERY_", "PROMETHEUS_", "GUNICORN_", "CHROMA_"))
        and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SMI_VAR_DIR=str(var_dir),
        **overrides,
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn_serving(env: dict[str, str], log_path: Path, *, timeout: float = 60) -> Iterator[str]:
    """gunicorn as `make serve` runs it (config/gunicorn.py, config.wsgi) in ``env``, bound to
    ``env["GUNICORN_BIND"]``, its output in ``log_path``: yields its base URL once
    /health/live answers 200, and stops it on leaving (terminate, kill if it lingers).
    RuntimeError with the end of its log if it exits or does not answer in ``timeout`` s."""
    host, port = env["GUNICORN_BIND"].rsplit(":", 1)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers(host, int(port)):
                if process.poll() is not None or time.monotonic() > deadline:
                    state = "exited" if process.poll() is not None else "did not answer"
                    tail = Path(log_path).read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"gunicorn {state} (log {log_path}): {tail}")
                time.sleep(0.2)
            yield f"http://{host}:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(host: str, port: int) -> bool:
    """/health/live answers 200 (no redirect followed)."""
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", "/health/live")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
