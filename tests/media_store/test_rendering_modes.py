"""Decoded modes brought to 8 bits, high bit depth sources, and EXIF orientation applied late."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import ExifTags, Image, ImageChops, ImageStat

from media_store.grammar import parse
from media_store.rendering import render, to_8bit


def sixteen_bit_grey(size=(64, 48), value=32768) -> Image.Image:
    """A real I;16 image: a horizontal ramp around ``value`` (0-65535)."""
    width, height = size
    row = [min(65535, max(0, value - 8192 + (16384 * x) // width)) for x in range(width)]
    data = struct.pack(f"<{width}H", *row) * height
    return Image.frombytes("I;16", size, data)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def mean(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L")).mean[0]


def mean_16(image: Image.Image) -> float:
    """Mean of an I;16 image in 8-bit units (ImageStat bins 16-bit values wrongly)."""
    values = struct.unpack(f"<{image.width * image.height}H", image.tobytes())
    return sum(values) / len(values) / 256


@pytest.mark.parametrize(
    ("mode", "value", "expected_mode", "expected"),
    [
        ("L", 100, "L", 100),
        ("RGB", (10, 20, 30), "RGB", (10, 20, 30)),
        ("LA", (100, 50), "LA", (100, 50)),
        ("RGBA", (1, 2, 3, 4), "RGBA", (1, 2, 3, 4)),
        ("1", 1, "L", 255),
        ("I;16", 32768, "L", 128),
        ("I;16B", 65535, "L", 255),
        ("I;16L", 256, "L", 1),
        ("I", 40000, "L", 156),
        ("I", 100_000, "L", 255),  # above 16 bits: clipped, not wrapped
        ("I", -5, "L", 0),
        ("F", 0.5, "L", 127),  # 0-1 floats are scaled
        ("F", 200.0, "L", 200),  # others are taken as 0-255
        ("CMYK", (0, 0, 0, 0), "RGB", (255, 255, 255)),
        ("YCbCr", (255, 128, 128), "RGB", (255, 255, 255)),
        ("La", (100, 255), "LA", (100, 255)),
        ("RGBa", (10, 20, 30, 255), "RGBA", (10, 20, 30, 255)),
        ("PA", (0, 128), "RGBA", (0, 0, 0, 128)),
    ],
)
def test_to_8bit_table(mode, value, expected_mode, expected):
    converted = to_8bit(Image.new(mode, (4, 4), value))

    assert converted.mode == expected_mode
    assert converted.getpixel((1, 1)) == expected


def test_to_8bit_keeps_palette_transparency():
    palette = Image.new("P", (4, 4), 3)
    palette.info["transparency"] = 3

    assert to_8bit(palette).mode == "RGBA"
    assert to_8bit(Image.new("P", (4, 4), 3)).mode == "RGB"


def test_to_8bit_returns_8_bit_images_themselves():
    image = Image.new("RGB", (4, 4))

    assert to_8bit(image) is image


@pytest.mark.parametrize("chain", ["w-32", "w-32,f-jpg", "w-32,f-webp", "w-20,h-20,bl-3"])
def test_16_bit_png_rendition_keeps_its_brightness(chain):
    # Given a mid-grey 16-bit PNG (mean 8-bit brightness about 128)
    source = sixteen_bit_grey()
    data = png(source)
    assert Image.open(io.BytesIO(data)).mode == "I;16"

    # When rendered
    rendered = render(io.BytesIO(data), parse(chain))

    # Then the rendition is as bright as the source, not clipped to white
    output = Image.open(io.BytesIO(rendered.data))
    assert abs(mean(output) - mean_16(source)) < 3


# --- EXIF orientation: resampled as stored, then turned ---------------------------------------

# Stored pixels that EXIF orientation ``n`` shows as the upright image (inverse transposes).
_STORED = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright_scene() -> Image.Image:
    """Gradients on every channel and a red corner mark: no symmetry to hide a wrong turn."""
    width, height = 300, 200
    ramp = Image.linear_gradient("L")
    image = Image.merge(
        "RGB",
        (
            Image.radial_gradient("L").resize((width, height)),
            ramp.resize((width, height)),
            ramp.rotate(90).resize((width, height)),
        ),
    )
    image.paste((255, 0, 0), (0, 0, 40, 30))
    return image


def oriented_png(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    stored = image.transpose(_STORED[orientation]) if orientation in _STORED else image
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "chain",
    [
        "w-100",
        "w-120,h-120",
        "w-100,h-100,cm-pad_resize,fo-left",
        "w-50,h-40,cm-extract,x-20,y-10",
        "w-0.3,h-0.7,c-force",
        "w-320,h-320,cm-pad_extract",
        "w-90,h-90,fo-top_left:rt-90",
    ],
)
@pytest.mark.parametrize("orientation", range(2, 9))
def test_oriented_source_renders_as_its_upright_twin(chain, orientation):
    scene = upright_scene()
    expected = render(io.BytesIO(oriented_png(scene, 1)), parse(f"{chain},f-png"))

    rendered = render(io.BytesIO(oriented_png(scene, orientation)), parse(f"{chain},f-png"))

    got = Image.open(io.BytesIO(rendered.data)).convert("RGB")
    want = Image.open(io.BytesIO(expected.data)).convert("RGB")
    assert got.size == want.size
    # Lanczos on mirrored coordinates rounds a little differently, never more.
    assert max(high for _, high in ImageChops.difference(got, want).getextrema()) <= 6
