from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = _("Exchange")

    def ready(self) -> None:
        from trading.reference import instruments_sync
        from trading.services import caches_clear

        # After the registry's reference data (apps are signalled in INSTALLED_APPS order).
        post_migrate.connect(instruments_sync, sender=self, dispatch_uid="trading.instruments_sync")
        post_migrate.connect(caches_clear, sender=self, dispatch_uid="trading.caches_clear")
