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
        # Collection work (disputes, promises, calls): the roles that work a portfolio.
        scope.ACTIONS.setdefault(
            "collect", frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.COLLECTOR, Role.AGENCY_MANAGER})
        )
