from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "hongniang.portal"
    label = "portal"
    verbose_name = _("Member centre")

    def ready(self):
        from hongniang.members.importing import options
        from hongniang.portal import (
            accounts,
            signals,  # noqa: F401 - staff login/logout end impersonations
        )

        # The import wizard's "open their accounts" (members/ cannot import the member centre).
        options.register(
            options.ImportOption(
                key="accounts",
                label=_("Open member accounts for the imported members and tell them by SMS"),
                allowed=accounts.may_manage,
                run=accounts.open_for_import,
                count_label=_("member accounts opened"),
                limit=accounts.import_limit,
            )
        )
