from django.apps import AppConfig


class SmiCoreConfig(AppConfig):
    name = "smi_core"
    verbose_name = "SMI core"
