"""Scale-out: three Celery workers share one PostgreSQL and one Redis while 200 weekly 852s
from 20 partners arrive in shuffled order (older reports often processed after newer ones),
and workers are SIGKILLed and restarted during the run. Once the beat's sweep has resumed
what the dead workers held, every interchange is applied exactly once and acknowledged
once, and every position is the newest report's, as a single worker taking the files in
order gives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from datetime import date, timedelta

import pytest
from celery import Celery

from smi_core.models import InventoryPosition, ProductActivity
from smi_edi.models import Interchange, OutboundDocument
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.smi_edi.test_kill_ingest import _database_url
from tests.workers import start_worker, stop_worker
from tests.x12_builders import interchange, report_852

pytestmark = [pytest.mark.slow, pytest.mark.services]

S = Interchange.Status
PARTNERS = 20
WEEKS = 10
STORES = ["S001", "S002"]
ITEMS = ["V-000", "V-001", "V-002"]
LAST_WEEK_END = date(2026, 11, 15)
WORKERS = 3


def on_hand(partner: int, week: int, item: int, store: int) -> int:
    return 1000 * partner + 10 * week + 3 * item + store


def weekly_file(partner: int, week: int) -> bytes:
    end = LAST_WEEK_END - timedelta(weeks=WEEKS - 1 - week)
    start = end - timedelta(days=6)
    lines = []
    for i, item in enumerate(ITEMS):
        sdq = "SDQ*EA*92*" + "*".join(
            f"{store}*{on_hand(partner, week, i, s)}" for s, store in enumerate(STORES)
        )
        lines.append((f"VN*{item}", ["ZA*QA**EA", sdq]))
    body = report_852(f"{start:%Y%m%d}", f"{end:%Y%m%d}", lines=lines)
    body[1] = f"N1*BY*Buyer {partner}*92*BUYER{partner:02d}"
    return interchange([body], sender=f"BUYER{partner:02d}", control=week + 1)


@pytest.mark.django_db(transaction=True)
def test_three_workers_killed_and_restarted_apply_every_file_once_newest_wins(
    require_postgres, redis_url, settings
):
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    for item in ITEMS:
        ItemFactory(supplier=supplier.party, vendor_item=item)
    buyers = {}
    for p in range(PARTNERS):
        buyer, _ = partner_add(
            code=f"buyer-{p:02d}", name=f"Buyer {p}", isa=f"ZZ:BUYER{p:02d}", with_token=False
        )
        for store in ["DC01", *STORES]:
            LocationFactory(party=buyer.party, code=store)
        buyers[p] = buyer
    received = [
        interchange_receive(
            source=weekly_file(p, w), transport="cli", source_name=f"p{p}-w{w}.edi", actor="test"
        )
        for p in range(PARTNERS)
        for w in range(WEEKS)
    ]
    ids = [ix.pk for ix in received]
    random.Random(18).shuffle(ids)

    queue = f"smi-scale-{uuid.uuid4().hex[:8]}"
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
    client = Celery("smi-scale-client", broker=redis_url)
    workers: list[subprocess.Popen] = []
    kills = 0

    def applied() -> int:
        return Interchange.objects.filter(
            pk__in=ids, status=S.APPLIED, processed_at__isnull=False
        ).count()

    try:
        for task_id in ids:
            client.send_task("smi_edi.ingest_interchange", args=[task_id], queue=queue)
        workers = [start_worker(queue, env, app="tests.crash_worker") for _ in range(WORKERS)]

        # when a worker is killed (mid-task, most likely) at 30 and 90 files, and restarted
        deadline = time.monotonic() + 600
        last_sweep = time.monotonic()
        for n, threshold in enumerate((30, 90)):
            while applied() < threshold and time.monotonic() < deadline:
                time.sleep(0.2)
            workers[n].send_signal(signal.SIGKILL)
            workers[n].wait(timeout=30)
            kills += 1
            workers[n] = start_worker(queue, env, app="tests.crash_worker")
        # the beat's sweep (every 2 min in production) resumes what the dead held
        while applied() < len(ids) and time.monotonic() < deadline:
            if time.monotonic() - last_sweep > 20:
                client.send_task(
                    "smi_edi.requeue_waiting_interchanges",
                    kwargs={"older_than_minutes": 0},
                    queue=queue,
                )
                last_sweep = time.monotonic()
            time.sleep(0.5)
    finally:
        for worker in workers:
            stop_worker(worker)
        client.close()

    assert kills == 2
    done = Interchange.objects.filter(pk__in=ids)
    assert {ix.status for ix in done} == {S.APPLIED}, [
        (ix.source_name, ix.status, ix.status_reason) for ix in done if ix.status != S.APPLIED
    ]
    rows = len(ITEMS) * len(STORES)
    # every interchange applied exactly once ...
    assert all(ix.activity_rows == rows for ix in done)
    assert ProductActivity.objects.count() == rows * len(ids)
    for ix in done:
        assert ix.status_changes.filter(to_status=S.APPLIED).count() == 1, ix.source_name
        assert OutboundDocument.objects.filter(acknowledges=ix).count() == 1, ix.source_name
    # ... and every position is the newest week's, whatever order the files were taken in
    positions = InventoryPosition.objects.select_related("item", "location__party")
    found = {
        (pos.location.party.code, pos.location.code, pos.item.vendor_item): (pos.on_hand, pos.as_of)
        for pos in positions
    }
    expected = {
        (f"buyer-{p:02d}", store, item): (on_hand(p, WEEKS - 1, i, s), LAST_WEEK_END)
        for p in range(PARTNERS)
        for s, store in enumerate(STORES)
        for i, item in enumerate(ITEMS)
    }
    assert found == expected
