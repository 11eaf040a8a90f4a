"""Presets: expanded for the local CDN's renderer, written out or named for ImageKit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from media_store.conf import media_store_settings
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import parse
from media_store.presets import expand, for_imagekit, preset_step

PRESETS = {"card": "w-400,h-300", "thumb": "w-32,h-32:e-sharpen"}


@pytest.fixture(autouse=True)
def presets(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "PRESETS": PRESETS}


def named_on_imagekit(settings, *names: str) -> None:
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "IMAGEKIT_NAMED_PRESETS": names}


@pytest.mark.parametrize(
    ("chain", "expanded"),
    [
        ("n-card", "w-400,h-300"),
        ("n-thumb:f-webp", "w-32,h-32:e-sharpen:f-webp"),
        ("w-10:n-card", "w-10:w-400,h-300"),
    ],
)
def test_for_imagekit_writes_presets_out_by_default(chain: str, expanded: str) -> None:
    assert str(for_imagekit(parse(chain))) == expanded


def test_for_imagekit_keeps_the_names_the_dashboard_has(settings) -> None:
    named_on_imagekit(settings, "card")

    assert str(for_imagekit(parse("n-card:n-thumb"))) == "n-card:w-32,h-32:e-sharpen"


def test_for_imagekit_follows_setting_changes(settings) -> None:
    chain = parse("n-card")
    assert str(for_imagekit(chain)) == "w-400,h-300"

    named_on_imagekit(settings, "card")
    assert str(for_imagekit(chain)) == "n-card"

    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"card": "w-200"},
        "IMAGEKIT_NAMED_PRESETS": (),
    }
    assert str(for_imagekit(chain)) == "w-200"


@pytest.mark.parametrize("chain", [None, parse(""), parse("w-10,f-webp")])
def test_for_imagekit_leaves_chains_without_presets_alone(chain) -> None:
    assert for_imagekit(chain) is chain


def test_for_imagekit_unknown_preset_lists_the_defined_ones() -> None:
    with pytest.raises(InvalidTransformationError, match=r"no preset named 'nope' \(defined: card"):
        for_imagekit(parse("n-nope"))


def test_expand_writes_out_every_preset(settings) -> None:
    named_on_imagekit(settings, "card")  # ImageKit's names mean nothing to the renderer

    assert str(expand(parse("n-card:n-thumb"))) == "w-400,h-300:w-32,h-32:e-sharpen"


def test_preset_step_is_the_named_step() -> None:
    assert str(preset_step("card")) == "n-card"
    with pytest.raises(InvalidTransformationError, match="no preset named 'x'"):
        preset_step("x")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("IMAGEKIT_NAMED_PRESETS", ["card", "poster"], "names undefined preset.s.: poster"),
        ("IMAGEKIT_NAMED_PRESETS", "card", "must be a list of preset names"),
        ("PUBLIC_PRESETS", ["poster"], "names undefined preset.s.: poster"),
        ("PRESETS", ["card"], "must be a dict"),
    ],
)
def test_preset_options_are_checked(settings, option: str, value, message: str) -> None:
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, option: value}

    with pytest.raises(ImproperlyConfigured, match=message):
        media_store_settings()
