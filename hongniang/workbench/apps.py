from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "hongniang.workbench"
    label = "workbench"
