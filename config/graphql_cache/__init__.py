"""Persisted queries and the response cache of the GraphQL endpoint (a Django app).

- :mod:`~config.graphql_cache.persisted`: Apollo's automatic persisted queries
  and the allow-list mode, documents kept in the shared cache;
- :mod:`~config.graphql_cache.responses`: query results of public data in the
  shared cache, ETags, 304s and Cache-Control;
- :mod:`~config.graphql_cache.middleware`: stored responses to anonymous GETs,
  answered before sessions and authentication;
- :mod:`~config.graphql_cache.invalidation`: the catalog version every write
  replaces when it commits;
- :mod:`~config.graphql_cache.conf`: the options (``settings.GRAPHQL_CACHE``);
- ``manage.py register_persisted_queries``: lists documents for the allow-list mode.

Installed as an app for its command and its receivers; ``config.views`` uses it.
"""
