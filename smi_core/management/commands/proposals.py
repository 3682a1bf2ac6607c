"""List replenishment proposals."""

import json

from django.core.management.base import BaseCommand

from smi_core.models import ReplenishmentProposal
from smi_core.selectors.planning_output import proposal_as_dict, proposals_list


class Command(BaseCommand):
    help = "List replenishment proposals with their status, partner, value and order (PO number)."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=ReplenishmentProposal.Status.values)
        parser.add_argument("--partner")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        rows = [
            proposal_as_dict(p) for p in proposals_list(status=o["status"], partner=o["partner"])
        ]
        if o["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for r in rows:
            self.stdout.write(
                f"#{r['id']:<6} {r['status']:<9} {r['supplier']} -> {r['partner']}/{r['ship_to']:<8} "
                f"{r['value']:>12} {r['currency']}  order {r['order'] or '-'}"
            )
        self.stdout.write(f"{len(rows)} proposal(s)")
