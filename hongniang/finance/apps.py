from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "hongniang.finance"
    label = "finance"
