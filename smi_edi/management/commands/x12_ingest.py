"""Ingest X12 files from the command line through the same pipeline as the API."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smi_core.cli_output import progress_bar
from smi_core.exceptions import ApplicationError
from smi_edi.models import Interchange
from smi_edi.services.interchanges import interchange_enqueue, interchange_receive

FINAL = {Interchange.Status.APPLIED, Interchange.Status.REJECTED, Interchange.Status.FAILED}


class Command(BaseCommand):
    help = "Store and process X12 files; print per file the interchange, its status and what it changed."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--wait", action="store_true", help="wait until workers have finished each file"
        )
        parser.add_argument(
            "--timeout", type=float, default=600, help="seconds to wait with --wait"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        results, refused = [], 0
        total = sum(_size(p) for p in options["files"])
        # without a broker each file is processed here, as it is taken in: the bar follows
        # the files (by size); with one, --wait shows a bar until every file is final
        with progress_bar(self.stderr, "taking in", total, unit="MB") as advance:
            for path in options["files"]:
                advance(0, description=f"taking in {path.name}")
                refused += self._take_in(path, results)
                advance(_size(path))
        if options["wait"]:
            self._wait(
                [r["interchange"] for r in results if "interchange" in r], options["timeout"]
            )
        for result in results:
            if "interchange" in result:
                result.update(_describe(Interchange.objects.get(pk=result["interchange"])))
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
        else:
            for r in results:
                if "error" in r:
                    self.stdout.write(f"{r['file']}: refused: {r['error']}")
                else:
                    self.stdout.write(
                        f"{r['file']}: interchange #{r['interchange']} {r['status']}"
                        + (f" ({r['status_reason']})" if r["status_reason"] else "")
                        + f"; sets accepted {r['sets_accepted']}, rejected {r['sets_rejected']}; "
                        f"{r['activity_rows']} activity rows, {r['positions_changed']} positions changed"
                    )
        if refused:
            raise CommandError(f"{refused} file(s) could not be taken in", returncode=2)

    def _take_in(self, path: Path, results: list[dict]) -> int:
        """Store and enqueue one file; 1 when it is refused (the reason in ``results``)."""
        try:
            with open(path, "rb") as handle:
                interchange = interchange_receive(
                    source=handle,
                    transport=Interchange.Transport.CLI,
                    source_name=path.name,
                    actor="cli:x12_ingest",
                )
        except OSError as exc:
            results.append({"file": str(path), "error": f"cannot read: {exc.strerror}"})
            return 1
        except ApplicationError as exc:
            results.append({"file": str(path), "error": exc.message})
            return 1
        interchange_enqueue(interchange)
        results.append({"file": str(path), "interchange": interchange.pk})
        return 0

    def _wait(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with progress_bar(self.stderr, "processing", len(ids)) as advance:
            done = 0
            while time.monotonic() < deadline:
                open_ = Interchange.objects.filter(pk__in=ids).exclude(status__in=FINAL).count()
                advance(len(ids) - open_ - done)
                done = len(ids) - open_
                if not open_:
                    return
                time.sleep(0.5)
        raise CommandError(
            f"gave up waiting after {timeout:.0f} s; the files are stored and still being processed"
        )


def _describe(interchange: Interchange) -> dict:
    return {
        "status": interchange.status,
        "status_reason": interchange.status_reason,
        "duplicate_of": interchange.duplicate_of_id,
        "sets_accepted": interchange.sets_accepted,
        "sets_rejected": interchange.sets_rejected,
        "activity_rows": interchange.activity_rows,
        "positions_changed": interchange.positions_changed,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
