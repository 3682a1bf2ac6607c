"""Send an outbound document over AS2 now and report what the partner's MDN said."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor


class Command(BaseCommand):
    help = (
        "Deliver an outbound document over AS2 now: give its id, or a PO number (the latest "
        "document of that order). Prints the AS2 Message-ID and the MDN's disposition."
    )

    def add_arguments(self, parser):
        parser.add_argument("reference", help="outbound document id or PO number")

    def handle(self, *args, reference: str, **options):
        from smi_edi.services.as2 import as2_send

        try:
            document = as2_send(reference=reference, actor=Actor.system("cli:as2_send"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        message = document.as2_messages.order_by("-pk").first()
        self.stdout.write(
            f"{document.set_id} #{document.pk} to {document.partner.code}: {document.get_status_display()}"
        )
        if message is not None:
            self.stdout.write(
                f"AS2 {message.message_id}: {message.get_status_display()}"
                + (f" — {message.disposition}" if message.disposition else "")
                + (f" — {message.reason}" if message.reason else "")
            )
        if document.status != document.Status.SENT and (
            message is None or message.status != message.Status.AWAITING_MDN
        ):
            raise CommandError(f"not delivered: {document.status_reason or 'see the attempts'}")
