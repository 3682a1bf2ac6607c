"""A real Celery worker with SMI_WORKER_METRICS_PORT serves the metrics of the tasks it ran
(Celery's signals, in the worker's own process)."""

from __future__ import annotations

import base64
import os
import re
import time
import urllib.request
import uuid

import pytest
from celery import Celery

from tests.smi_ops.production import free_port
from tests.test_celery_worker import SAMPLE_997
from tests.workers import start_worker, stop_worker

pytestmark = pytest.mark.services


def test_a_worker_serves_the_metrics_of_the_tasks_it_ran(redis_url, tmp_path):
    queue = f"smi-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "SMI_WORKER_METRICS_PORT": str(port),
        "SMI_VAR_DIR": str(tmp_path),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = start_worker(queue, env)
    client = Celery("smi-test-client", broker=redis_url, backend=redis_url)
    try:
        payload = base64.b64encode(SAMPLE_997).decode()
        for _ in range(2):
            result = client.send_task("smi_edi.validate_x12", args=[payload], queue=queue)
            assert result.get(timeout=90, disable_sync_subtasks=False)["readable"] is True
        body = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # postrun is signalled just after the result
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                body = r.read().decode()
            if 'state="succeeded"' in body:
                break
            time.sleep(0.5)
    finally:
        stop_worker(process)
        client.close()

    done = re.search(
        r'smi_celery_tasks_total\{state="succeeded",task="smi_edi.validate_x12"\} (\S+)', body
    )
    assert done and float(done.group(1)) == 2, body[:3000]
    assert 'smi_celery_task_duration_seconds_count{task="smi_edi.validate_x12"} 2.0' in body
    assert (tmp_path / f"prometheus-worker-{port}").is_dir()
