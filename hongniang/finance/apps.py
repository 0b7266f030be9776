from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "hongniang.finance"
    label = "finance"

    def ready(self):
        from hongniang.finance import outcomes

        outcomes.connect()
