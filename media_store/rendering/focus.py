"""``fo-auto``: place a crop window where the image has the most detail.

ImageKit's smart crop is proprietary; this is the classic edge-energy
heuristic (as in smartcrop.js or libvips' ``interesting=entropy``): the
region about to be cropped is reduced to a small greyscale copy, its edges
are found, and the window with the largest sum of edge strength wins. Ties
go to the window nearest the centre, so a featureless image is cropped like
``fo-center``. The analysis copy is at most ANALYSIS_SIDE px on its long
side, so the cost is a few milliseconds whatever the source size.
"""

from __future__ import annotations

import math
from itertools import accumulate

from PIL import Image, ImageChops, ImageFilter, ImageOps

from media_store.rendering.geometry import Geometry, Locate

ANALYSIS_SIDE = 96


def locator(image: Image.Image) -> Locate:
    """A ``Locate`` reading ``image``, which may be decoded smaller than the
    geometry's source (JPEG draft): boxes are rescaled onto it."""

    def locate(geometry: Geometry, window: tuple[float, float]) -> tuple[float, float]:
        return best_window(image, geometry.rescaled(image.size), window)

    return locate


def best_window(
    image: Image.Image, geometry: Geometry, window: tuple[float, float]
) -> tuple[float, float]:
    """Top-left (in ``geometry``'s output pixels) of the most detailed ``window``."""
    out_w, out_h = geometry.size
    scale = min(1.0, ANALYSIS_SIDE / max(out_w, out_h))
    grid = (max(1, round(out_w * scale)), max(1, round(out_h * scale)))
    sample = image.resize(grid, Image.Resampling.BILINEAR, box=geometry.box, reducing_gap=2.0)
    grey = sample.convert("L")
    # FIND_EDGES clips negative responses, so it marks only the bright side of
    # an edge; adding the inverse's edges makes the measure symmetric.
    energy = ImageChops.add(
        grey.filter(ImageFilter.FIND_EDGES), ImageOps.invert(grey).filter(ImageFilter.FIND_EDGES)
    )
    # FIND_EDGES answers the image's own border with a bright frame; ignore it.
    width, height = grid
    values = list(energy.tobytes())
    for column in range(width):
        values[column] = values[(height - 1) * width + column] = 0
    for row in range(height):
        values[row * width] = values[row * width + width - 1] = 0
    table = _summed_area(values, width, height)
    span_w = min(width, max(1, round(window[0] * scale)))
    span_h = min(height, max(1, round(window[1] * scale)))
    centre = ((width - span_w) / 2, (height - span_h) / 2)
    best = (-1, 0.0, 0, 0)
    for top in range(height - span_h + 1):
        for left in range(width - span_w + 1):
            total = (
                table[top + span_h][left + span_w]
                - table[top][left + span_w]
                - table[top + span_h][left]
                + table[top][left]
            )
            distance = -math.hypot(left - centre[0], top - centre[1])
            if (total, distance) > best[:2]:
                best = (total, distance, left, top)
    _, _, left, top = best
    return (
        _to_output(left, span_w, width, window[0], out_w, scale),
        _to_output(top, span_h, height, window[1], out_h, scale),
    )


def _summed_area(values: list[int], width: int, height: int) -> list[list[int]]:
    table = [[0] * (width + 1)]
    for row in range(height):
        sums = accumulate(values[row * width : (row + 1) * width], initial=0)
        table.append([above + here for above, here in zip(table[-1], sums, strict=True)])
    return table


def _to_output(
    start: int, span: int, cells: int, window: float, extent: int, scale: float
) -> float:
    """A grid position back in output pixels, kept inside the image on that axis."""
    if window >= extent:
        # No room to slide: centre, as the fixed focus would.
        return (extent - window) / 2
    if span >= cells:
        return (extent - window) / 2
    # Centre the window where the grid window was centred.
    middle = (start + span / 2) / scale
    return min(max(middle - window / 2, 0.0), extent - window)
