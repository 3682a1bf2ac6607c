"""Load an item master (with buyers' cross-references) from CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.services.import_rows import read_utf8
from smi_core.services.items import COLUMNS, items_import


class Command(BaseCommand):
    help = f"Create or update items from a CSV file with the columns {', '.join(COLUMNS)}."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            summary = items_import(text=read_utf8(path), name=path.name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{path.name}: {summary.items_created} created, {summary.items_updated} updated, "
            f"{summary.items_unchanged} unchanged, {summary.cross_references} cross-references"
        )
