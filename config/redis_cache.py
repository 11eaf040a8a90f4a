"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's backend makes a ``redis.Redis`` for every command, and redis-py (5 and
later) fills a table of some 170 response callbacks in each: 0.1-0.5 ms, more
than a round trip to a Redis on the same network, and paid by every cache read
of the response cache and the persisted queries. A client holds nothing but its
pool and options, and is safe to share between threads.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Pools live as long as this object, so their ids are never reused.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache``, with its clients reused."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
