from django.apps import AppConfig


class SiteconfigConfig(AppConfig):
    name = "hongniang.siteconfig"
    label = "siteconfig"
