"""Create or update supply agreements (JSON) or their item terms (CSV).

``--as USER`` names who makes the change: the history records name that user (so SOD-02
keeps them from approving under an agreement they changed) and the audit events name them.
Without it the import is recorded as the system actor ``agreements_import`` (unattended
onboarding, the demo load) and the history names nobody."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.services.agreements import IMPORT_ACTOR, agreements_import


class Command(BaseCommand):
    help = (
        "Import agreements with their text, item terms and capacities from JSON, or item terms from "
        "CSV (see the README for both formats). Nothing is applied if any row is bad. Every "
        "created or updated agreement, term and capacity is audited; --as USER names who made "
        f"the change (else the system actor {IMPORT_ACTOR!r})."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            metavar="USER",
            help="the user making the change: history and audit name them, and SOD-02 then keeps "
            f"them from approving under the agreement (default: the system actor {IMPORT_ACTOR!r})",
        )
        parser.add_argument(
            "--verbose-changes", action="store_true", help="list every created or updated record"
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        user = user_named(options["username"]) if options["username"] else None
        try:
            summary = agreements_import(path=path, user=user)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        who = user.get_username() if user else f"system:{IMPORT_ACTOR}"
        self.stdout.write(
            f"{path.name}: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged (as {who})"
        )
        if options["verbose_changes"]:
            for line in summary.details:
                self.stdout.write(f"  {line}")
