"""The project's Celery app for the kill test (``celery -A tests.crash_worker worker``):

* tasks run on the broker, not eagerly (the test settings run them in-process), and the
  default queue is the test's own (``SMI_TEST_QUEUE``), so what a task queues (planning,
  the 997's delivery, a sweep's requeue) reaches this worker and no one else's;
* ``SMI_CRASH_AT`` names one step of an interchange's life where the worker kills itself
  with SIGKILL, as the kernel's OOM killer or a lost node would: nothing after it runs,
  the open transaction is rolled back by the database, the task is left unacknowledged.
"""

from __future__ import annotations

import os
import signal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from config.celery import app  # noqa: E402

STEPS = (
    "validating",  # the 997 built, the validation not committed: left received
    "validated",  # validation and the 997 committed, nothing applied: left accepted
    "between_sets",  # the first 852 set committed, inside the second: accepted, half applied
    "sets_applied",  # every set committed, not yet marked applied: accepted, all applied
    "applied",  # marked applied, planning not queued: applied, follow-ups owed
    "planning_queued",  # planning queued, not recorded as done: applied, follow-ups owed
)


def _die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def _install(step: str) -> None:
    import smi_edi.services.interchanges as ix

    if step == "validating":
        build = ix.acknowledgment_documents

        def after_building(**kwargs):
            build(**kwargs)
            _die()

        ix.acknowledgment_documents = after_building
    elif step == "validated":
        ix._apply = _die
    elif step == "between_sets":
        apply_852, calls = ix.SET_HANDLERS["852"], []

        def second_set_dies(*args):
            calls.append(args)
            if len(calls) == 2:
                _die()
            return apply_852(*args)

        ix.SET_HANDLERS["852"] = second_set_dies
    elif step == "sets_applied":
        set_status = ix._set_status

        def before_applied(interchange, to, actor, reason):
            if to == ix.S.APPLIED:
                _die()
            return set_status(interchange, to, actor, reason)

        ix._set_status = before_applied
    elif step == "applied":
        ix.positions_changed = _die
    elif step == "planning_queued":
        queue_planning = ix.positions_changed

        def after_queueing(**kwargs):
            queue_planning(**kwargs)
            _die()

        ix.positions_changed = after_queueing
    elif step:
        raise ValueError(f"SMI_CRASH_AT {step!r} is none of {STEPS}")


if os.environ.get("SMI_TEST_QUEUE"):  # in the worker; the test imports STEPS only
    app.conf.task_always_eager = False
    app.conf.task_default_queue = os.environ["SMI_TEST_QUEUE"]
    _install(os.environ.get("SMI_CRASH_AT", ""))
