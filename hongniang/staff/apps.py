from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "hongniang.staff"
    label = "staff"
