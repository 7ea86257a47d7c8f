from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveillanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveillance"
    verbose_name = _("Market surveillance")
