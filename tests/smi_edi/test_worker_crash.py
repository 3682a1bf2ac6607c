"""A worker killed in the middle of a file loses nothing: after a restart the interchange is
processed again to the same result. Real worker processes, Redis and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from celery import Celery
from django.db import connection

from smi_core.models import InventoryPosition, ProductActivity
from smi_edi.models import InboundSet, Interchange
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.workers import start_worker, stop_worker
from tests.x12_builders import interchange, report_852

STORES = [f"S{n:03d}" for n in range(1, 21)]


def _sdq(code: str, seed: int) -> list[str]:
    pairs = [f"{store}*{(seed * 7 + i) % 50}" for i, store in enumerate(STORES)]
    return [
        f"ZA*{code}**EA",
        "SDQ*EA*92*" + "*".join(pairs[:10]),
        "SDQ*EA*92*" + "*".join(pairs[10:]),
    ]


def _set(items: range) -> list[str]:
    return report_852(lines=[(f"VN*V-{i:05d}", _sdq("QA", i) + _sdq("QS", i + 1)) for i in items])


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_file_loses_and_doubles_nothing(
    require_postgres, redis_url, settings, tmp_path
):
    # given a file of three 852 sets: a small one, a large one, a small one
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    for store in STORES:
        LocationFactory(party=buyer.party, code=store)
    for i in range(3000):
        ItemFactory(supplier=supplier.party, vendor_item=f"V-{i:05d}")
    data = interchange([_set(range(0, 50)), _set(range(50, 3000)), _set(range(0, 50))])
    expected_rows = (50 + 2950 + 50) * 2 * len(STORES)
    received = interchange_receive(
        source=data, transport="cli", source_name="big.edi", actor="test"
    )

    queue = f"smi-crash-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_url,
        "SMI_RAW_STORE_DIR": str(settings.SMI_RAW_STORE_DIR),
        "SMI_BROKER_VISIBILITY_TIMEOUT": "5",
    }
    client = Celery("smi-crash-client", broker=redis_url)
    client.conf.broker_transport_options = {"visibility_timeout": 5}
    first = start_worker(queue, env)
    second = None
    try:
        client.send_task("smi_edi.ingest_interchange", args=[received.pk], queue=queue)
        # when the worker has applied the first set and is inside the second, it is killed
        wait_for(
            lambda: InboundSet.objects.filter(
                interchange=received, applied_at__isnull=False
            ).exists(),
            240,
            "the first set",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        applied_at_kill = InboundSet.objects.filter(
            interchange=received, applied_at__isnull=False
        ).count()
        assert applied_at_kill < 3, (
            "the worker finished before it could be killed; the test proves nothing"
        )

        # then a new worker gets the unacknowledged task back and finishes the same file
        second = start_worker(queue, env)
        wait_for(
            lambda: Interchange.objects.get(pk=received.pk).status == "applied",
            240,
            "the interchange to be applied",
        )
    finally:
        for process in (first, second):
            stop_worker(process)
        client.close()

    done = Interchange.objects.get(pk=received.pk)
    assert done.activity_rows == expected_rows
    assert ProductActivity.objects.count() == expected_rows
    assert InboundSet.objects.filter(interchange=done, applied_at__isnull=False).count() == 3
    assert InventoryPosition.objects.count() == 3000 * len(STORES)
    assert done.attempts >= 2


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
