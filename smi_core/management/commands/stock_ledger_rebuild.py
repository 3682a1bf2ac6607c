"""Rebuild the point-in-time stock ledger from the stored 852 activity."""

from django.core.management.base import BaseCommand

from smi_core.services.stock_ledger import stock_ledger_rebuild


class Command(BaseCommand):
    help = (
        "Write the stock ledger (stock per item-location and report period, what finance "
        "figures at a date read) again from every stored 852 activity row."
    )

    def handle(self, *args, **o):
        result = stock_ledger_rebuild()
        self.stdout.write(
            f"{result['rows']} ledger row(s) rebuilt from the activity of {result['sets']} set(s)"
        )
