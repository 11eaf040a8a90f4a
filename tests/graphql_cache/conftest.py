"""Fixtures for persisted queries and the response cache.

``response_cache`` switches the project to the test run's own Redis (the
response cache needs a cache every process shares) with the cache on; every
test starts from an empty cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from config.graphql_cache.bodies import recent_bodies
from tests.utils import GRAPHQL_URL


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    recent_bodies.clear()
    yield
    cache.clear()


@pytest.fixture
def response_cache(settings, redis_url) -> str:
    """The default cache is Redis (the run's own, emptied), and the response cache is on."""
    settings.CACHES = {
        "default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": redis_url}
    }
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "RESPONSE_CACHE_SECONDS": 300}
    cache.clear()
    return redis_url


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    """The ``extensions`` of Apollo's persisted query for ``document``."""
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}


def get(
    client: Client,
    *,
    query: str | None = None,
    hash_of: str | None = None,
    variables: dict | None = None,
    operation_name: str | None = None,
    **headers: str,
):
    """A GET as Apollo's HttpLink sends it: ``query`` in full, or the hash of ``hash_of``."""
    params = {}
    if query is not None:
        params["query"] = query
    if hash_of is not None:
        params["extensions"] = json.dumps(persisted(hash_of))
    if variables is not None:
        params["variables"] = json.dumps(variables)
    if operation_name is not None:
        params["operationName"] = operation_name
    return client.get(GRAPHQL_URL, params, headers={"Accept": "application/json", **headers})


def post(client: Client, body: dict[str, Any], **headers: str):
    return client.post(
        GRAPHQL_URL, json.dumps(body), content_type="application/json", headers=headers
    )


def error_code(response) -> str:
    (error,) = response.json()["errors"]
    return error["extensions"]["code"]
