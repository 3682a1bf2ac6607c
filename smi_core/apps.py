from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SmiCoreConfig(AppConfig):
    name = "smi_core"
    verbose_name = "SMI core"

    def ready(self) -> None:
        from smi_core.services.hooks import on_positions_changed
        from smi_core.services.planning import planning_after_positions_changed

        # Each applied 852 plans the item-locations it changed.
        on_positions_changed(planning_after_positions_changed)
        # PostgreSQL: rows of a month without its partition are moved into a new one.
        from smi_core.services.partitions import partitions_after_positions_changed

        on_positions_changed(partitions_after_positions_changed)
        # After every app's migrate: permissions of apps migrated after this one exist by then.
        post_migrate.connect(_ensure_roles, dispatch_uid="smi_core.ensure_roles")


def _ensure_roles(sender, **kwargs) -> None:
    """The role groups and their permissions exist after every migrate (idempotent)."""
    from smi_core.services.roles import roles_ensure

    roles_ensure()
