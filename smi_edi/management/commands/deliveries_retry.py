"""Send again what is due: outbound documents and webhooks whose backoff has passed."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Deliver again the outbound documents and webhooks whose backoff has passed (what the "
        "beat sweeps do every 2 minutes); for installations without a broker, run it from cron."
    )

    def handle(self, *args, **options):
        from smi_edi.tasks import outbound_redeliver_queued, webhooks_redeliver

        documents = outbound_redeliver_queued()
        webhooks = webhooks_redeliver()
        self.stdout.write(f"outbound documents: {documents}; webhooks: {webhooks}")
