"""GraphQL inputs for image transformations, turned into the media_store grammar."""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLError

from media_store.conf import media_store_settings
from media_store.exceptions import InvalidTransformationError
from media_store.grammar import Transformation


@strawberry.enum(description="Output format; AUTO picks the best one the browser accepts.")
class ImageFormat(enum.Enum):
    AUTO = "auto"
    JPG = "jpg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"


@strawberry.input(description="An ImageKit transformation step.")
class ImageTransformInput:
    width: int | None = strawberry.field(
        default=None, description="Output width in pixels; alone, the height follows."
    )
    height: int | None = strawberry.field(
        default=None, description="Output height in pixels; alone, the width follows."
    )
    format: ImageFormat | None = strawberry.field(default=None, description="Output format.")


# GraphQL argument name → URL key, in the order keys are written into URLs.
ARGUMENT_KEYS = {"width": "w", "height": "h", "format": "f"}
KEY_ARGUMENTS = {key: argument for argument, key in ARGUMENT_KEYS.items()}


def _invalid(argument: str, message: str) -> GraphQLError:
    return GraphQLError(
        f"Invalid transform.{argument}: {message}",
        extensions={"code": "INVALID_TRANSFORMATION", "argument": f"transform.{argument}"},
    )


def to_transformation(transform: ImageTransformInput | None) -> Transformation | None:
    """Validate ``transform`` and return it as a grammar chain (None when empty).

    Out-of-range values raise a GraphQLError naming the argument; nothing is clamped.
    """
    if transform is None:
        return None
    step = {}
    for argument, key in ARGUMENT_KEYS.items():
        value = getattr(transform, argument)
        if value is None:
            continue
        step[key] = value.value if isinstance(value, enum.Enum) else value
    max_side = media_store_settings()["MAX_OUTPUT_SIDE"]
    for argument in ("width", "height"):
        value = getattr(transform, argument)
        if value is not None and not 1 <= value <= max_side:
            raise _invalid(argument, f"must be between 1 and {max_side}, got {value}.")
    try:
        return Transformation.from_steps([step]) or None
    except InvalidTransformationError as e:
        raise _invalid(KEY_ARGUMENTS.get(e.key or "", e.key or "value"), str(e)) from e
