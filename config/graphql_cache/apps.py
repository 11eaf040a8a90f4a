from __future__ import annotations

from django.apps import AppConfig, apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class GraphQLCacheConfig(AppConfig):
    name = "config.graphql_cache"
    label = "graphql_cache"
    verbose_name = "GraphQL cache"

    def ready(self) -> None:
        from config.graphql_cache import invalidation

        connection_created.connect(invalidation.install, dispatch_uid="graphql_cache_watch_writes")
        invalidation.install_on_open_connections()
        post_migrate.connect(
            invalidation.bump_after_migrate,
            sender=apps.get_app_config("catalog"),
            dispatch_uid="graphql_cache_bump_after_migrate",
        )
