from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry (ledger)")

    def ready(self) -> None:
        from registry.reference import reference_data_sync

        post_migrate.connect(reference_data_sync, sender=self, dispatch_uid="registry.reference_data_sync")
