from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "hongniang.portal"
    label = "portal"
    verbose_name = _("Member centre")

    def ready(self):
        from hongniang.portal import signals  # noqa: F401 - staff login/logout end impersonations
