"""Print current inventory positions."""

import json

from django.core.management.base import BaseCommand

from smi_core.selectors import position_as_dict, positions_list
from smi_core.services.shipments import in_transit_by_item_location


class Command(BaseCommand):
    help = "Print current inventory positions, filtered by partner, item and location."

    def add_arguments(self, parser):
        parser.add_argument("--partner", help="buyer or supplier code")
        parser.add_argument("--item", help="vendor item, GTIN or buyer item number")
        parser.add_argument("--location", help="location code or GLN")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        shipped = in_transit_by_item_location()
        rows = [
            position_as_dict(p, shipped.get((p.item_id, p.location_id)))
            for p in positions_list(partner=o["partner"], item=o["item"], location=o["location"])
        ]
        if o["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("no positions match")
            return
        header = (
            "partner",
            "location",
            "vendor_item",
            "gtin",
            "on_hand",
            "on_order",
            "in_transit",
            "in_transit_shipped",
            "committed",
            "sold_last_period",
            "as_of",
        )
        widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in header}
        self.stdout.write("  ".join(h.ljust(widths[h]) for h in header))
        for r in rows:
            self.stdout.write("  ".join(str(r[h]).ljust(widths[h]) for h in header))
        self.stdout.write(f"{len(rows)} position(s)")
