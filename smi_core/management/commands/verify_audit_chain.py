"""Verify the audit trail's hash chain: exit 0 when intact, 1 naming the first broken event.

With ``--checkpoint HASH`` (a head hash printed by ``audit_checkpoint`` and kept outside
the system) the chain must also still contain an event with that hash; otherwise events
were removed or the chain rewritten since, and the command exits 1."""

import re
import sys

from django.core.management.base import BaseCommand, CommandError

from smi_core.services.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute every audit event's hash; exit 0 when the chain is intact, 1 at the first "
        "broken event. --checkpoint HASH (from audit_checkpoint, kept outside the system) "
        "also fails when no event in the chain has that hash (the chain was cut or rewritten)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            default="",
            metavar="HASH",
            help="a head hash printed earlier by audit_checkpoint (64 hex digits)",
        )

    def handle(self, *args, **o):
        checkpoint = o["checkpoint"].strip().lower()
        if checkpoint and not re.fullmatch(r"[0-9a-f]{64}", checkpoint):
            raise CommandError(
                f"--checkpoint {o['checkpoint']!r} is not a sha256 hash (64 hex digits), as "
                "printed by audit_checkpoint",
                returncode=2,
            )
        report = audit_verify(checkpoint=checkpoint)
        if report.intact:
            self.stdout.write(f"audit chain intact: {report.events} event(s), head {report.head}")
            if checkpoint:
                self.stdout.write(
                    f"checkpoint {checkpoint} found at event #{report.checkpoint_at}; "
                    f"{report.since_checkpoint} event(s) written since"
                )
            return
        if report.broken_at is None:
            self.stderr.write(f"audit chain BROKEN: {report.reason}")
        else:
            self.stderr.write(f"audit chain BROKEN at event #{report.broken_at}: {report.reason}")
        sys.exit(1)
