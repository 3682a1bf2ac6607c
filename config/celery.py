"""Celery application: a real worker against the broker when CELERY_BROKER_URL is set,
in-process (eager) execution otherwise. Settings come from Django's CELERY_* names."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("smi_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
