"""Confirm an approved order as approved and send its 855 (for orders whose ERP has no API)."""

import json

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.models import ReplenishmentProposal
from smi_core.services.audit import Actor
from smi_edi.selectors.orders import outbound_as_dict
from smi_edi.services.order_documents import order_acknowledge


class Command(BaseCommand):
    help = "Confirm the approved order ORDER (PO number) line for line and send the 855."

    def add_arguments(self, parser):
        parser.add_argument("order", help="the PO number")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        order = ReplenishmentProposal.objects.filter(po_number=o["order"]).first()
        if order is None:
            raise CommandError(f"there is no order with PO number {o['order']!r}")
        try:
            document = order_acknowledge(order_id=order.pk, actor=Actor.system("cli"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        document.refresh_from_db()
        if o["json"]:
            self.stdout.write(json.dumps(outbound_as_dict(document, with_x12=True), indent=2))
            return
        self.stdout.write(
            f"855 for {o['order']}: ISA13 {document.interchange_control_number} {document.status}"
        )
        for error in document.validation_errors:
            self.stdout.write(f"  ! {error}")
        if document.status == "invalid":
            raise CommandError("the 855 failed our validation and was not sent")
