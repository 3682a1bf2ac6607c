"""Celery beat: every scheduled entry names a registered task, and planning runs nightly."""

from __future__ import annotations

import pytest
from celery.schedules import crontab
from django.conf import settings

from config.celery import app


@pytest.fixture(scope="module")
def registered() -> set[str]:
    app.loader.import_default_modules()  # what a worker or beat imports at start
    return set(app.tasks)


def test_the_nightly_plan_runs_at_0230_utc(registered):
    entry = settings.CELERY_BEAT_SCHEDULE["plan-all-nightly"]

    assert entry["task"] == "smi_core.plan_all"
    assert entry["task"] in registered
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert (schedule.hour, schedule.minute) == ({2}, {30})
    assert schedule.day_of_week == set(range(7)) and schedule.day_of_month == set(range(1, 32))
    assert app.conf.timezone == "UTC"
    assert app.conf.beat_schedule["plan-all-nightly"]["task"] == "smi_core.plan_all"


def test_every_beat_entry_names_a_registered_task(registered):
    missing = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in registered
    }

    assert missing == {}


@pytest.mark.django_db
def test_the_scheduled_task_plans_with_the_schedule_trigger():
    from smi_core.models import PlanRun
    from smi_core.tasks import plan_all

    result = plan_all.apply(kwargs={"as_of": "2026-11-24"}).get()

    run = PlanRun.objects.get(pk=result["run"])
    assert (run.trigger, run.actor, run.as_of.isoformat()) == (
        "schedule",
        "system:schedule",
        "2026-11-24",
    )
