"""Show, set or clear the reporting date (the date reports default to), as a given user."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.selectors.reporting_date import reporting_day
from smi_core.services.audit import Actor
from smi_core.services.reporting_date import reporting_date_set


class Command(BaseCommand):
    help = (
        "Show the reporting date; with a date (YYYY-MM-DD) or --clear, set it as USER "
        "(who needs the finance role). Reports without an as-of date default to it."
    )

    def add_arguments(self, parser):
        parser.add_argument("date", nargs="?", help="YYYY-MM-DD")
        parser.add_argument("--clear", action="store_true", help="back to today")
        parser.add_argument("--as", dest="username", help="the user setting it")
        parser.add_argument("--note", default="", help="why, e.g. 'closing November'")

    def handle(self, *args, **o):
        if o["date"] and o["clear"]:
            raise CommandError("give a date or --clear, not both")
        if o["date"] or o["clear"]:
            if not o["username"]:
                raise CommandError("say who sets it: --as USER")
            user = user_named(o["username"])
            if not user.has_perm("smi_core.change_reportingdate"):
                raise CommandError(
                    f"{user.get_username()} may not change the reporting date (finance role)",
                    returncode=3,
                )
            try:
                day = None if o["clear"] else date.fromisoformat(o["date"])
            except ValueError:
                raise CommandError(f"{o['date']!r} is not a date (YYYY-MM-DD)") from None
            try:
                reporting_date_set(
                    day=day,
                    note=o["note"],
                    actor=Actor("user", user.get_username(), user_agent="cli"),
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(f"Figures without a date are {reporting_day().statement()}.")
