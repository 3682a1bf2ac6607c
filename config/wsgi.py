"""WSGI entry point for gunicorn (config/gunicorn.py). Static files are served by
WhiteNoise's middleware (config/settings/base.py), so gunicorn alone serves the admin."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()
