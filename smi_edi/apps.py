from django.apps import AppConfig


class SmiEdiConfig(AppConfig):
    name = "smi_edi"
    verbose_name = "EDI (X12)"
