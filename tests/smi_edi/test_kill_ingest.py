"""A worker killed (SIGKILL) at each step of an interchange's life: once the beat sweep has
run, every interchange is applied exactly once, planned, and acknowledged once. Real
Celery worker processes, Redis and PostgreSQL; the broker's visibility timeout is the
production hour, so nothing here waits for the broker to hand a lost task back.

One worker per step (tests/crash_worker.py kills itself there), then one healthy worker
runs the sweep (smi_edi.requeue_waiting_interchanges) and whatever it queues."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
from celery import Celery
from django.db import connection

from smi_core.models import PlanRun, ProductActivity
from smi_edi.models import InboundSet, Interchange, OutboundDocument
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from tests.crash_worker import STEPS
from tests.factories import ItemFactory, LocationFactory
from tests.workers import start_worker, stop_worker
from tests.x12_builders import interchange, report_852

S = Interchange.Status
STORES = ["S001", "S002", "S003"]
ITEMS = [f"V-{i:03d}" for i in range(6)]


def _set(items: list[str]) -> list[str]:
    sdq = "SDQ*EA*92*" + "*".join(f"{store}*{n + 3}" for n, store in enumerate(STORES))
    return report_852(lines=[(f"VN*{item}", ["ZA*QA**EA", sdq]) for item in items])


# Two 852 sets per file (so a worker can die between them): 3 + 3 items in 3 stores.
ROWS_PER_FILE = len(ITEMS) * len(STORES)


def wait_for(condition, timeout: float, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_at_any_step_leaves_every_interchange_applied_planned_and_answered(
    require_postgres, redis_url, settings
):
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    for store in ["DC01", *STORES]:
        LocationFactory(party=buyer.party, code=store)
    for item in ITEMS:
        ItemFactory(supplier=supplier.party, vendor_item=item)

    queue = f"smi-kill-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_url,
        "SMI_TEST_QUEUE": queue,
        "SMI_RAW_STORE_DIR": str(settings.SMI_RAW_STORE_DIR),
        "SMI_OUTBOX_DIR": str(settings.SMI_OUTBOX_DIR),
        "SMI_BROKER_VISIBILITY_TIMEOUT": "3600",
    }
    env.pop("SMI_CRASH_AT", None)
    client = Celery("smi-kill-client", broker=redis_url)
    healthy = None
    try:
        # given a file stored by a process that died before queueing it ...
        files = {
            "received": interchange_receive(
                source=interchange([_set(ITEMS[:3]), _set(ITEMS[3:])], control=100),
                transport="cli",
                source_name="never-queued.edi",
                actor="test",
            )
        }
        # ... and one file per step, each handed to a worker that dies at that step
        for n, step in enumerate(STEPS, start=1):
            received = interchange_receive(
                source=interchange([_set(ITEMS[:3]), _set(ITEMS[3:])], control=n),
                transport="cli",
                source_name=f"{step}.edi",
                actor="test",
            )
            files[step] = received
            worker = start_worker(
                queue,
                {**env, "SMI_CRASH_AT": step},
                output=subprocess.PIPE,
                app="tests.crash_worker",
            )
            client.send_task("smi_edi.ingest_interchange", args=[received.pk], queue=queue)
            try:
                worker.wait(timeout=90)
            except subprocess.TimeoutExpired:
                stop_worker(worker)
                pytest.fail(f"the worker did not die at {step!r}: the crash point was not reached")
            output = worker.communicate()[0].decode(errors="replace")
            assert worker.returncode == -9, f"{step}: the worker ended otherwise:\n{output[-2000:]}"

        left = {step: Interchange.objects.get(pk=ix.pk) for step, ix in files.items()}
        assert {step: ix.status for step, ix in left.items()} == {
            "received": S.RECEIVED,
            "validating": S.RECEIVED,
            "validated": S.ACCEPTED,
            "between_sets": S.ACCEPTED,
            "sets_applied": S.ACCEPTED,
            "applied": S.APPLIED,
            "planning_queued": S.APPLIED,
        }
        assert left["between_sets"].sets.filter(applied_at__isnull=False).count() == 1
        assert left["applied"].processed_at is None

        # when a healthy worker runs the beat sweep (the tasks of the dead workers stay
        # unacknowledged for the broker's hour)
        healthy = start_worker(queue, env, app="tests.crash_worker")
        client.send_task(
            "smi_edi.requeue_waiting_interchanges", kwargs={"older_than_minutes": 0}, queue=queue
        )

        # then every interchange is applied exactly once, planned, and acknowledged once
        def finished():
            done = Interchange.objects.filter(pk__in=[ix.pk for ix in files.values()])
            return all(ix.status == S.APPLIED and ix.processed_at for ix in done) and all(
                PlanRun.objects.filter(actor=f"system:interchange:{ix.pk}").exists()
                for ix in files.values()
            )

        def unfinished() -> str:
            return ", ".join(
                f"#{ix.pk} {ix.source_name}: {ix.status}, processed_at {ix.processed_at}"
                for ix in Interchange.objects.filter(pk__in=[i.pk for i in files.values()])
            )

        wait_for(finished, 90, lambda: f"every interchange applied and planned ({unfinished()})")
    finally:
        stop_worker(healthy)
        client.close()

    for step, received in files.items():
        done = Interchange.objects.get(pk=received.pk)
        assert done.activity_rows == ROWS_PER_FILE, step
        assert ProductActivity.objects.filter(source_set__interchange=done).count() == (
            ROWS_PER_FILE
        ), step
        assert InboundSet.objects.filter(interchange=done, applied_at__isnull=False).count() == 2
        assert OutboundDocument.objects.filter(acknowledges=done).count() == 1, step
        assert done.status_changes.filter(to_status=S.APPLIED).count() == 1, step
    assert ProductActivity.objects.count() == ROWS_PER_FILE * len(files)


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
