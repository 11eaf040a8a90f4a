"""The catalog version: a token in the shared cache that every write to the catalog replaces.

Cached responses hold the version they were computed at and count only while it
is current (config.graphql_cache.responses), so a new token makes every entry
stale at once; they are overwritten or expire on their own.

Writes are recognised by their SQL, in an execute wrapper on every database
connection, rather than by model signals: ``QuerySet.update()``,
``bulk_create``/``bulk_update`` (the API reorders images with one), raw SQL and
data migrations send none. Any INSERT, UPDATE, DELETE or TRUNCATE naming a table
whose rows a response can hold (the catalog's, and the users' whose names images
show) replaces the token when its transaction commits: a reader that starts
after the commit sees the new data and the new token, and a reader that took the
old token can only store its result as of the old one. A rolled-back write
changes nothing and replaces nothing.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

VERSION_KEY = "graphql:catalog-version"
WRITE = re.compile(r"\s*(?:insert|update|delete|truncate|replace)\b", re.IGNORECASE)


def current() -> str:
    """The catalog version; made if the cache has none (first use, eviction, flush).

    A random token, not a counter: a counter that restarted after an eviction
    could reach a number old entries are still stored under.
    """
    return cache.get_or_set(VERSION_KEY, _new_token, None)


def bump() -> None:
    """Make every cached response stale."""
    cache.set(VERSION_KEY, _new_token(), None)


def _new_token() -> str:
    return secrets.token_hex(8)


@functools.cache
def _watched_tables() -> re.Pattern[str]:
    tables = {model._meta.db_table for model in apps.get_app_config("catalog").get_models()}
    # Images show their uploader's username and name.
    tables.add(get_user_model()._meta.db_table)
    return re.compile("|".join(re.escape(table) for table in sorted(tables)))


def touches_catalog(sql: str) -> bool:
    """Whether ``sql`` writes (or may write) to a table whose rows responses hold.

    Over-eager on purpose: a table named only in a subquery, or one whose name
    begins like a watched one (auth_user_groups), costs a cache miss, never a
    stale answer.
    """
    return WRITE.match(sql) is not None and _watched_tables().search(sql) is not None


def watch_writes(execute: Any, sql: str, params: Any, many: bool, context: dict) -> Any:
    """Execute wrapper: after a catalog write, bump the version when its transaction commits."""
    result = execute(sql, params, many, context)
    if touches_catalog(sql):
        _bump_on_commit(context["connection"])
    return result


def _bump_on_commit(connection: BaseDatabaseWrapper) -> None:
    if connection.in_atomic_block:
        # One bump per transaction, however many statements it runs.
        pending = getattr(connection, "run_on_commit", ())
        if not any(entry[1] is bump for entry in pending):
            transaction.on_commit(bump, using=connection.alias, robust=True)
    elif connection.get_autocommit():
        transaction.on_commit(bump, using=connection.alias, robust=True)  # runs now
    else:
        # Manual transaction management has no commit hook: bump now, and readers
        # that cache the old data meanwhile are invalidated by the next write.
        bump()


def install(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: add :func:`watch_writes` to a connection, once.

    First in the list: ``connection.execute_wrapper()`` blocks (the request log's
    query counter) pop the last wrapper when they end, and the connection may
    open inside one.
    """
    if watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, watch_writes)


def install_on_open_connections() -> None:
    for connection in connections.all(initialized_only=True):
        install(connection)


def bump_after_migrate(**kwargs: Any) -> None:
    """``post_migrate`` receiver: a release (README: migrate once per release) starts afresh."""
    try:
        bump()
    except Exception:  # the cache may not be reachable where migrations run
        logger.warning("Could not reset the catalog version after migrate", exc_info=True)
