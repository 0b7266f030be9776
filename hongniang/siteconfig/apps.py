from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteconfigConfig(AppConfig):
    name = "hongniang.siteconfig"
    label = "siteconfig"
    verbose_name = _("System settings")
