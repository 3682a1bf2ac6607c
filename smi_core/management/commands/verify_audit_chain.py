"""Verify the audit trail's hash chain: exit 0 when intact, 1 naming the first broken event."""

import sys

from django.core.management.base import BaseCommand

from smi_core.services.audit import audit_verify


class Command(BaseCommand):
    help = "Recompute every audit event's hash; exit 0 when the chain is intact, 1 at the first broken event."

    def handle(self, *args, **o):
        report = audit_verify()
        if report.intact:
            self.stdout.write(f"audit chain intact: {report.events} event(s), head {report.head}")
            return
        self.stderr.write(f"audit chain BROKEN at event #{report.broken_at}: {report.reason}")
        sys.exit(1)
