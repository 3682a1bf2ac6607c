"""Shared by the scripted approval commands: who is acting."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def user_named(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {username!r}")
    return user
