"""Named transformations: ``n-<name>`` steps expanded from MEDIA_STORE["PRESETS"]."""

from __future__ import annotations

from media_store.conf import media_store_settings, presets
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import Step, Transformation


def preset_step(name: str) -> Step:
    """The ``n-<name>`` step for a defined preset; raises InvalidTransformationError."""
    if name not in presets():
        raise InvalidTransformationError(_unknown(name), key="n")
    return Transformation.from_steps([{"n": name}]).steps[0]


def expand(transformation: Transformation) -> Transformation:
    """Replace every ``n-<name>`` step by the preset's own steps.

    A preset must be the only parameter of its step, as a step's parameters are
    applied together and a preset is a whole chain.
    """
    if not any(step.get("n") is not None for step in transformation.steps):
        return transformation
    defined = presets()
    steps: list[Step] = []
    for step in transformation.steps:
        name = step.get("n")
        if name is None:
            steps.append(step)
            continue
        if len(step.params) > 1:
            raise InvalidTransformationError(
                "'n' (a preset) must be alone in its step; chain other parameters with ':'",
                key="n",
            )
        if name not in defined:
            raise InvalidTransformationError(_unknown(name), key="n")
        steps.extend(defined[name].steps)
    return Transformation(tuple(steps))


def only_public_presets(transformation: Transformation) -> bool:
    """True when every step is a preset that may be requested without a signature."""
    public = media_store_settings()["PUBLIC_PRESETS"]
    return bool(transformation) and all(
        len(step.params) == 1 and step.get("n") in public for step in transformation.steps
    )


def _unknown(name: str) -> str:
    known = ", ".join(sorted(presets())) or "none"
    return f"no preset named {name!r} (defined: {known})"
