"""App settings: each app's options with their defaults, read in one place.

An app declares its options once, as a typed dict of defaults, and reads them
through one :class:`AppSettings` (the shape of strawberry-django's
``settings.py``)::

    MEDIA_STORE = AppSettings("MEDIA_STORE", DEFAULTS, rules={"MAX_OUTPUT_SIDE": POSITIVE_INT})
    MEDIA_STORE.get("MAX_OUTPUT_SIDE")

The defaults overlaid with the Django setting of that name are checked once,
cached, and dropped on Django's ``setting_changed`` signal, so
``override_settings`` and pytest-django's ``settings`` fixture apply at once.
``config/settings.py`` sets only the options whose environment variable is set
(:func:`given`), so no default is written twice.

Why a package of its own, below every app: imports run downwards (config →
catalog → media_store, and ops beside them), and all of them use this. Inside
media_store, the lowest app, catalog, config and ops would depend on the media
store for something that has nothing to do with media. Here it imports only
Django and reads no setting at import, so ``config/settings.py`` can use it too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

Options = TypeVar("Options", bound=Mapping[str, Any])
F = TypeVar("F", bound=Callable[..., Any])


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


# The default to give ``env.int(...)`` and the like in config/settings.py: an
# unset variable then leaves the option out, and the app's default applies.
UNSET: Any = _Unset()


def given(**options: Any) -> dict[str, Any]:
    """The options whose value is not UNSET, e.g. those whose variable is set."""
    return {name: value for name, value in options.items() if value is not UNSET}


# --- Rules -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """What an option's value must be: a test and how to say it ("a positive integer")."""

    accepts: Callable[[Any], bool]
    expected: str


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


POSITIVE_INT = Rule(lambda v: _is_int(v) and v >= 1, "a positive integer")
BOOLEAN = Rule(lambda v: isinstance(v, bool), "True or False")
TEXT = Rule(lambda v: isinstance(v, str), "a string")


def optional(rule: Rule) -> Rule:
    """``rule``, or None."""
    return Rule(lambda v: v is None or rule.accepts(v), f"{rule.expected} or None")


def int_between(low: int, high: int) -> Rule:
    return Rule(lambda v: _is_int(v) and low <= v <= high, f"an integer from {low} to {high}")


def number_between(low: float, high: float, *, unit: str = "") -> Rule:
    what = f"a number of {unit}" if unit else "a number"
    return Rule(lambda v: _is_number(v) and low <= v <= high, f"{what} from {low} to {high}")


def list_of(rule: Rule) -> Rule:
    """A list or tuple whose items all follow ``rule``."""
    return Rule(
        lambda v: isinstance(v, list | tuple) and all(rule.accepts(item) for item in v),
        f"a list of {rule.expected.removeprefix('a ').removeprefix('an ')}s",
    )


# --- Settings ----------------------------------------------------------------


class AppSettings(Generic[Options]):
    """One Django setting holding a dict of an app's options, over typed defaults.

    Calling it returns every option, defaults overlaid with the setting, checked
    against ``rules``; ``finish`` may then fill in derived values or check
    options against each other (raising :meth:`error`). Raises
    ImproperlyConfigured for an unknown option or a value a rule refuses, so a
    typo fails at the first request instead of being silently ignored. Messages
    name the option, never its value (some are secrets).
    """

    def __init__(
        self,
        setting: str,
        defaults: Options,
        *,
        rules: Mapping[str, Rule] | None = None,
        finish: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.setting = setting
        self.defaults = defaults
        self.rules = dict(rules or {})
        unruled = set(self.rules) - set(defaults)
        if unruled:
            raise ValueError(f"{setting}: rules for undeclared options {sorted(unruled)}")
        self._finish = finish
        self._values: Options | None = None
        self._dependents: list[Callable[[], None]] = []
        setting_changed.connect(self._changed)

    def __call__(self) -> Options:
        values = self._values
        if values is None:
            # Threads may both compute it at first: the same answer, harmlessly.
            values = self._values = self._load()
        return values

    def get(self, name: str) -> Any:
        """One option, e.g. ``get("MAX_OUTPUT_SIDE")``."""
        return self()[name]

    def error(self, option: str, must: str) -> ImproperlyConfigured:
        """The error to raise for ``option``: ``SETTING['OPTION'] <must>.``"""
        return ImproperlyConfigured(f"{self.setting}[{option!r}] {must}.")

    def depends_on(self, *sources: AppSettings[Any]) -> None:
        """Read the options again when one of ``sources`` changes (``finish`` checks
        them against those)."""
        for source in sources:
            source._dependents.append(self.cache_clear)

    def cache_clear(self) -> None:
        self._values = None
        for clear in self._dependents:
            clear()

    def _load(self) -> Options:
        overrides: dict[str, Any] = dict(getattr(settings, self.setting, None) or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown {self.setting} option(s): {', '.join(unknown)}. "
                f"Valid options: {', '.join(self.defaults)}."
            )
        merged = {**self.defaults, **overrides}
        for option, rule in self.rules.items():
            if not rule.accepts(merged[option]):
                raise self.error(option, f"must be {rule.expected}")
        if self._finish is not None:
            self._finish(merged)
        return merged  # type: ignore[return-value]

    def _changed(self, *, setting: str, **kwargs: Any) -> None:
        if setting == self.setting:
            self.cache_clear()


def derived_from(*sources: AppSettings[Any]) -> Callable[[F], F]:
    """Cache a function until one of ``sources`` changes.

    For values computed from options (parsed presets, a policy object), which
    must be dropped with the options they were computed from. A function that
    already has a cache (``functools.lru_cache``) keeps it; others get
    ``functools.cache``.
    """

    def decorate(function: F) -> F:
        cached = function if hasattr(function, "cache_clear") else functools.cache(function)
        for source in sources:
            source._dependents.append(cached.cache_clear)  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return decorate
