"""Poll a drop folder for X12 files."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_edi.services.drop_folder import PollResult, folder_poll


class Command(BaseCommand):
    help = (
        "Take in X12 files dropped into --inbox: each is stored, recorded and queued, then moved to "
        "processed/ (or failed/ with a .reason.txt). Without --once it keeps polling."
    )

    def add_arguments(self, parser):
        parser.add_argument("--inbox", required=True, type=Path)
        parser.add_argument("--once", action="store_true", help="poll once and exit")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
        parser.add_argument(
            "--settle", type=float, default=2.0, help="leave files younger than this many seconds"
        )

    def handle(self, *args, **o):
        inbox: Path = o["inbox"]
        if inbox.exists() and not inbox.is_dir():
            raise CommandError(f"--inbox {inbox} is a file, not a folder; name the drop folder")
        try:
            inbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot use --inbox {inbox}: {exc.strerror or exc}") from exc
        if o["interval"] <= 0 and not o["once"]:
            raise CommandError("--interval must be above 0 seconds")
        while True:
            results = folder_poll(inbox=inbox, settle_seconds=o["settle"], report=self._report)
            if o["once"]:
                self.stdout.write(f"{len(results)} file(s) taken in")
                return
            time.sleep(o["interval"])

    def _report(self, result: PollResult) -> None:
        if result.interchange_id is None:
            self.stdout.write(f"{result.name}: failed: {result.reason} -> {result.moved_to}")
        else:
            self.stdout.write(
                f"{result.name}: interchange #{result.interchange_id} -> {result.moved_to}"
            )
