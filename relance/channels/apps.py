from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "relance.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from relance.core import scope

        # Subscriptions, events and deliveries are company-level records: a subscription without a
        # company (every company's events) is seen by group-wide users only.
        scope.register("channels.webhooksubscription", None, "company_id")
        scope.register("channels.webhookevent", None, "company_id")
        scope.register("channels.webhookdelivery", None, "subscription__company_id")
