from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "hongniang.sales"
    label = "sales"
