"""Celery application: a real worker against the broker when CELERY_BROKER_URL is set,
in-process (eager) execution otherwise. Settings come from Django's CELERY_* names.

Queues per kind of work, so each can have workers of its own (README, Operations):

* ``ingest``: storing, validating, acknowledging and applying inbound interchanges;
* ``outbound``: delivering documents, webhooks and AS2 MDNs, and the retry and overdue
  sweeps;
* ``planning``: replenishment planning (after an 852, and the nightly run);
* ``assistant``: indexing agreements for the reporting assistant;
* ``celery`` (the default): anything else.
"""

import os
import sys
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# A worker with SMI_WORKER_METRICS_PORT serves its task metrics there (smi_ops.celery_signals);
# its pool's processes count into files of their own, summed when scraped. The directory
# must be known before prometheus-client is first imported.
if os.environ.get("SMI_WORKER_METRICS_PORT"):
    _var = Path(os.environ.get("SMI_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(_var / f"prometheus-worker-{os.environ['SMI_WORKER_METRICS_PORT']}"),
    )

QUEUES = {
    "ingest": (
        "smi_edi.ingest_interchange",
        "smi_edi.validate_x12",
        "smi_edi.requeue_waiting_interchanges",
    ),
    "outbound": (
        "smi_edi.deliver_outbound",
        "smi_edi.outbound_redeliver_queued",
        "smi_edi.outbound_overdue_check",
        "smi_edi.deliver_webhook",
        "smi_edi.webhooks_redeliver",
        "smi_edi.as2_post_mdn",
    ),
    # the domain's periodic work: plans, and the activity partitions made ahead (beat, daily)
    "planning": (
        "smi_core.plan_item_locations",
        "smi_core.plan_all",
        "smi_core.activity_partitions_ensure",
    ),
    "assistant": ("reporting_assistant.index_agreement",),
}
QUEUE_OF = {task: queue for queue, tasks in QUEUES.items() for task in tasks}
ALL_QUEUES = ("celery", *QUEUES)


def route_task(name, args, kwargs, options, task=None, **kw):
    """CELERY_TASK_ROUTES: the queue of a task's kind (None: the default queue). Off with
    SMI_CELERY_ROUTING=0 (the test settings), when one worker on one queue takes everything."""
    from django.conf import settings

    if not getattr(settings, "SMI_CELERY_ROUTING", True):
        return None
    queue = QUEUE_OF.get(name)
    return {"queue": queue} if queue else None


def _settings_checked_for_the_command_line() -> None:
    """Under the celery command (worker, beat), a missing setting such as DJANGO_SECRET_KEY
    stops it with one line, as manage.py and gunicorn do, not a traceback."""
    if not sys.argv or not (
        Path(sys.argv[0]).name == "celery"
        or sys.argv[0].endswith(os.path.join("celery", "__main__.py"))
    ):
        return
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.SECRET_KEY  # noqa: B018 - loads the settings
    except ImproperlyConfigured as exc:
        sys.exit(f"error: {exc}")


_settings_checked_for_the_command_line()
app = Celery("smi_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import smi_ops.celery_signals  # noqa: E402, F401  (task metrics and log context)
