"""Load the demo data that `make run` shows. Idempotent: running it again changes nothing."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = "Create (once) the demo superuser and demo data, and print the logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            password = _ensure_superuser()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  admin site: /admin/   user: {DEMO_ADMIN}   password: {password}")


def _credentials_file():
    return settings.VAR_DIR / "demo-credentials.txt"


def _ensure_superuser() -> str:
    """The demo superuser's password is made up on first load and kept under var/ (never
    in the repository), so each `make run` can print it again. A password someone has
    changed since is left alone."""
    User = get_user_model()
    path = _credentials_file()
    stored = path.read_text().strip() if path.exists() else ""
    user = User.objects.filter(username=DEMO_ADMIN).first()
    if user is not None:
        if stored and user.check_password(stored):
            return stored
        return "(changed since the demo was loaded; not shown)"
    password = stored or secrets.token_urlsafe(12)
    user = User(username=DEMO_ADMIN, email="admin@example.com", is_staff=True, is_superuser=True)
    user.set_password(password)
    user.save()
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password
