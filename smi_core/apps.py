from django.apps import AppConfig


class SmiCoreConfig(AppConfig):
    name = "smi_core"
    verbose_name = "SMI core"

    def ready(self) -> None:
        from smi_core.services.hooks import on_positions_changed
        from smi_core.services.planning import planning_after_positions_changed

        # Each applied 852 plans the item-locations it changed.
        on_positions_changed(planning_after_positions_changed)
