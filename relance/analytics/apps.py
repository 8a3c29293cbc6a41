from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "relance.analytics"
    label = "analytics"
    verbose_name = "Analytics: KPIs and cash forecast"

    def ready(self) -> None:
        from relance.core import scope

        scope.register("analytics.customerbehaviour", "customer__")
        # summary rows carry the customer's cell fields themselves (company_id, agency_id, collector_id,
        # sales_rep_id): the customer rules apply to them directly; unidentified cash rows (no agency, no
        # people) are seen by company- and group-wide scopes only, like the payments they sum
        scope.register("analytics.dailyposition", "")
        scope.register("analytics.dailyflow", "")
        scope.register("analytics.dailycustomer", "")
        scope.register("analytics.dailyforecast", "")
