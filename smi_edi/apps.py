from django.apps import AppConfig


class SmiEdiConfig(AppConfig):
    name = "smi_edi"
    verbose_name = "EDI (X12)"

    def ready(self) -> None:
        from smi_core.services.hooks import on_order_event, on_settlement_event
        from smi_edi.services.settlement_documents import settlement_issued
        from smi_edi.services.webhooks import webhook_order_event

        # Approved orders are announced to the supplier's ERP.
        on_order_event(webhook_order_event)
        # An issued settlement's 810 is written, validated and sent.
        on_settlement_event(settlement_issued)
