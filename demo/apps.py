from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data across every app. It may import any app; no app imports it."""

    name = "demo"
