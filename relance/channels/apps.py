from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "relance.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from relance.core import scope
        from relance.core.vocab import Role

        # Who may manage webhooks (see docs/webhooks.md); within their scope, like every action.
        scope.ACTIONS.setdefault("manage_webhooks", frozenset({Role.ADMIN, Role.CREDIT_MANAGER}))
        # Subscriptions, events and deliveries are company-level records: a subscription without a
        # company (every company's events) is seen by group-wide users only.
        scope.register("channels.webhooksubscription", None, "company_id")
        scope.register("channels.webhookevent", None, "company_id")
        scope.register("channels.webhookdelivery", None, "subscription__company_id")
