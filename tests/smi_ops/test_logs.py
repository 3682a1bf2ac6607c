"""SMI_LOG_JSON: one JSON object per line, with the ids of what was being worked on."""

from __future__ import annotations

import json
import logging

import pytest

from smi_ops.logs import JsonFormatter, log_context


@pytest.fixture
def json_log():
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("smi.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, lines
    finally:
        logger.removeHandler(handler)


def test_a_line_carries_the_bound_ids_and_the_extra_fields(json_log):
    logger, lines = json_log

    with log_context(interchange_id=42, task_id="abc-1"):
        logger.info("applied %d rows", 5, extra={"document_id": 7})
    logger.warning("outside")

    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "applied 5 rows"
    assert first["interchange_id"] == 42
    assert first["task_id"] == "abc-1"
    assert first["document_id"] == 7
    assert first["level"] == "INFO"
    assert first["logger"] == "smi.test.json"
    assert first["time"].endswith("+00:00")
    assert "interchange_id" not in second  # the context ended with the block


def test_an_exception_stays_on_one_line(json_log):
    logger, lines = json_log

    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logger.exception("failed")

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert "ValueError: bad" in entry["exception"]


def test_a_task_logs_with_its_id_and_the_record_it_was_given(json_log):
    """Celery's prerun signal binds the task id and every *_id argument."""
    from celery import shared_task

    logger, lines = json_log

    @shared_task(name="smi_ops.tests.log_something")
    def log_something(interchange_id: int, note: str) -> None:
        logger.info("working on it")

    result = log_something.apply(args=[314], kwargs={"note": "x"})

    entry = json.loads(lines[0])
    assert entry["interchange_id"] == 314
    assert entry["task"] == "smi_ops.tests.log_something"
    assert entry["task_id"] == result.id
    assert "note" not in entry


def test_the_setting_switches_the_console_to_json():
    import subprocess
    import sys

    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('smi.check').warning('hello', extra={'interchange_id': 9})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "SMI_LOG_JSON": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    entry = json.loads(out.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello"
    assert entry["interchange_id"] == 9
