"""16-bit greyscale uploads: the small variant and placeholder keep the source's brightness.

``convert("RGB")`` clips 16-bit values to white; ``derive`` and ``placeholder`` go
through media_store.rendering.to_8bit, which scales them.
"""

from __future__ import annotations

import io
import struct

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageStat

from catalog.image_files import derive, placeholder


def sixteen_bit_png(mode: str = "I;16", size=(640, 480)) -> tuple[bytes, float]:
    """A 16-bit greyscale ramp PNG and its mean brightness in 8-bit units."""
    width, height = size
    row = [8192 + (49152 * x) // width for x in range(width)]  # 0.125 to 0.875 of full scale
    order = ">" if mode == "I;16B" else "<"
    image = Image.frombytes(mode, size, struct.pack(f"{order}{width}H", *row) * height)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), sum(row) / len(row) / 256


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_derive_16_bit_png_small_variant_keeps_brightness(mode):
    data, source_mean = sixteen_bit_png(mode)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")

    derived = derive(ContentFile(data, name="grey.png"))

    small = Image.open(io.BytesIO(derived.small.read()))
    assert max(small.size) == 320
    assert abs(ImageStat.Stat(small.convert("L")).mean[0] - source_mean) < 3


def test_derive_16_bit_png_placeholder_is_mid_grey():
    data, source_mean = sixteen_bit_png()

    derived = derive(ContentFile(data, name="grey.png"))

    red, green, blue = (int(derived.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    assert red == green == blue
    assert abs(red - source_mean) < 64  # one of 8 palette colours over a ramp
    assert derived.blurhash


def test_placeholder_of_a_16_bit_image_is_not_white():
    image = Image.new("I;16", (64, 64), 32768)

    _, colour = placeholder(image)

    assert colour == "#808080"
