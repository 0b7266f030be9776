from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "hongniang.members"
    label = "members"
