"""Orders as CSV, one row per line, for supplier ERPs without an API."""

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from smi_core.models import Party
from smi_edi.selectors.orders import order_as_dict, orders_list

COLUMNS = [
    "order_id",
    "po_number",
    "status",
    "buyer",
    "ship_to",
    "po_date",
    "line_id",
    "line_number",
    "vendor_item",
    "gtin",
    "unit",
    "unit_cost",
    "ordered_quantity",
    "confirmed_quantity",
    "ack_code",
    "promised_date",
    "shipped_quantity",
]


class Command(BaseCommand):
    help = "Write a supplier's orders as CSV (one row per line); '-' or no FILE: stdout."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-")
        parser.add_argument("--supplier", required=True, help="supplier code")
        parser.add_argument("--status", default="approved", help="order status (default approved)")

    def handle(self, *args, **o):
        supplier = Party.objects.filter(code=o["supplier"]).first()
        if supplier is None:
            raise CommandError(f"no supplier {o['supplier']!r}")
        out = sys.stdout if o["file"] == "-" else open(o["file"], "w", newline="")  # noqa: SIM115
        try:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            rows = 0
            for order in orders_list(supplier=supplier, status=o["status"]):
                data = order_as_dict(order)
                for line in data["lines"]:
                    writer.writerow(
                        {
                            "order_id": data["id"],
                            "po_number": data["po_number"],
                            "status": data["status"],
                            "buyer": data["buyer"],
                            "ship_to": data["ship_to"],
                            "po_date": data["po_date"],
                            "line_id": line["id"],
                            **{k: line[k] for k in COLUMNS[7:]},
                        }
                    )
                    rows += 1
        finally:
            if out is not sys.stdout:
                out.close()
        if o["file"] != "-":
            self.stderr.write(f"wrote {rows} order line(s) to {o['file']}")
