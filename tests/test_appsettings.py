"""appsettings: one reader for every app's options, cached and following setting changes."""

from __future__ import annotations

from typing import TypedDict

import pytest
from django.core.exceptions import ImproperlyConfigured

from appsettings import (
    BOOLEAN,
    POSITIVE_INT,
    TEXT,
    UNSET,
    AppSettings,
    derived_from,
    given,
    list_of,
    number_between,
    optional,
)


class ExampleSettings(TypedDict):
    SIZE: int
    LIMIT: int | None
    ENABLED: bool
    KEY: str | None


DEFAULTS: ExampleSettings = {"SIZE": 10, "LIMIT": None, "ENABLED": False, "KEY": None}


def _finish(merged):
    if merged["LIMIT"] is not None and merged["LIMIT"] < merged["SIZE"]:
        raise EXAMPLE.error("LIMIT", "must not be below SIZE")


EXAMPLE: AppSettings[ExampleSettings] = AppSettings(
    "APPSETTINGS_EXAMPLE",
    DEFAULTS,
    rules={
        "SIZE": POSITIVE_INT,
        "LIMIT": optional(POSITIVE_INT),
        "ENABLED": BOOLEAN,
        "KEY": optional(TEXT),
    },
    finish=_finish,
)
OTHER = AppSettings("APPSETTINGS_OTHER", {"WIDTHS": ()}, rules={"WIDTHS": list_of(POSITIVE_INT)})


def test_app_settings_without_setting_are_the_defaults(settings):
    settings.APPSETTINGS_EXAMPLE = None

    assert EXAMPLE() == DEFAULTS


def test_app_settings_merge_the_setting_over_the_defaults(settings):
    settings.APPSETTINGS_EXAMPLE = {"SIZE": 3, "ENABLED": True}

    assert EXAMPLE() == {**DEFAULTS, "SIZE": 3, "ENABLED": True}
    assert EXAMPLE.get("SIZE") == 3


def test_app_settings_cached_until_the_setting_changes(settings):
    settings.APPSETTINGS_EXAMPLE = {"SIZE": 3}
    first = EXAMPLE()

    assert EXAMPLE() is first
    settings.APPSETTINGS_EXAMPLE = {"SIZE": 4}
    assert EXAMPLE.get("SIZE") == 4


def test_app_settings_other_setting_changes_keep_the_cache(settings):
    settings.APPSETTINGS_EXAMPLE = {"SIZE": 3}
    first = EXAMPLE()

    settings.APPSETTINGS_OTHER = {"WIDTHS": [1]}

    assert EXAMPLE() is first


def test_app_settings_unknown_option_refused_with_the_valid_ones(settings):
    settings.APPSETTINGS_EXAMPLE = {"SIZ": 3}

    with pytest.raises(ImproperlyConfigured) as refused:
        EXAMPLE()

    assert str(refused.value) == (
        "Unknown APPSETTINGS_EXAMPLE option(s): SIZ. Valid options: SIZE, LIMIT, ENABLED, KEY."
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SIZE": 0}, "APPSETTINGS_EXAMPLE['SIZE'] must be a positive integer."),
        ({"SIZE": True}, "APPSETTINGS_EXAMPLE['SIZE'] must be a positive integer."),
        ({"LIMIT": "5"}, "APPSETTINGS_EXAMPLE['LIMIT'] must be a positive integer or None."),
        ({"ENABLED": "false"}, "APPSETTINGS_EXAMPLE['ENABLED'] must be True or False."),
        ({"LIMIT": 5}, "APPSETTINGS_EXAMPLE['LIMIT'] must not be below SIZE."),
    ],
)
def test_app_settings_invalid_value_refused_naming_the_option(settings, overrides, message):
    settings.APPSETTINGS_EXAMPLE = overrides

    with pytest.raises(ImproperlyConfigured) as refused:
        EXAMPLE()

    assert str(refused.value) == message


def test_app_settings_refusal_never_shows_the_value(settings):
    settings.APPSETTINGS_EXAMPLE = {"KEY": b"secret-signing-key"}

    with pytest.raises(ImproperlyConfigured) as refused:
        EXAMPLE()

    assert "KEY" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_app_settings_list_rule_checks_every_item(settings):
    settings.APPSETTINGS_OTHER = {"WIDTHS": [320, 0]}

    with pytest.raises(ImproperlyConfigured, match=r"must be a list of positive integers\."):
        OTHER()


def test_app_settings_number_rule_takes_ints_and_floats_in_range():
    rule = number_between(0, 60, unit="seconds")

    assert [rule.accepts(v) for v in (0, 0.5, 60, 61, -1, True, "1")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert rule.expected == "a number of seconds from 0 to 60"


def test_derived_from_recomputed_when_any_source_changes(settings):
    calls = []

    @derived_from(EXAMPLE, OTHER)
    def summary():
        calls.append(1)
        return EXAMPLE.get("SIZE"), tuple(OTHER.get("WIDTHS"))

    settings.APPSETTINGS_EXAMPLE = {"SIZE": 3}
    settings.APPSETTINGS_OTHER = {"WIDTHS": [1]}
    assert summary() == summary() == (3, (1,))
    assert len(calls) == 1

    settings.APPSETTINGS_OTHER = {"WIDTHS": [2]}
    assert summary() == (3, (2,))
    settings.APPSETTINGS_EXAMPLE = {"SIZE": 4}
    assert summary() == (4, (2,))
    assert len(calls) == 3


def test_rules_for_undeclared_options_refused():
    with pytest.raises(ValueError, match="SIZ"):
        AppSettings("APPSETTINGS_BROKEN", DEFAULTS, rules={"SIZ": POSITIVE_INT})


def test_given_leaves_out_unset_options():
    assert given(A=1, B=UNSET, C=None, D=False) == {"A": 1, "C": None, "D": False}
