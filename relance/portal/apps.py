from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "relance.portal"
    label = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        from relance.cashapp.services import register_selection_source
        from relance.core import scope

        from .payments import selection_sources

        # Links, payment selections, sessions and attachments follow their customer.
        scope.register("portal.portallink", "customer__", None)
        scope.register("portal.paymentselection", "customer__", None)
        scope.register("portal.paymentsession", "customer__", None)
        scope.register("portal.disputeattachment", "customer__", None)
        # A bank line carrying a portal RF reference pays the invoices of that selection.
        register_selection_source(selection_sources)
