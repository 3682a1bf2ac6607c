"""Rebuild inventory positions from product activity."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.models import Party
from smi_core.services.positions import positions_rebuild


class Command(BaseCommand):
    help = "Recompute inventory positions from the stored 852 activity (all buyers, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", help="buyer code")

    def handle(self, *args, **o):
        buyer = None
        if o["partner"]:
            buyer = Party.objects.filter(code=o["partner"]).first()
            if buyer is None:
                raise CommandError(f"no partner {o['partner']!r}")
        count = positions_rebuild(buyer=buyer)
        self.stdout.write(f"{count} position(s) rebuilt from activity")
