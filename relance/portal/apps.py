from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "relance.portal"
    label = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        from relance.core import scope

        # Links, payment selections and sessions follow their customer.
        scope.register("portal.portallink", "customer__", None)
        scope.register("portal.paymentselection", "customer__", None)
        scope.register("portal.paymentsession", "customer__", None)
        scope.register("portal.disputeattachment", "customer__", None)
