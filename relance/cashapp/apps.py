from django.apps import AppConfig


class CashappConfig(AppConfig):
    name = "relance.cashapp"
    label = "cashapp"
    verbose_name = "Cash application"

    def ready(self) -> None:
        from relance.core import scope

        # Statements and settings are company-level; a line follows its customer once identified,
        # and is company-level while unidentified (like a payment).
        scope.register("cashapp.statement", None, "company_id")
        scope.register("cashapp.bankline", "customer__", "company_id")
        scope.register("cashapp.payeraccount", "customer__", None)
        scope.register("cashapp.matchsettings", None, "company_id")
