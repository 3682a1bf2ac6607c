"""Print the audit chain's head hash, to be kept outside the system."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from smi_core.services.audit import audit_head


class Command(BaseCommand):
    help = "Print the id and hash of the last audit event; keep it elsewhere to prove later that nothing was rewritten."

    def handle(self, *args, **o):
        event_id, head = audit_head()
        self.stdout.write(f"{timezone.now().isoformat()} event #{event_id} {head}")
