"""media_store's system checks: presets read once at start-up, every problem named."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def problems(settings, **options) -> list[Error]:
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, **options}
    return run_checks(tags=["media_store"])


def test_default_presets_pass(settings):
    assert problems(settings) == []


@pytest.mark.parametrize(
    ("presets", "message"),
    [
        (
            {"card": "w-400,h-300", "hero": "w-1200:h-abc"},
            "['hero'] is invalid: step 2 'h-abc': 'h' must be",
        ),
        ({"hero": "w-1200,zz-3"}, "['hero'] is invalid: step 1 'w-1200,zz-3': unknown"),
        ({"hero": "w-10::h-10"}, "['hero'] is invalid: step 2 is empty"),
        ({"hero": "w-10:n-card"}, "['hero'] is invalid: step 2 'n-card' names another"),
        ({"hero": ""}, "['hero'] is invalid: must be a non-empty chain"),
        ({"my hero": "w-10"}, "['my hero'] is invalid: the name cannot be written as n-<name>"),
    ],
)
def test_invalid_preset_is_named_with_its_step(settings, presets, message):
    (error,) = problems(settings, PRESETS=presets)

    assert error.id == "media_store.E002"
    assert message in error.msg
    assert error.msg.startswith("MEDIA_STORE['PRESETS']")


def test_every_invalid_preset_is_reported(settings):
    found = problems(settings, PRESETS={"a": "w-abc", "b": "w-10", "c": "zz-1"})

    assert [(error.id, error.msg.split("]")[1]) for error in found] == [
        ("media_store.E002", "['a'"),
        ("media_store.E002", "['c'"),
    ]


def test_preset_longer_than_the_chain_limit_is_an_error(settings):
    (error,) = problems(settings, PRESETS={"long": "w-10:h-10:rt-90"}, MAX_CHAIN_STEPS=2)

    assert error.id == "media_store.E003"
    assert "['long'] has 3 steps; MAX_CHAIN_STEPS is 2" in error.msg


@pytest.mark.parametrize("option", ["IMAGEKIT_NAMED_PRESETS", "PUBLIC_PRESETS"])
def test_preset_list_naming_an_undefined_preset_is_an_error(settings, option):
    (error,) = problems(settings, **{option: ["card", "poster"]})

    assert error.id == "media_store.E001"
    assert f"MEDIA_STORE[{option!r}] names undefined preset(s): poster" in error.msg


def test_check_command_stops_on_an_invalid_preset(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": {"hero": "w-abc"}}

    with pytest.raises(SystemCheckError, match=r"media_store.E002.*'hero'.*step 1 'w-abc'"):
        call_command("check", stdout=StringIO(), stderr=StringIO())
