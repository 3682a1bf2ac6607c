"""(Re-)index every agreement's clauses for the assistant."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.models import SupplyAgreement


class Command(BaseCommand):
    help = (
        "Split every agreement (or those named) into clauses and replace them in the vector store."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help="agreement codes (default all)")

    def handle(self, *args, **o):
        from reporting_assistant.store import agreement_index

        agreements = SupplyAgreement.objects.order_by("code")
        if o["codes"]:
            agreements = agreements.filter(code__in=o["codes"])
            missing = set(o["codes"]) - set(agreements.values_list("code", flat=True))
            if missing:
                raise CommandError(f"no agreement(s) {', '.join(sorted(missing))}")
        total = 0
        for agreement in agreements:
            count = agreement_index(agreement_id=agreement.pk)
            total += count
            self.stdout.write(f"{agreement.code}: {count} clause(s)")
        self.stdout.write(f"{total} clause(s) indexed")
