from django.apps import AppConfig


class ReportingAssistantConfig(AppConfig):
    name = "reporting_assistant"
    verbose_name = "Reporting assistant"
