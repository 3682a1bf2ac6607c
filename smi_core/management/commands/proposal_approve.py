"""Approve a proposal as a given user (scripted operation); SoD applies as everywhere."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.exceptions import ApplicationError
from smi_core.management.commands._actor import user_named
from smi_core.services.audit import Actor
from smi_core.services.proposals import proposal_approve
from smi_core.services.sod import SodViolation


class Command(BaseCommand):
    help = "Approve a replenishment proposal as USER (segregation of duties is checked)."

    def add_arguments(self, parser):
        parser.add_argument("id", type=int)
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args, **o):
        user = user_named(o["username"])
        try:
            approval = proposal_approve(
                proposal_id=o["id"],
                user=user,
                actor=Actor("user", user.get_username(), user_agent="cli"),
            )
        except SodViolation as exc:
            raise CommandError(
                f"denied ({', '.join(exc.rule_codes)}): {exc.message}", returncode=3
            ) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"proposal #{o['id']} approved by {user.get_username()} (approval #{approval.pk}, lines {approval.lines_hash[:12]})"
        )
