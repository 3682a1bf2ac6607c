"""Shared fixtures. Tests that need a real server use ``require_redis`` / ``require_postgres``:
they skip when the server is not there, and fail instead when SMI_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def services_required() -> bool:
    return os.environ.get("SMI_REQUIRE_SERVICES") == "1"


def _missing(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (SMI_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
def redis_url(settings) -> str:
    import redis

    url = settings.SMI_TEST_BROKER_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        _missing(f"Redis at {url} does not answer: {exc}")
    return url


@pytest.fixture
def require_postgres(settings) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        _missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def on_commit_runs_at_once(monkeypatch):
    """Tests run inside a transaction that is rolled back, never committed, so callbacks
    queued with transaction.on_commit (enqueueing a task) would never run. Run them at
    once instead, as they would run right after the commit in production."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture(autouse=True)
def _celery_join_flag_reset():
    """Eager tasks run in threads (the concurrency tests) race on Celery's process-wide
    "a task is running here" flag: two threads leaving ``denied_join_result`` in the wrong
    order leave it set, and every later ``result.get()`` in this process raises "Never call
    result.get() within a task!". Put it back after each test."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


def _audit_trigger_sql():
    from importlib import import_module

    from django.db import connection

    migration = import_module("smi_core.migrations.0004_audit_triggers_and_sod_rules")
    vendor = connection.vendor
    drops = {"sqlite": migration.SQLITE_DROP, "postgresql": migration.POSTGRES_DROP}.get(vendor, [])
    creates = {"sqlite": migration.SQLITE, "postgresql": migration.POSTGRES}.get(vendor, [])
    return drops, creates


@pytest.fixture(autouse=True)
def _audit_triggers_in_transactional_tests(request):
    """Transactional tests end with a flush of every table, which the append-only triggers
    of the audit trail rightly refuse: lift them for that flush and put them back for the
    next test. Ordinary tests roll back and keep the triggers."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "live_server" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    drops, creates = _audit_trigger_sql()
    with connection.cursor() as cursor:
        for sql in drops + creates:  # present whatever the previous flush left
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for sql in drops:
            cursor.execute(sql)


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path_factory):
    """Stored files and outbound documents (every ingested file is answered with a
    997/999) go to a temporary directory, never into the checkout's var/."""
    base = tmp_path_factory.mktemp("var")
    settings.SMI_RAW_STORE_DIR = base / "raw"
    settings.SMI_OUTBOX_DIR = base / "outbox"
