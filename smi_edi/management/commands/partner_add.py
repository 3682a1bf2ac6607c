"""Register (or update) a trading partner."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_edi.services.partners import partner_add


class Command(BaseCommand):
    help = "Register a trading partner: party, ISA/GS ids, role, and an API token."

    def add_arguments(self, parser):
        parser.add_argument("code", help="short code, e.g. acme")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--isa", required=True, help="QUALIFIER:ID as in ISA05/ISA06, e.g. ZZ:ACMEBUYER"
        )
        parser.add_argument(
            "--gs", default="", help="GS02/GS03 application id (default: the ISA id)"
        )
        parser.add_argument("--role", default="buyer", choices=["buyer", "supplier", "both"])
        parser.add_argument(
            "--x12-version", default="004010", help="X12 version of what we send (GS08)"
        )
        parser.add_argument("--ack", default="997", choices=["997", "999"])
        parser.add_argument("--cadence", default="weekly", choices=["daily", "weekly"])
        parser.add_argument("--gln", default="")
        parser.add_argument(
            "--auto-register",
            action="store_true",
            help="create items and locations first seen in this partner's 852s, flagged for review",
        )

    def handle(self, *args, **o):
        try:
            partner, token = partner_add(
                code=o["code"],
                name=o["name"],
                isa=o["isa"],
                gs_id=o["gs"],
                role=o["role"],
                auto_register=o["auto_register"],
                x12_version=o["x12_version"],
                ack_type=o["ack"],
                cadence=o["cadence"],
                gln=o["gln"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"partner {partner.code}: {partner.party.name}, {partner.party.role}, ISA {partner.isa_key}, "
            f"GS {partner.gs_id}, {partner.x12_version}, acknowledgment {partner.ack_type}"
            + (", auto-register" if partner.auto_register else "")
        )
        self.stdout.write(f"API token: {token}")
