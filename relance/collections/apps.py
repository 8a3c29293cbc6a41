from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "relance.collections"
    label = "collections"
    verbose_name = "Collections"
