"""System checks (``manage.py check``, run before ``runserver`` and ``migrate``).

Presets are read lazily, at the first URL that uses one; these checks read them
once at start-up and report every problem, naming the preset and the step.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from media_store.conf import media_store_settings, preset_error
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import parse_definition

_SETTINGS_HINT = (
    "Fix MEDIA_STORE in the settings, or the variable config/settings.py reads it from "
    "(MEDIA_*, IMAGEKIT_NAMED_PRESETS)."
)
_PRESET_HINT = "Correct that step, or remove the preset, in MEDIA_STORE['PRESETS']."


@register("media_store")
def check_presets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001 an invalid MEDIA_STORE option (a preset list naming an undefined preset
    among them), E002 a preset whose name or a step is invalid, E003 a preset with
    more steps than MAX_CHAIN_STEPS (every URL using it would be refused)."""
    try:
        options = media_store_settings()
    except ImproperlyConfigured as e:
        return [Error(str(e), hint=_SETTINGS_HINT, id="media_store.E001")]
    errors: list[CheckMessage] = []
    max_steps = options["MAX_CHAIN_STEPS"]
    for name, chain in options["PRESETS"].items():
        try:
            steps = len(parse_definition(name, chain).steps)
        except InvalidTransformationError as e:
            errors.append(Error(preset_error(name, e), hint=_PRESET_HINT, id="media_store.E002"))
            continue
        if steps > max_steps:
            errors.append(
                Error(
                    f"MEDIA_STORE['PRESETS'][{name!r}] has {steps} steps; MAX_CHAIN_STEPS is "
                    f"{max_steps}, so every URL using it would be refused.",
                    hint="Fold steps together (one step can resize, crop and apply effects), "
                    "or raise MAX_CHAIN_STEPS (MEDIA_MAX_CHAIN_STEPS).",
                    id="media_store.E003",
                )
            )
    return errors
