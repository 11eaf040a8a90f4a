"""Colours as the executor sees them: RGBA tuples, never strings."""

from __future__ import annotations

Colour = tuple[int, int, int, int]

# ImageKit documents black (000000) as bg's default. It is used wherever a
# chain needs an opaque colour and gave no ``bg``: padding (cm-pad_resize,
# cm-pad_extract) and transparency flattened for JPEG (rounded corners, PNG
# sources). One constant, so the choice is made in one place.
DEFAULT_BACKGROUND: Colour = (0, 0, 0, 255)


def is_opaque(colour: Colour) -> bool:
    return colour[3] == 255


def is_grey(colour: Colour) -> bool:
    return colour[0] == colour[1] == colour[2]
