from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "relance.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self) -> None:
        from relance.core import scope
        from relance.core.vocab import Role

        scope.register("collections.promise", "customer__")
        scope.register("collections.activity", "customer__")
        scope.register("collections.task", "customer__")
        scope.register("collections.dunningaction", "customer__")
        scope.register("collections.claim", "customer__")
        scope.register("collections.provision", "customer__")
        # a reply not threaded to a customer yet is company-level (seen by group- or company-wide users)
        scope.register("collections.reply", "customer__", "company_id")
        # Collection work (disputes, promises, calls): the roles that work a portfolio.
        scope.ACTIONS.setdefault(
            "collect", frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.COLLECTOR, Role.AGENCY_MANAGER})
        )
