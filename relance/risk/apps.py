from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "relance.risk"
    label = "risk"
    verbose_name = "Customer risk"

    def ready(self) -> None:
        from relance.core import scope

        # Records of a customer account follow the customer; records of a legal entity (financials,
        # legal events, external scores) are seen through any account of that entity the user sees.
        for model in ("customerrisk", "scorehistory", "creditinsurancecover", "creditlimit", "order", "claim"):
            scope.register(f"risk.{model}", "customer__", None)
        scope.register("risk.factoreddocument", "document__customer__", None)
        from relance.alerts.models import register_title

        from .monitor import LOCALISED_TITLES, LocalisedTitle

        for kind, text in LOCALISED_TITLES.items():
            register_title(kind, LocalisedTitle(text))
        for model in ("financialstatement", "legalevent", "externalscore", "legalentityrisk"):
            scope.register(f"risk.{model}", "legal_entity__accounts__", None)
