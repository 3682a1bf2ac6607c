"""Ship an order's open lines, one pack per line, and send the 856 (scripts and demos)."""

import json

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.services.audit import Actor
from smi_core.services.sod import SodViolation
from smi_edi.selectors.orders import outbound_as_dict, shipment_as_dict, shipments_list
from smi_edi.services.order_documents import order_ship


class Command(BaseCommand):
    help = (
        "Ship every open line of the order with PO number ORDER (one pack per line); sends the 856."
    )

    def add_arguments(self, parser):
        parser.add_argument("order", help="the PO number")
        parser.add_argument("--as", dest="username", default="shipper", help="who ships")
        parser.add_argument("--carrier", default="", help="carrier SCAC")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        user = user_named(o["username"])
        try:
            shipment, document = order_ship(
                po_number=o["order"],
                user=user,
                actor=Actor("user", user.get_username(), user_agent="cli"),
                carrier_scac=o["carrier"],
            )
        except SodViolation as exc:
            raise CommandError(
                f"denied ({', '.join(exc.rule_codes)}): {exc.message}", returncode=3
            ) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        document.refresh_from_db()
        if o["json"]:
            row = shipment_as_dict(shipments_list().get(pk=shipment.pk))
            row["document"] = outbound_as_dict(document, with_x12=True)
            self.stdout.write(json.dumps(row, indent=2))
            return
        self.stdout.write(
            f"shipment {shipment.shipment_number}: {shipment.packs.count()} pack(s) of order "
            f"{o['order']}; 856 ISA13 {document.interchange_control_number} {document.status}"
        )
        for error in document.validation_errors:
            self.stdout.write(f"  ! {error}")
