from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CarryoverConfig(AppConfig):
    name = "carryover"
    verbose_name = _("Carry-over")
