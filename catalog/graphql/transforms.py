"""GraphQL inputs for image transformations, turned into the media_store grammar.

A listing asks for the same few sizes for every image, so everything here is
cached by value: the input object strawberry builds from the arguments, and the
chain built from it. Cached inputs are shared between calls and never mutated.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from typing import Any, NamedTuple

import strawberry
from django.core.signals import setting_changed
from django.dispatch import receiver
from graphql import GraphQLError
from strawberry.types.arguments import InputContext

from catalog.conf import catalog_setting
from media_store.budget import (
    ChainTooLongError,
    RenderBudgetExceededError,
    check_render_budget,
)
from media_store.conf import media_store_settings, presets
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import (
    CROP_MODES,
    CROPS,
    FOCUSES,
    FORMATS,
    REGISTRY,
    Step,
    Transformation,
)
from media_store.presets import preset_step
from media_store.rendering import UnsupportedTransformationError


def _enum(name: str, values: tuple[str, ...], description: str) -> Any:
    """A GraphQL enum of one of the grammar's value lists: ``at_max`` is ``AT_MAX``."""
    members = [(value.upper(), value) for value in values]
    return strawberry.enum(enum.Enum(name, members, module=__name__), description=description)


# Built from the grammar's lists, so the schema offers exactly what URLs accept.
ImageCrop = _enum("ImageCrop", CROPS, "How the image fits a box given by both width and height.")
ImageCropMode = _enum("ImageCropMode", CROP_MODES, "Padding or extraction instead of resizing.")
ImageFocus = _enum(
    "ImageFocus", FOCUSES, "Which part of the image a crop keeps; AUTO finds the subject."
)
ImageFormat = _enum(
    "ImageFormat", FORMATS, "Output format; AUTO picks the best one the browser accepts."
)


@strawberry.input(description="One ImageKit transformation step; unset fields are left out.")
class ImageTransformInput:
    width: int | None = strawberry.field(
        default=None, description="Width in pixels; alone, the height follows the aspect ratio."
    )
    height: int | None = strawberry.field(
        default=None, description="Height in pixels; alone, the width follows the aspect ratio."
    )
    aspect_ratio: str | None = strawberry.field(
        default=None, description="Width to height, e.g. `4-3` or `4:3`, with one of width/height."
    )
    crop: ImageCrop | None = strawberry.field(default=None, description="Crop strategy.")
    crop_mode: ImageCropMode | None = strawberry.field(default=None, description="Crop mode.")
    focus: ImageFocus | None = strawberry.field(default=None, description="Crop focus.")
    x: int | None = strawberry.field(default=None, description="Left edge of an extract.")
    y: int | None = strawberry.field(default=None, description="Top edge of an extract.")
    quality: int | None = strawberry.field(default=None, description="Quality 1-100.")
    format: ImageFormat | None = strawberry.field(default=None, description="Output format.")
    blur: int | None = strawberry.field(default=None, description="Gaussian blur 1-100.")
    dpr: float | None = strawberry.field(
        default=None, description="Device pixel ratio 0.1-5; multiplies width and height."
    )
    rotation: int | None = strawberry.field(
        default=None, description="Clockwise rotation: 0, 90, 180, 270 or 360."
    )
    radius: int | None = strawberry.field(default=None, description="Corner radius in pixels.")
    background: str | None = strawberry.field(
        default=None, description="Padding colour: RRGGBB, RRGGBBAA or a CSS colour name."
    )
    grayscale: bool | None = strawberry.field(default=None, description="Grayscale.")
    sharpen: bool | None = strawberry.field(default=None, description="Sharpen.")

    @functools.cached_property
    def chain_values(self) -> tuple[tuple[str, Any], ...]:
        """The set fields as ``(name, value)`` pairs in URL order: the cache key of its step."""
        return _values(self)


# The input's fields in the order their keys are written into URLs.
FIELD_NAMES = tuple(field.name for field in dataclass_fields(ImageTransformInput))
GRAPHQL_NAMES = {
    field.python_name: field.graphql_name
    or strawberry.utils.str_converters.to_camel_case(field.python_name)
    for field in ImageTransformInput.__strawberry_definition__.fields
}
PYTHON_NAMES = {graphql_name: name for name, graphql_name in GRAPHQL_NAMES.items()}
DEFAULT_SRCSET_WIDTHS = (320, 640, 960, 1280, 1920)


def _input_from_value(
    cls: type[ImageTransformInput], value: Mapping[str, Any], context: InputContext
) -> ImageTransformInput:
    # graphql-core has already coerced every field (enums to members), and fills in
    # the published `null` defaults, so the value is a flat mapping of hashables.
    return _cached_input(cls, tuple(value.items()))


@functools.lru_cache(maxsize=256)
def _cached_input(
    cls: type[ImageTransformInput], items: tuple[tuple[str, Any], ...]
) -> ImageTransformInput:
    return cls(**{PYTHON_NAMES[name]: value for name, value in items})


# Strawberry's own conversion walks every field of the input on every resolver
# call (17 fields, for each `url` of each image); this hook replaces it with one
# cache lookup. It is strawberry's documented extension point for input types
# that build their own value (StrawberryObjectDefinition.from_input).
ImageTransformInput.__strawberry_definition__.from_input = _input_from_value


def invalid(argument: str, message: str) -> GraphQLError:
    """A GraphQL error naming the argument at fault; nothing is ever clamped."""
    return GraphQLError(
        f"Invalid {argument}: {message}",
        extensions={"code": "INVALID_TRANSFORMATION", "argument": argument},
    )


def _values(transform: ImageTransformInput) -> tuple[tuple[str, Any], ...]:
    values = []
    for name in FIELD_NAMES:
        value = getattr(transform, name)
        if value is None:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif name == "aspect_ratio":
            value = value.replace(":", "-")
        values.append((name, value))
    return tuple(values)


class Policy(NamedTuple):
    """The settings URL building follows; part of every cache key below."""

    max_side: int
    snap_widths: tuple[int, ...] | None
    max_srcset_widths: int
    max_chain_steps: int
    # The render budget's limits: the budget check below is cached per policy.
    render_limits: tuple[int, int]


@functools.cache
def policy() -> Policy:
    options = media_store_settings()
    snap = catalog_setting("SNAP_WIDTHS")
    return Policy(
        max_side=options["MAX_OUTPUT_SIDE"],
        snap_widths=tuple(sorted(set(snap))) if snap else None,
        max_srcset_widths=catalog_setting("MAX_SRCSET_WIDTHS"),
        max_chain_steps=options["MAX_CHAIN_STEPS"],
        render_limits=(options["MAX_RENDER_WORK"], options["MAX_RENDER_MEMORY"]),
    )


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CATALOG", "MEDIA_STORE"):
        policy.cache_clear()


def snap(size: int, sizes: tuple[int, ...] | None) -> int:
    """``size`` rounded up to the next of ``sizes`` (the largest if it is beyond them)."""
    if not sizes:
        return size
    return next((allowed for allowed in sizes if allowed >= size), sizes[-1])


def _snapped(values: tuple[tuple[str, Any], ...], sizes: tuple[int, ...] | None):
    """The step's width (or lone height) snapped; a height given with the width follows it."""
    if not sizes:
        return values
    given = dict(values)
    width, height = given.get("width"), given.get("height")
    if isinstance(width, int):
        given["width"] = snap(width, sizes)
        if isinstance(height, int):
            given["height"] = max(1, round(height * given["width"] / width))
    elif isinstance(height, int):
        given["height"] = snap(height, sizes)
    return tuple(given.items())


@functools.lru_cache(maxsize=1024)
def _cached_step(values: tuple[tuple[str, Any], ...], argument: str, rules: Policy) -> Step | None:
    """One input's step; raises a GraphQLError naming the argument."""
    if not values:
        return None
    values = _snapped(values, rules.snap_widths)
    try:
        (step,) = Transformation.from_sdk([dict(values)]).steps or (None,)
    except InvalidTransformationError as e:
        name = REGISTRY[e.key].name if e.key in REGISTRY else e.key or "value"
        raise invalid(f"{argument}.{GRAPHQL_NAMES.get(name, name)}", str(e)) from e
    dpr = dict(values).get("dpr", 1)
    for name in ("width", "height"):
        value = dict(values).get(name)
        if isinstance(value, int) and value * dpr > rules.max_side:
            raise invalid(
                f"{argument}.{name}",
                f"{value}px × dpr {dpr} is over the {rules.max_side}px limit.",
            )
    return step


def to_transformation(
    transform: ImageTransformInput | None = None,
    transforms: list[ImageTransformInput] | None = None,
    preset: str | None = None,
) -> Transformation | None:
    """Validate the url() arguments and return them as one chain (None when empty).

    The chain is the preset, then ``transforms`` in order, or ``transform``.
    """
    if transform is not None and transforms is not None:
        raise invalid("transforms", "give either transform or transforms, not both.")
    if preset is not None and preset not in presets():
        raise invalid("preset", f"no preset named {preset!r}; defined: {_preset_names()}.")
    return _cached_chain(
        preset,
        None if transforms is None else tuple(item.chain_values for item in transforms),
        None if transform is None else transform.chain_values,
        policy(),
    )


@functools.lru_cache(maxsize=1024)
def _cached_chain(
    preset: str | None,
    transforms: tuple[tuple[tuple[str, Any], ...], ...] | None,
    transform: tuple[tuple[str, Any], ...] | None,
    rules: Policy,
) -> Transformation | None:
    # Keyed by value, so each size of a listing is built once, not once per image.
    # The caller checks the preset against the settings; its step is just its name.
    steps = [] if preset is None else [preset_step(preset)]
    for index, values in enumerate(transforms or ()):
        steps.append(_cached_step(values, f"transforms[{index}]", rules))
    if transform is not None:
        steps.append(_cached_step(transform, "transform", rules))
    chain = tuple(step for step in steps if step is not None)
    steps_after_presets = len(chain) - (preset is not None) + len(_preset_steps(preset))
    if steps_after_presets > rules.max_chain_steps:
        raise invalid(
            "transforms",
            f"the chain has {steps_after_presets} steps (presets expanded); the limit is "
            f"{rules.max_chain_steps} (MEDIA_STORE['MAX_CHAIN_STEPS']). Combine steps.",
        )
    return Transformation(chain) if chain else None


def _preset_steps(preset: str | None) -> tuple[Step, ...]:
    return () if preset is None else presets()[preset].steps


def srcset_transformations(
    transform: ImageTransformInput | None, widths: list[int] | None, image_width: int
) -> tuple[tuple[int, Transformation], ...]:
    """One chain per width for a ``srcset``; widths beyond the image are left out.

    With both width and height in ``transform``, each entry keeps that aspect ratio.
    """
    return _cached_srcset(
        None if transform is None else transform.chain_values,
        None if widths is None else tuple(widths),
        image_width,
        policy(),
    )


@functools.lru_cache(maxsize=1024)
def _cached_srcset(
    transform: tuple[tuple[str, Any], ...] | None,
    widths: tuple[int, ...] | None,
    image_width: int,
    rules: Policy,
) -> tuple[tuple[int, Transformation], ...]:
    base = dict(transform or ())
    if "height" in base and "width" not in base:
        raise invalid(
            "transform.height",
            "srcset sets the width; give width too to fix the aspect ratio, or neither.",
        )
    requested = widths if widths is not None else DEFAULT_SRCSET_WIDTHS
    for width in requested:
        if width < 1:
            raise invalid("widths", f"widths must be positive, got {width}.")
    chosen = sorted({snap(width, rules.snap_widths) for width in requested})
    if not chosen:
        raise invalid("widths", "give at least one width, or leave widths out for the defaults.")
    if len(chosen) > rules.max_srcset_widths:
        raise invalid(
            "widths",
            f"{len(chosen)} distinct widths; the limit is {rules.max_srcset_widths} "
            "(CATALOG_MAX_SRCSET_WIDTHS). Browsers pick from a few sizes; give fewer.",
        )
    usable = [width for width in chosen if width <= image_width] or [min(chosen[0], image_width)]
    result = []
    for width in usable:
        values = {**base, "width": width}
        if base.get("width") and base.get("height"):
            values["height"] = max(1, round(width * base["height"] / base["width"]))
        step = _cached_step(tuple(values.items()), "transform", rules)
        result.append((width, Transformation((step,))))
    return tuple(result)


def check_budget(
    chain: Transformation | None, image: Any, argument: str = "transform"
) -> Transformation | None:
    """``chain``, if the local CDN's render budget allows it for ``image``'s source.

    Checked when the URL is built, so the API never hands out a URL the CDN
    would refuse (MEDIA_STORE's MAX_CHAIN_STEPS, MAX_RENDER_WORK,
    MAX_RENDER_MEMORY). Cached per chain and source size: a listing pays once
    per size, not once per image.
    """
    if chain is None:
        return None
    refusal = _budget_refusal(chain, image.width, image.height, image.mime_type, policy())
    if refusal is not None:
        code, message, extensions = refusal
        raise GraphQLError(message, extensions={"code": code, "argument": argument, **extensions})
    return chain


@functools.lru_cache(maxsize=4096)
def _budget_refusal(
    chain: Transformation, width: int, height: int, mime_type: str, rules: Policy
) -> tuple[str, str, dict[str, Any]] | None:
    # The outcome is cached, refusals included: a refused chain is refused for
    # every image of that size without estimating it again.
    try:
        check_render_budget(chain, (width, height), mime_type or None)
    except RenderBudgetExceededError as e:
        code = "CHAIN_TOO_LONG" if isinstance(e, ChainTooLongError) else "RENDER_BUDGET_EXCEEDED"
        return code, e.args[0], {"option": e.option, "limit": e.limit}
    except (ValueError, UnsupportedTransformationError) as e:
        # What planning refuses for this source: an extract outside it, an output over
        # the largest side once the source's size is known.
        return "INVALID_TRANSFORMATION", f"Invalid transformation for this image: {e}", {}
    return None


def _preset_names() -> str:
    return ", ".join(sorted(presets())) or "none"
