from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteconfigConfig(AppConfig):
    name = "hongniang.siteconfig"
    label = "siteconfig"
    verbose_name = _("System settings")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from hongniang.siteconfig.audit import update_last_login_quietly

        # Django's own receiver saves last_login with a history row per login: noise that
        # would crowd real changes out of the audit trail. Ours saves it without one.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(update_last_login_quietly, dispatch_uid="update_last_login")
