"""Create or update supply agreements (JSON) or their item terms (CSV)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.services.agreements import agreements_import


class Command(BaseCommand):
    help = (
        "Import agreements with their text, item terms and capacities from JSON, or item terms from "
        "CSV (see the README for both formats). Nothing is applied if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--verbose-changes", action="store_true", help="list every created or updated record"
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            summary = agreements_import(path=path)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{path.name}: {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged"
        )
        if options["verbose_changes"]:
            for line in summary.details:
                self.stdout.write(f"  {line}")
