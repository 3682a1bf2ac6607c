"""(Re-)index every agreement's clauses for the assistant."""

from django.core.management.base import BaseCommand, CommandError

from smi_core.cli_output import progress_bar
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
        agreements = list(agreements)
        lines = []
        with progress_bar(self.stderr, "indexing", len(agreements)) as advance:
            for agreement in agreements:
                advance(0, description=f"indexing {agreement.code}")
                count = agreement_index(agreement_id=agreement.pk)
                total += count
                lines.append(f"{agreement.code}: {count} clause(s)")
                advance(1)
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"{total} clause(s) indexed")
