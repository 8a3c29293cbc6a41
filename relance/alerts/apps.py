from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "relance.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from relance.core import scope
        from relance.core.vocab import Role

        # acknowledging, assigning and commenting: every role but the read-only auditor, within scope
        scope.ACTIONS.setdefault("handle_alert", frozenset(set(Role.values) - set(scope.READ_ONLY_ROLES)))

        # An alert follows its customer; an alert without a customer is company-level
        # (seen by users whose scope is the group or whole companies). Comments follow their alert.
        scope.register("alerts.alert", "customer__", "company_id")
        scope.register("alerts.alertcomment", "alert__customer__", "alert__company_id")
