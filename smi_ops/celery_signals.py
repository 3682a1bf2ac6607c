"""Celery signals: each task's duration and outcome in the metrics, and its id and the
record ids it was given (``interchange_id``, ``document_id``, ...) bound to the logs for as
long as it runs. Connected by config/celery.py."""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import time
from pathlib import Path

from celery import signals

from smi_ops import logs
from smi_ops.metrics import TASK_SECONDS, TASKS, process_registry

_running: dict[str, tuple[float, object]] = {}


def _ids(task, args, kwargs) -> dict:
    """The arguments whose name ends in _id, by name (e.g. interchange_id=7)."""
    try:
        params = list(inspect.signature(task.run).parameters)
    except (TypeError, ValueError):
        params = []
    named = dict(zip(params, args or (), strict=False)) | dict(kwargs or {})
    return {k: v for k, v in named.items() if k.endswith("_id") and isinstance(v, int | str)}


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, args=None, kwargs=None, **extra):
    token = logs.bind(task_id=task_id, task=task.name, **_ids(task, args, kwargs))
    _running[task_id] = (time.perf_counter(), token)


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **extra):
    started, token = _running.pop(task_id, (None, None))
    if started is not None:
        TASK_SECONDS.labels(task=task.name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASKS.labels(task=task.name, state="succeeded").inc()
    if token is not None:
        # ValueError: bound in another context (an eager task inside a request)
        with contextlib.suppress(ValueError):
            logs.unbind(token)


@signals.task_failure.connect
def _task_failed(sender=None, **extra):
    TASKS.labels(task=getattr(sender, "name", "unknown"), state="failed").inc()


@signals.task_retry.connect
def _task_retried(sender=None, **extra):
    TASKS.labels(task=getattr(sender, "name", "unknown"), state="retried").inc()


@signals.worker_init.connect
def _serve_worker_metrics(**extra):
    """SMI_WORKER_METRICS_PORT: this worker's task metrics in Prometheus format on
    SMI_WORKER_METRICS_ADDR (127.0.0.1 by default) at that port, for a worker on a machine
    of its own. Started in the main process before the pool forks."""
    port = os.environ.get("SMI_WORKER_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # a previous run's counts are not this worker's
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)
    start_http_server(
        int(port),
        addr=os.environ.get("SMI_WORKER_METRICS_ADDR", "127.0.0.1"),
        registry=process_registry(),
    )
