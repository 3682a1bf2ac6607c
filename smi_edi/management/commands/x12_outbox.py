"""List the documents we sent, with delivery and acknowledgment status."""

import json

from django.core.management.base import BaseCommand, CommandError

from smi_edi.models import OutboundDocument
from smi_edi.selectors.orders import outbound_as_dict


class Command(BaseCommand):
    help = (
        "List outbound X12 documents (855, 856, and the 997/999 answering partners' files) "
        "with delivery and acknowledgment status."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--status",
            help="delivery status (invalid, queued, sent, failed) or acknowledgment status "
            "(awaiting, accepted, accepted_with_errors, rejected, overdue)",
        )
        parser.add_argument("--partner", help="partner code")
        parser.add_argument("--type", dest="set_id", help="855, 856, 997 or 999")
        parser.add_argument("--json", action="store_true", help="JSON with the raw X12")

    def handle(self, *args, **o):
        qs = OutboundDocument.objects.select_related("partner__party", "order", "shipment")
        status = o["status"]
        if status in OutboundDocument.Status.values:
            qs = qs.filter(status=status)
        elif status in OutboundDocument.AckStatus.values and status:
            qs = qs.filter(ack_status=status)
        elif status:
            known = OutboundDocument.Status.values + OutboundDocument.AckStatus.values[1:]
            raise CommandError(f"--status must be one of {', '.join(known)}, not {status!r}")
        if o["partner"]:
            qs = qs.filter(partner__party__code=o["partner"])
        if o["set_id"]:
            qs = qs.filter(set_id=o["set_id"])
        qs = qs.order_by("pk")
        if o["json"]:
            rows = [outbound_as_dict(d, with_x12=True) for d in qs]
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not qs.exists():
            self.stdout.write("no outbound documents match")
            return
        header = f"{'id':>5} {'type':4} {'partner':14} {'ISA13':9} {'status':8} {'ack':21} {'answers':16} sent"
        self.stdout.write(header)
        for d in qs:
            ref = _answers(d)
            sent = d.sent_at.strftime("%Y-%m-%d %H:%M") if d.sent_at else "-"
            self.stdout.write(
                f"{d.pk:>5} {d.set_id:4} {d.partner.code[:14]:14} {d.interchange_control_number:9} "
                f"{d.status:8} {(d.ack_status or '-'):21} {ref[:16]:16} {sent}"
            )
            for error in (d.validation_errors or d.ack_errors)[:5]:
                self.stdout.write(f"      ! {error}")


def _answers(document: OutboundDocument) -> str:
    """What the document is about: its order, its shipment, or the interchange it answers."""
    if document.order_id:
        return document.order.po_number
    if document.shipment_id:
        return document.shipment.shipment_number
    if document.acknowledges_id:
        return f"interchange {document.acknowledges_id}"
    return "-"
