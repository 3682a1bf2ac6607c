"""Celery queues per kind of work: every task of the project has its queue, and routing can
be turned off (one worker on one queue)."""

from __future__ import annotations

import pytest

from config.celery import ALL_QUEUES, QUEUE_OF, app, route_task


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("smi_edi.ingest_interchange", "ingest"),
        ("smi_edi.deliver_outbound", "outbound"),
        ("smi_edi.deliver_webhook", "outbound"),
        ("smi_core.plan_item_locations", "planning"),
        ("smi_core.plan_all", "planning"),
        ("reporting_assistant.index_agreement", "assistant"),
    ],
    ids=lambda v: v,
)
def test_each_kind_of_work_goes_to_its_queue(settings, task, queue):
    settings.SMI_CELERY_ROUTING = True

    assert route_task(task, (), {}, {}) == {"queue": queue}
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_project_task_is_routed_and_every_routed_name_exists():
    app.loader.import_default_modules()
    ours = {
        name
        for name in app.tasks
        if name.split(".")[0] in {"smi_edi", "smi_core", "reporting_assistant"}
    }

    assert ours == set(QUEUE_OF)


def test_make_worker_consumes_every_queue():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()

    assert f"WORKER_QUEUES ?= {','.join(ALL_QUEUES)}" in makefile


def test_with_routing_off_everything_goes_to_the_default_queue(settings):
    settings.SMI_CELERY_ROUTING = False

    assert route_task("smi_edi.ingest_interchange", (), {}, {}) is None
