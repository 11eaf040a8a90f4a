"""Bring any image Pillow decodes to 8 bits per channel: L, LA, RGB or RGBA.

Geometry, effects and every encoder work on those four modes. ``convert()``
alone is not enough: it clips 16-bit greyscale (``I;16``, ``I``) to 255
instead of scaling it, so a mid-grey 16-bit PNG would come out white. The
renderer and the upload code (small variant, placeholder) share this one
function. No Django here.
"""

from __future__ import annotations

from PIL import Image

EIGHT_BIT_MODES = frozenset({"L", "LA", "RGB", "RGBA"})

# 16-bit value -> 8-bit value, for Image.point on mode I (which takes a 65536-entry table).
# >> 8 maps 0-65535 evenly onto 0-255, as libpng's 16-to-8 strip does.
_SIXTEEN_TO_EIGHT = [value >> 8 for value in range(65536)]


def to_8bit(image: Image.Image) -> Image.Image:
    """``image`` in L, LA, RGB or RGBA; the same object when it already is.

    Palette images keep their transparency (RGBA) or lose the palette (RGB);
    16-bit and 32-bit integer greyscale is scaled from 0-65535, float
    greyscale from 0-1 when every value lies there, else taken as 0-255.
    """
    mode = image.mode
    if mode in EIGHT_BIT_MODES:
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        # Resizing a palette image would fall back to nearest-neighbour.
        transparent = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if mode == "La":
        return image.convert("LA")
    if mode == "RGBa":
        return image.convert("RGBA")
    if mode.startswith("I;16") or mode == "I":
        # point() with a table only takes mode I; I;16 variants convert to it losslessly.
        wide = image if mode == "I" else image.convert("I")
        return wide.point(_SIXTEEN_TO_EIGHT, "L")
    if mode == "F":
        low, high = image.getextrema()
        if low >= 0.0 and high <= 1.0:
            return image.point(lambda value: value * 255).convert("L")
        return image.convert("L")
    # CMYK, YCbCr, LAB, HSV, RGBX...: Pillow's own conversion to RGB.
    return image.convert("RGB")
