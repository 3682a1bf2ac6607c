from django.apps import AppConfig


class ReportingAssistantConfig(AppConfig):
    name = "reporting_assistant"
    verbose_name = "Reporting assistant"

    def ready(self) -> None:
        from reporting_assistant.tasks import index_later
        from smi_core.services.hooks import on_agreements_changed

        # An agreement created or changed is re-indexed for the assistant.
        on_agreements_changed(index_later)
