"""Production start-up and logs (issue 18): a missing DJANGO_SECRET_KEY is one clear line
from manage.py, gunicorn and a Celery worker, never a traceback; with SMI_LOG_JSON=1 gunicorn's access
log is JSON lines like the app's own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.smi_ops.production import ROOT, free_port, gunicorn_serving, production_env


def _without_secret(tmp_path) -> dict:
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    return env


def _assert_one_clear_line(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("error: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    assert "export DJANGO_SECRET_KEY=" in lines[0]  # how to set it


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["manage.py", "check"], id="manage.py"),
        pytest.param(
            ["-m", "gunicorn", "-c", "config/gunicorn.py", "--check-config", "config.wsgi"],
            id="gunicorn",
        ),
        pytest.param(
            ["-m", "celery", "-A", "config", "worker", "--pool", "solo"], id="celery worker"
        ),
    ],
)
def test_a_process_without_a_secret_says_so_in_one_line(tmp_path, command):
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=_without_secret(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    _assert_one_clear_line(result)


def _get(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _serve_and_log(tmp_path, requests: list[tuple[str, dict]], **env_overrides) -> str:
    """Start gunicorn, make ``requests``, stop it; its whole output."""
    port = free_port()
    env = production_env(
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
        DJANGO_SSL_REDIRECT="0",
        **env_overrides,
    )
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(env, log_path) as base:
        for path, headers in requests:
            _get(base + path, headers)
        time.sleep(0.5)  # the access line is written after the response
    return log_path.read_text()


def test_gunicorn_access_log_is_json_with_smi_log_json(tmp_path):
    output = _serve_and_log(
        tmp_path,
        [
            ("/health/live", {"X-Request-ID": "req-7f3a"}),
            ("/no-such-page/?week=52", {}),
        ],
        SMI_LOG_JSON="1",
    )

    entries = []
    for line in output.splitlines():
        assert line.startswith("{"), f"a line that is not JSON: {line!r}"
        entries.append(json.loads(line))
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    tagged = [e for e in access if e.get("request_id") == "req-7f3a"]
    assert len(tagged) == 1
    (live,) = tagged
    assert live["method"] == "GET" and live["path"] == "/health/live"
    assert live["status"] == 200
    assert live["bytes"] == len(b'{"status": "ok"}')
    assert isinstance(live["duration_ms"], float) and live["duration_ms"] >= 0
    assert live["message"] == "GET /health/live 200"
    (missing,) = [e for e in access if e["path"] == "/no-such-page/"]
    assert missing["status"] == 404 and missing["query"] == "week=52"
    assert "request_id" not in missing
    assert any(e["logger"] == "gunicorn.error" for e in entries)  # its own lines too


def test_gunicorn_access_log_stays_plain_without_smi_log_json(tmp_path):
    output = _serve_and_log(tmp_path, [("/health/live", {"X-Request-ID": "req-1"})])

    access = [line for line in output.splitlines() if '"GET /health/live' in line]
    assert access and not any(line.startswith("{") for line in output.splitlines())
