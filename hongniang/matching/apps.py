from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "hongniang.matching"
    label = "matching"
