"""Test settings: the same environment-driven base, with fast hashing and a throwaway key.

Tasks run eagerly in tests even when CELERY_BROKER_URL names a broker; the tests that need
a real worker start one against that broker themselves (see tests/test_celery_worker.py).
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key")

from .base import *  # noqa: F403
from .base import VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The test client speaks plain HTTP and templates' {% static %} needs no collectstatic.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Test workers listen on a queue of their own (tests/workers.py): no routing by kind.
SMI_CELERY_ROUTING = False

SMI_TEST_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get(
    "SMI_TEST_BROKER_URL", "redis://127.0.0.1:6379/15"
)
CELERY_TASK_ALWAYS_EAGER = True
CELERY_RESULT_BACKEND = None
MEDIA_ROOT = VAR_DIR / "test-media"
# A fresh embedded Chroma directory per test run (one process); a test may point elsewhere.
SMI_CHROMA_DIR = Path(tempfile.mkdtemp(prefix="smi-chroma-"))
