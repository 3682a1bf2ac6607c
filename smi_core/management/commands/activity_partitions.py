"""The 852 activity partitions on PostgreSQL: list them, create them ahead, archive old months."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from smi_core.cli_output import progress_bar
from smi_core.services.partitions import (
    AHEAD_MONTHS,
    DEFAULT,
    MIN_RETENTION_MONTHS,
    PartitionError,
    activity_archive_plan,
    activity_archive_verify,
    activity_partition_archive,
    activity_partitions,
    activity_partitions_ensure,
)


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise CommandError(f"--month {text!r}: expected YYYY-MM, e.g. 2027-03") from None


class Command(BaseCommand):
    help = (
        "PostgreSQL: the monthly partitions of the 852 activity history. 'list' shows them, "
        "'ensure' creates this month and the next ones (and moves rows out of the DEFAULT "
        "partition), 'archive' writes months older than the retention to compressed files "
        "and detaches them (a dry run unless --execute), 'verify' checks archived files."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="partitions, their rows, archived months")
        ensure = sub.add_parser("ensure", help="create the partitions ahead")
        ensure.add_argument(
            "--ahead",
            type=int,
            default=AHEAD_MONTHS,
            help=f"months after this one (default {AHEAD_MONTHS})",
        )
        ensure.add_argument(
            "--month", action="append", default=[], help="also this month, YYYY-MM (repeatable)"
        )
        archive = sub.add_parser("archive", help="archive and detach months past the retention")
        archive.add_argument(
            "--older-than-months",
            type=int,
            required=True,
            help=f"archive months ending this many months before this one (at least {MIN_RETENTION_MONTHS})",
        )
        archive.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="where the files go (default SMI_ACTIVITY_ARCHIVE_DIR)",
        )
        archive.add_argument(
            "--execute", action="store_true", help="do it (default: say what would be done)"
        )
        archive.add_argument(
            "--keep-detached",
            action="store_true",
            help="detach the archived partitions but keep their tables (default: drop them)",
        )
        sub.add_parser("verify", help="check every archived file against its record")

    def handle(self, *args, **o):
        try:
            getattr(self, f"_{o['action']}")(o)
        except PartitionError as exc:
            raise CommandError(exc.message) from None

    def _list(self, o) -> None:
        from smi_core.models import ActivityArchive

        with connection.cursor() as cursor:
            for part in activity_partitions():
                cursor.execute(f"SELECT COUNT(*) FROM {part.name}")
                rows = cursor.fetchone()[0]
                span = f"{part.start} to {part.end}" if part.start else "DEFAULT (any other month)"
                self.stdout.write(f"{part.name:<40} {span:<28} {rows:>12,} rows")
        for record in ActivityArchive.objects.all():
            state = "dropped" if record.dropped else "detached, kept"
            self.stdout.write(
                f"{record.partition:<40} archived {record.archived_at:%Y-%m-%d} ({state}): "
                f"{record.rows:,} rows in {record.path} sha256 {record.sha256[:16]}..."
            )

    def _ensure(self, o) -> None:
        result = activity_partitions_ensure(
            ahead_months=o["ahead"], months=tuple(_month(m) for m in o["month"])
        )
        for name in result["created"]:
            self.stdout.write(f"created {name}")
        if result["moved"]:
            self.stdout.write(f"moved {result['moved']:,} row(s) out of {DEFAULT}")
        if not result["created"]:
            self.stdout.write("every partition needed exists")

    def _archive(self, o) -> None:
        # Rows of old months waiting in the default get their month first, so they archive too.
        activity_partitions_ensure(ahead_months=0)
        plan = activity_archive_plan(older_than_months=o["older_than_months"])
        directory = o["dir"] or settings.SMI_ACTIVITY_ARCHIVE_DIR
        if not plan:
            self.stdout.write(
                f"no month ends {o['older_than_months']} months or more before this one"
            )
            return
        ready = [c for c in plan if c.ready]
        for candidate in plan:
            part = candidate.partition
            head = f"{part.name} ({part.start} to {part.end}, {candidate.rows:,} rows)"
            if candidate.ready:
                verb = "archiving" if o["execute"] else "would archive"
                self.stdout.write(f"{verb} {head}")
            else:
                self.stdout.write(f"keeping {head}: " + "; ".join(candidate.blockers))
        if not o["execute"]:
            self.stdout.write(
                f"dry run: {len(ready)} month(s) would go to {directory}; add --execute to archive"
            )
            return
        for candidate in ready:
            with progress_bar(
                self.stderr, candidate.partition.name, candidate.rows, unit="rows"
            ) as advance:
                record = activity_partition_archive(
                    candidate, directory, drop=not o["keep_detached"], progress=advance
                )
            state = "detached" if o["keep_detached"] else "detached and dropped"
            self.stdout.write(
                f"archived {record.partition}: {record.rows:,} rows, {record.bytes:,} bytes, "
                f"sha256 {record.sha256} verified, {state} -> {record.path}"
            )

    def _verify(self, o) -> None:
        from smi_core.models import ActivityArchive

        problems = []
        records = list(ActivityArchive.objects.all())
        for record in records:
            found = activity_archive_verify(record)
            problems += found
            self.stdout.write(f"{record.partition}: {'; '.join(found) or 'intact'}")
        if problems:
            raise CommandError(f"{len(problems)} archived file(s) do not match their record")
        self.stdout.write(f"{len(records)} archived month(s) verified")
