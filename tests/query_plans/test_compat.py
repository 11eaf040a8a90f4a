"""The start-up check of the libraries' internals, and the plan cache."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from query_plans import compat
from query_plans.cache import PlanCache


def test_check_names_the_versions_when_a_library_changed(monkeypatch):
    def collect_subfields(schema, fragments):  # a changed signature
        return None

    monkeypatch.setattr(compat, "collect_subfields", collect_subfields)
    with pytest.raises(ImproperlyConfigured, match=r"graphql-core 3\.\d+\.\d+.*collect_subfields"):
        compat._check()


def test_check_passes_on_the_installed_versions():
    compat._check()


def test_plan_cache_drops_the_least_recently_used():
    cache = PlanCache(max_size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (None, 1, 3)
    info = cache.info()
    assert (info.hits, info.misses, info.size) == (3, 1, 2)
