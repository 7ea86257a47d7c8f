from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffsetsConfig(AppConfig):
    name = "offsets"
    verbose_name = _("Offset registry (CCER)")

    def ready(self) -> None:
        # The registry calls these without importing this app (dependencies run one way).
        from offsets.checks import serial_blocks_verify
        from offsets.serials import on_posting
        from registry.selectors import ledger_check_register
        from registry.services import posting_hook_register

        posting_hook_register(on_posting)
        ledger_check_register(serial_blocks_verify)
