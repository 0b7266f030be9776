from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "hongniang.messaging"
    label = "messaging"
