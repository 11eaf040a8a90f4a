"""Renderer core: formats and modes, orientation, metadata, draft decoding, errors.

Also home of the image helpers the other ``test_rendering_*`` modules import.
Geometry, effects and spec compilation have their own modules.
"""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, features
from PIL.JpegImagePlugin import JpegImageFile

from media_store.grammar import parse
from media_store.rendering import (
    InvalidSourceError,
    OutputTooLargeError,
    Rendered,
    SourceTooLargeError,
    render,
    sniff_content_type,
)

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
WEBP = "image/webp,*/*"
AVIF_WEBP = "image/avif,image/webp,*/*"
HAS_AVIF = features.check("avif")


def image_bytes(
    size: tuple[int, int] = (640, 480),
    mode: str = "RGB",
    fmt: str = "JPEG",
    color: object = (51, 102, 204),
    **save: object,
) -> bytes:
    return encode(Image.new(mode, size, color), fmt, **save)


def encode(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def quadrants(size: tuple[int, int] = (400, 200), mode: str = "RGB") -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    width, height = size
    image = Image.new(mode, size)
    for colour, box in (
        (RED, (0, 0, width // 2, height // 2)),
        (GREEN, (width // 2, 0, width, height // 2)),
        (BLUE, (0, height // 2, width // 2, height)),
        (YELLOW, (width // 2, height // 2, width, height)),
    ):
        image.paste(colour if mode == "RGB" else (*colour, 255), box)
    return image


def run(data: bytes, chain: str, **kwargs: object) -> Rendered:
    return render(io.BytesIO(data), parse(chain), **kwargs)


def decode(rendered: Rendered) -> Image.Image:
    image = Image.open(io.BytesIO(rendered.data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...] | int, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    pixel = pixel if isinstance(pixel, tuple) else (pixel,)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def assert_samples(image: Image.Image, samples: dict[tuple[int, int], tuple[int, ...]]) -> None:
    for point, expected in samples.items():
        assert close_to(image.getpixel(point), expected), (point, image.getpixel(point))


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    return buffer.getvalue()


# --- Formats and modes -------------------------------------------------------


@pytest.mark.parametrize(
    ("source_format", "mode", "color", "chain", "accept", "fmt", "out_mode"),
    [
        ("JPEG", "RGB", RED, "w-10", "", "jpeg", "RGB"),
        ("JPEG", "L", 128, "w-10", "", "jpeg", "L"),
        ("PNG", "RGBA", (255, 0, 0, 128), "w-10", "", "png", "RGBA"),
        ("PNG", "RGB", RED, "w-10,f-jpg", "", "jpeg", "RGB"),
        ("PNG", "RGBA", (255, 0, 0, 128), "w-10,f-jpg", "", "jpeg", "RGB"),
        ("PNG", "RGBA", (255, 0, 0, 128), "f-webp", "", "webp", "RGBA"),
        ("PNG", "P", 3, "w-10,f-webp", "", "webp", "RGB"),
        ("WEBP", "RGB", RED, "w-10", "", "webp", "RGB"),
        ("GIF", "P", 3, "w-10", "", "gif", "P"),
        ("JPEG", "RGB", RED, "f-auto", WEBP, "webp", "RGB"),
        ("JPEG", "RGB", RED, "f-auto", "text/html,*/*", "jpeg", "RGB"),
        ("PNG", "RGBA", (255, 0, 0, 128), "f-auto", "", "png", "RGBA"),
        # An alpha channel that is fully opaque is no reason to give up JPEG.
        ("PNG", "RGBA", (255, 0, 0, 255), "f-auto", "", "jpeg", "RGB"),
        ("BMP", "RGB", RED, "w-10", "", "jpeg", "RGB"),
        ("JPEG", "CMYK", (0, 255, 255, 0), "w-10", "", "jpeg", "RGB"),
        ("JPEG", "CMYK", (0, 255, 255, 0), "w-10,f-png", "", "png", "RGB"),
    ],
)
def test_render_format_and_mode(source_format, mode, color, chain, accept, fmt, out_mode):
    data = image_bytes((40, 20), mode, source_format, color)

    rendered = run(data, chain, accept=accept)
    output = decode(rendered)

    assert rendered.format == fmt
    assert output.format == fmt.upper()
    assert rendered.content_type == f"image/{fmt}"
    assert output.mode == out_mode


@pytest.mark.skipif(not HAS_AVIF, reason="Pillow built without AVIF")
def test_render_avif():
    rendered = run(image_bytes((40, 20)), "w-20,f-avif")

    assert (rendered.format, decode(rendered).size) == ("avif", (20, 10))


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        # ImageKit's documented default background is black.
        ("f-jpg", BLACK),
        ("f-jpg,bg-FFFFFF", WHITE),
        # The last bg of the chain also fills what later steps make transparent.
        ("bg-0000FF:f-jpg", BLUE),
    ],
)
def test_render_transparent_to_jpeg_flattens_on_background(chain, expected):
    data = image_bytes((20, 20), "RGBA", "PNG", (0, 0, 0, 0))

    output = decode(run(data, chain))

    assert output.mode == "RGB"
    assert close_to(output.getpixel((10, 10)), expected)


@pytest.mark.parametrize(
    ("accept", "alpha", "fmt"),
    [
        (AVIF_WEBP, False, "avif" if HAS_AVIF else "webp"),
        (AVIF_WEBP, True, "avif" if HAS_AVIF else "webp"),
        ("image/avif;q=0,image/webp", False, "webp"),
        (WEBP, False, "webp"),
        (WEBP, True, "webp"),
        ("image/jpeg,*/*", False, "jpeg"),
        ("*/*", True, "png"),
        ("", False, "jpeg"),
        ("", True, "png"),
    ],
)
def test_render_auto_format_from_accept_and_alpha(accept, alpha, fmt):
    colour = (255, 0, 0, 128) if alpha else (255, 0, 0, 255)
    data = image_bytes((40, 20), "RGBA", "PNG", colour)

    rendered = run(data, "w-20,f-auto", accept=accept)

    assert rendered.format == fmt
    assert decode(rendered).format == fmt.upper()
    assert (decode(rendered).mode in ("RGBA", "LA")) is (alpha and fmt != "jpeg")


def test_render_png_palette_transparency_kept():
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (10, 0, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)

    output = decode(run(buffer.getvalue(), "w-10,f-png")).convert("RGBA")

    assert output.getpixel((1, 5))[3] == 0
    assert close_to(output.getpixel((8, 5)), (255, 0, 0, 255))


def test_render_16_bit_greyscale_scales_to_8_bit():
    data = image_bytes((20, 20), "I;16", "PNG", 40_000)

    output = decode(run(data, "w-10"))

    assert output.mode == "L"
    assert close_to((output.getpixel((5, 5)),), (40_000 // 256,), tolerance=1)


def test_render_animated_gif_keeps_first_frame():
    frames = [Image.new("RGB", (20, 20), color) for color in (RED, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    output = decode(run(buffer.getvalue(), "w-10"))

    assert getattr(output, "n_frames", 1) == 1
    assert close_to(output.convert("RGB").getpixel((5, 5)), RED)


# --- Orientation and metadata ------------------------------------------------


def test_render_applies_exif_orientation():
    # Given a 200x100 landscape stored with "rotate 90 CW to display" and a red top-left.
    stored = Image.new("RGB", (200, 100), BLUE)
    stored.paste(RED, (0, 0, 40, 40))
    data = with_orientation(stored, 6)

    output = decode(run(data, "f-png"))

    # Then it is upright: portrait, with the red corner now at the top right.
    assert output.size == (100, 200)
    assert close_to(output.getpixel((95, 5)), RED, tolerance=30)
    assert close_to(output.getpixel((5, 5)), BLUE, tolerance=30)


def test_render_orientation_applies_before_geometry():
    data = with_orientation(Image.new("RGB", (200, 100), BLUE), 6)

    assert decode(run(data, "w-50")).size == (50, 100)


@pytest.mark.parametrize("chain", ["w-50", "w-50,f-png", "w-50,f-webp", "f-jpg"])
def test_render_strips_exif_and_xmp(chain):
    data = with_orientation(Image.new("RGB", (200, 100), BLUE), 6)

    output = decode(run(data, chain))

    assert not output.getexif()
    assert "exif" not in output.info
    assert "xmp" not in output.info


@pytest.mark.parametrize("chain", ["w-10", "w-10,f-webp", "w-10,f-png"])
def test_render_keeps_rgb_icc_profile(chain):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = image_bytes((40, 20), icc_profile=srgb)

    assert decode(run(data, chain)).info.get("icc_profile") == srgb


# --- Large JPEGs decode at reduced scale -----------------------------------


@pytest.fixture
def resize_inputs(monkeypatch):
    """Record the size of every image Pillow is asked to resize."""
    sizes: list[tuple[int, int]] = []
    original = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        sizes.append(self.size)
        return original(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    return sizes


def test_render_large_jpeg_decodes_with_draft(resize_inputs, monkeypatch):
    drafts = []
    original = JpegImageFile.draft
    monkeypatch.setattr(
        JpegImageFile, "draft", lambda self, *a: drafts.append(a) or original(self, *a)
    )
    data = image_bytes((4000, 3000))

    rendered = run(data, "w-100")

    assert (rendered.width, rendered.height) == (100, 75)
    assert drafts
    # libjpeg scaled by 1/8; the final resample still had >= 2x the target.
    assert resize_inputs == [(500, 375)]


def test_render_large_rotated_jpeg_with_draft_keeps_orientation(resize_inputs):
    data = with_orientation(Image.new("RGB", (4000, 3000), BLUE), 6)

    rendered = run(data, "w-100")

    assert (rendered.width, rendered.height) == (100, 133)
    # Drafted, resampled as stored, and only the 100 px result turned upright.
    assert resize_inputs == [(500, 375)]


def test_render_small_reduction_decodes_full_size(resize_inputs):
    run(image_bytes((400, 300)), "w-300")

    assert resize_inputs == [(400, 300)]


def test_render_accepts_a_path(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes((40, 20), fmt="PNG"))

    rendered = render(path, parse("w-20"))

    assert (rendered.format, decode(rendered).size) == ("png", (20, 10))


# --- orig-true ---------------------------------------------------------------


def test_render_orig_true_returns_source_bytes_ignoring_the_rest():
    data = with_orientation(Image.new("RGB", (40, 20), BLUE), 6)

    rendered = run(data, "w-10,rt-90:orig-true")

    assert rendered.data == data
    assert (rendered.content_type, rendered.format) == ("image/jpeg", "jpeg")
    assert (rendered.width, rendered.height) == (40, 20)


def test_render_orig_true_reads_a_path(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes((4, 4), fmt="PNG"))

    assert render(path, parse("orig-true")).data == path.read_bytes()


# --- Errors ----------------------------------------------------------------


def test_render_source_over_pixel_limit_raises_before_decoding(monkeypatch):
    data = image_bytes((100, 100))
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))

    with pytest.raises(SourceTooLargeError):
        run(data, "w-10", max_source_pixels=9_999)


@pytest.mark.parametrize(
    ("source", "chain", "max_side"),
    [
        ((100, 100), "w-5000", 4096),
        ((100, 100), "w-10,h-5000", 4096),
        ((100, 100), "f-png", 50),
        # WebP cannot exceed 16383 px, whatever MAX_OUTPUT_SIDE says.
        ((10, 10), "w-20000,f-webp", 100_000),
    ],
)
def test_render_output_over_limit_raises(source, chain, max_side):
    with pytest.raises(OutputTooLargeError):
        run(image_bytes(source), chain, max_output_side=max_side)


@pytest.mark.parametrize(
    "data",
    [
        b"not an image",
        image_bytes((300, 300), color=(10, 200, 30))[:400],
        image_bytes((300, 300), color=(10, 200, 30))[:-200],
    ],
    ids=["garbage", "truncated-header", "truncated-data"],
)
def test_render_unreadable_source_raises(data):
    with pytest.raises(InvalidSourceError):
        run(data, "w-10")


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_sniff_content_type(fmt, content_type):
    assert sniff_content_type(image_bytes((4, 4), fmt=fmt)[:16]) == content_type


# --- Header probe --------------------------------------------------------------------------


def test_probe_reads_size_format_mode_and_orientation_without_decoding():
    from media_store.rendering import probe

    info = probe(io.BytesIO(with_orientation(Image.new("RGB", (40, 30)), 6)))

    assert (info.size, info.format, info.mode, info.orientation) == ((30, 40), "JPEG", "RGB", 6)


def test_probe_of_png_never_decodes():
    from media_store.rendering import probe

    # Pixels cut short: decoding would fail, reading the header must not.
    data = image_bytes((400, 300), fmt="PNG")
    truncated = data[: len(data) // 2]

    info = probe(io.BytesIO(truncated))

    assert (info.size, info.format, info.orientation) == ((400, 300), "PNG", 1)
    with pytest.raises(InvalidSourceError):
        run(truncated, "w-10")


def test_probe_finds_a_png_exif_chunk_after_the_pixels():
    import struct

    from media_store.rendering import probe

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.new("RGB", (40, 30)), "PNG", exif=exif)
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(data[position : position + 12 + length])
        position += 12 + length
    # Move eXIf between the last IDAT and IEND, where Pillow's header read misses it.
    moved = [chunk for chunk in chunks if chunk[4:8] != b"eXIf"]
    (exif_chunk,) = (chunk for chunk in chunks if chunk[4:8] == b"eXIf")
    trailing = data[:8] + b"".join(moved[:-1]) + exif_chunk + moved[-1]

    info = probe(io.BytesIO(trailing))

    assert (info.size, info.orientation) == ((30, 40), 6)
    assert (run(trailing, "w-10").width, run(trailing, "w-10").height) == (10, 13)
