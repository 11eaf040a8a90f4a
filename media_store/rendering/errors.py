"""Errors the renderer raises; the HTTP view maps each to a status code.

They live here, not in ``media_store.exceptions``, so the engine stays
importable without Django and owns its failure modes.
"""

from __future__ import annotations


class RenderError(Exception):
    """Base class for everything :func:`media_store.rendering.render` raises on purpose."""


class UnsupportedTransformationError(RenderError, NotImplementedError):
    """The grammar accepts ``key`` but this renderer cannot apply it yet."""

    def __init__(self, key: str, value: object = None) -> None:
        shown = key if value is None else f"{key}-{value}"
        super().__init__(f"transformation '{shown}' is not supported by the local renderer yet")
        self.key = key
        self.value = value


class CropOutOfBoundsError(UnsupportedTransformationError):
    """An extract region (``cm-extract`` with ``x``/``y``/``xc``/``yc`` or focus) leaves the image.

    ImageKit fails such a crop. This subclasses UnsupportedTransformationError
    only so callers that answer 400 for that error answer 400 here too: the
    chain is fine, it just does not fit this source.
    """

    def __init__(self, region: tuple[float, float, float, float], size: tuple[int, int]) -> None:
        RenderError.__init__(
            self,
            f"'cm' extract region {_box(region)} is outside the {size[0]}x{size[1]} image",
        )
        self.key = "cm"
        self.value = None
        self.region = region
        self.size = size


def _box(region: tuple[float, float, float, float]) -> str:
    left, top, right, bottom = (round(value) for value in region)
    return f"({left},{top})-({right},{bottom})"


class SourceTooLargeError(RenderError, ValueError):
    """The source has more pixels than allowed; detected from the header, before decoding."""

    def __init__(self, size: tuple[int, int] | None, max_pixels: int) -> None:
        # size is None when Pillow's own decompression-bomb guard refused the header.
        shown = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
        super().__init__(f"source image has {shown}, more than the {max_pixels} allowed")
        self.size = size
        self.max_pixels = max_pixels


class OutputTooLargeError(RenderError, ValueError):
    """The requested output would have a side longer than allowed."""

    def __init__(self, size: tuple[int, int], max_side: int) -> None:
        super().__init__(
            f"output would be {size[0]}x{size[1]} pixels; sides are limited to {max_side}"
        )
        self.size = size
        self.max_side = max_side


class InvalidSourceError(RenderError, ValueError):
    """The source is not an image Pillow can read, or it is corrupt."""


class RenderBudgetExceededError(RenderError, ValueError):
    """A render would cost more than a limit allows; raised before any pixel is decoded.

    ``option`` names the setting that refused it (``"MAX_RENDER_WORK"``...),
    ``limit`` is its value and ``value`` the estimate, in the same unit.
    """

    def __init__(self, message: str, *, option: str, limit: int, value: int) -> None:
        super().__init__(message)
        self.option = option
        self.limit = limit
        self.value = value


class ChainTooLongError(RenderBudgetExceededError):
    """The chain has more steps (presets expanded) than ``MAX_CHAIN_STEPS``."""
