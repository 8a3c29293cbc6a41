from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "relance.analytics"
    label = "analytics"
    verbose_name = "Analytics: KPIs and cash forecast"

    def ready(self) -> None:
        from relance.core import scope

        scope.register("analytics.customerbehaviour", "customer__")
