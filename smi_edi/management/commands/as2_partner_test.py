"""Send a small AS2 test message to a partner and report its MDN."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor


class Command(BaseCommand):
    help = (
        "Send an AS2 connectivity test (a short text) to PARTNER (its AS2 id or partner code) "
        "with its profile's signing, encryption and MDN settings, and report the MDN."
    )

    def add_arguments(self, parser):
        parser.add_argument("partner", help="the partner's AS2 id or trading partner code")

    def handle(self, *args, partner: str, **options):
        from smi_edi.services.as2 import as2_partner_test

        try:
            message = as2_partner_test(partner=partner, actor=Actor.system("cli:as2_partner_test"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        security = ", ".join(
            [
                "signed" if message.signed else "unsigned",
                "encrypted" if message.encrypted else "not encrypted",
            ]
        )
        self.stdout.write(f"AS2 {message.message_id} to {message.as2_to} ({security})")
        self.stdout.write(f"MDN: {message.disposition or '—'} ({message.get_status_display()})")
        if message.status == message.Status.AWAITING_MDN:
            self.stdout.write(
                f"the asynchronous MDN is expected by {message.mdn_due_at:%Y-%m-%d %H:%M} UTC"
            )
        elif message.status != message.Status.DELIVERED:
            raise CommandError(message.reason or "the partner did not confirm the message")
