"""Load dated exchange rates from CSV (currency, quote, date, rate[, source])."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor
from smi_core.services.fx import fx_load
from smi_core.services.import_rows import read_utf8


class Command(BaseCommand):
    help = "Load exchange rates: CSV with currency, quote, date (YYYY-MM-DD), rate[, source]."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **o):
        path = Path(o["file"])
        try:
            changed = fx_load(
                text=read_utf8(path),
                actor=Actor.system("cli:fx_load"),
                source=path.name,
                name=path.name,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{path.name}: {changed} rate(s) loaded or changed")
