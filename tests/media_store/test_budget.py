"""check_render_budget: the one check the CDN and the GraphQL layer share, with settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from media_store import conf
from media_store.budget import (
    ChainTooLongError,
    RenderBudgetExceededError,
    check_render_budget,
    render_limits,
)
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import parse
from media_store.rendering import OutputTooLargeError

PHOTO = (4000, 3000)


@pytest.mark.parametrize(
    "chain", ["n-thumbnail", "n-card", "n-zoom", "w-1920,f-auto", "w-320,f-auto", "w-640"]
)
def test_check_render_budget_passes_what_the_catalog_asks_for(chain):
    cost = check_render_budget(parse(chain), PHOTO, "image/jpeg")

    assert cost.work <= render_limits().max_work
    assert cost.memory <= render_limits().max_memory


@pytest.mark.parametrize("source_format", ["image/jpeg", "JPEG", "jpeg"])
def test_check_render_budget_takes_mime_types_or_pillow_names(source_format):
    cost = check_render_budget(parse("w-300"), PHOTO, source_format)

    assert cost.decoded == (1000, 750)  # JPEG draft


def test_check_render_budget_costs_an_unknown_format_at_its_worst():
    known = check_render_budget(parse("w-300"), (1600, 1200), "image/jpeg")
    unknown = check_render_budget(parse("w-300"), (1600, 1200))

    assert unknown.decoded == (1600, 1200)  # no draft assumed
    assert unknown.work > known.work


@pytest.mark.parametrize(
    ("chain", "error", "option"),
    [
        ("w-1:w-2:w-3:w-4:w-5:w-6", ChainTooLongError, "MAX_CHAIN_STEPS"),
        ("w-4000,h-4000,c-force,bl-100", RenderBudgetExceededError, "MAX_RENDER_WORK"),
        ("w-4000,h-4000,c-force", RenderBudgetExceededError, "MAX_RENDER_MEMORY"),
    ],
)
def test_check_render_budget_refuses_naming_the_setting(chain, error, option):
    with pytest.raises(error) as refused:
        check_render_budget(parse(chain), PHOTO, "image/jpeg")

    assert refused.value.option == option
    assert refused.value.value > refused.value.limit == conf.get(option)


def test_check_render_budget_counts_steps_after_expanding_presets(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": {"three": "w-300:w-200:w-100"}}

    with pytest.raises(ChainTooLongError) as refused:
        check_render_budget(parse("n-three:n-three"), PHOTO, "image/jpeg")

    assert refused.value.value == 6


def test_check_render_budget_follows_the_settings(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "MAX_RENDER_WORK": 1_000_000}

    with pytest.raises(RenderBudgetExceededError) as refused:
        check_render_budget(parse("n-thumbnail"), PHOTO, "image/jpeg")

    assert refused.value.limit == 1_000_000


@pytest.mark.parametrize(
    ("chain", "error"),
    [("n-nope", InvalidTransformationError), ("w-9000", OutputTooLargeError)],
)
def test_check_render_budget_raises_what_planning_raises(chain, error):
    with pytest.raises(error):
        check_render_budget(parse(chain), PHOTO, "image/jpeg")


@pytest.mark.parametrize(
    "media_store",
    [
        {"MAX_CHAIN_STEPS": 0},
        {"MAX_RENDER_WORK": -1},
        {"MAX_RENDER_MEMORY": 1.5},
        {"MAX_CONCURRENT_RENDERS": 0},
        {"RENDER_QUEUE_TIMEOUT": -1},
        {"RENDER_QUEUE_TIMEOUT": True},
        {"RENDER_QUEUE_TIMEOUT": "0.5"},
        {"RENDITION_CACHE_MAX_BYTES": 0},
    ],
)
def test_settings_invalid_render_limits_raise_improperly_configured(settings, media_store):
    settings.MEDIA_STORE = media_store

    with pytest.raises(ImproperlyConfigured, match=next(iter(media_store))):
        conf.media_store_settings()


def test_settings_concurrent_renders_default_to_the_cores(settings, monkeypatch):
    monkeypatch.setattr(conf, "_cores", lambda: 4)
    settings.MEDIA_STORE = {"MAX_CONCURRENT_RENDERS": None}

    assert conf.get("MAX_CONCURRENT_RENDERS") == 4


@pytest.mark.parametrize(
    ("cores", "processes", "renders"),
    [(4, 1, 4), (4, 2, 2), (2, 4, 1), (1, 8, 1), (4, 3, 1)],
)
def test_settings_concurrent_renders_share_the_cores_among_server_processes(
    settings, monkeypatch, cores, processes, renders
):
    # gunicorn's workers on one host: their renders together keep to its cores.
    monkeypatch.setattr(conf, "_cores", lambda: cores)
    settings.MEDIA_STORE = {"MAX_CONCURRENT_RENDERS": None, "SERVER_PROCESSES": processes}

    assert conf.get("MAX_CONCURRENT_RENDERS") == renders


def test_settings_explicit_concurrent_renders_win_over_the_share(settings):
    settings.MEDIA_STORE = {"MAX_CONCURRENT_RENDERS": 3, "SERVER_PROCESSES": 8}

    assert conf.get("MAX_CONCURRENT_RENDERS") == 3
