"""A real Celery worker process against Redis runs our task (not the eager shortcut)."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid

import pytest
from celery import Celery

from tests.workers import start_worker, stop_worker

SAMPLE_997 = (
    b"ISA*00*          *00*          *ZZ*PARTNER        *ZZ*SMIHUB         *261120*0800*U*00401*"
    b"000000007*0*P*>~GS*FA*PARTNER*SMIHUB*20261120*0800*7*X*004010~ST*997*0001~AK1*SH*12~"
    b"AK9*A*1*1*1~SE*4*0001~GE*1*7~IEA*1*000000007~"
)


@pytest.fixture
def worker(redis_url):
    """Start `celery worker` in its own process on a queue of its own; stop it after."""
    queue = f"smi-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
    }
    process = start_worker(queue, env, output=subprocess.PIPE)
    client = Celery("smi-test-client", broker=redis_url, backend=redis_url)
    try:
        yield client, queue, process
    finally:
        stop_worker(process)
        client.close()


def test_a_real_worker_validates_an_interchange(worker):
    client, queue, process = worker

    result = client.send_task(
        "smi_edi.validate_x12", args=[base64.b64encode(SAMPLE_997).decode()], queue=queue
    )
    try:  # this process is a client, not a task: never refuse to wait here
        verdict = result.get(timeout=90, disable_sync_subtasks=False)
    except Exception as exc:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode(errors="replace")
        pytest.fail(f"the worker did not answer ({exc!r}); its output:\n{output[-3000:]}")

    assert verdict["readable"] is True
    group = verdict["interchanges"][0]["groups"][0]
    assert group["functional_id"] == "FA"
    assert group["sets"][0]["set_id"] == "997"
    assert group["sets"][0]["status"] == "accepted"
