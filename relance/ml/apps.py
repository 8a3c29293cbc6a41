from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "relance.ml"
    label = "ml"
    verbose_name = "Machine learning"

    def ready(self) -> None:
        from relance.core import scope

        # Predictions and payer features follow their customer; model files are company-level records.
        scope.register("ml.invoiceprediction", "customer__")
        scope.register("ml.payerfeatures", "customer__")
        scope.register("ml.modelversion", None, "company_id")
