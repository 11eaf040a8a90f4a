from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, features
from PIL.JpegImagePlugin import JpegImageFile

from media_store.grammar import Step, Transformation, parse
from media_store.rendering import (
    Geometry,
    InvalidSourceError,
    OutputTooLargeError,
    Rendered,
    RenderSpec,
    Resize,
    SourceTooLargeError,
    UnsupportedTransformationError,
    compile_spec,
    negotiate,
    plan,
    render,
    sniff_content_type,
)
from media_store.rendering.formats import accepts

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
WEBP = "image/avif,image/webp,*/*"


def image_bytes(
    size: tuple[int, int] = (640, 480),
    mode: str = "RGB",
    fmt: str = "JPEG",
    color: object = (51, 102, 204),
    **save: object,
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def run(data: bytes, chain: str, **kwargs: object) -> Rendered:
    return render(io.BytesIO(data), parse(chain), **kwargs)


def decode(rendered: Rendered) -> Image.Image:
    image = Image.open(io.BytesIO(rendered.data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    return buffer.getvalue()


# --- Geometry (pure) -------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "resizes", "box", "size"),
    [
        # ImageKit's documented example: 640x865 at h-200 is 148x200 (147.98 rounds up).
        ((640, 865), [Resize(height=200)], (0, 0, 640, 865), (148, 200)),
        ((640, 865), [Resize(width=300)], (0, 0, 640, 865), (300, 405)),
        # Both sides: cover, then centre crop.
        ((300, 100), [Resize(100, 100)], (100, 0, 200, 100), (100, 100)),
        ((100, 300), [Resize(100, 100)], (0, 100, 100, 200), (100, 100)),
        ((640, 480), [Resize(0.5)], (0, 0, 640, 480), (320, 240)),
        ((640, 480), [Resize(None, 0.25)], (0, 0, 640, 480), (160, 120)),
        # A later step's crop maps back onto the source: one resample for the chain.
        ((400, 200), [Resize(200), Resize(100, 100)], (100, 0, 300, 200), (100, 100)),
        ((640, 480), [Resize()], (0, 0, 640, 480), (640, 480)),
    ],
)
def test_plan_folds_steps_into_one_transform(source, resizes, box, size):
    geometry = plan(source, resizes, max_side=4096)

    assert geometry.size == size
    assert geometry.box == pytest.approx(box)


def test_plan_output_over_max_side_raises():
    with pytest.raises(OutputTooLargeError):
        plan((100, 100), [Resize(5000)], max_side=4096)


def test_geometry_rescaled_maps_box_to_draft_size():
    geometry = Geometry((4000, 3000), (1000.0, 0.0, 3000.0, 3000.0), (100, 150))

    assert geometry.rescaled((500, 375)).box == pytest.approx((125, 0, 375, 375))


# --- Chain to spec -----------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "spec"),
    [
        ("w-100", RenderSpec((Resize(100),))),
        ("w-100,h-0.5:f-webp", RenderSpec((Resize(100, 0.5), Resize()), "webp")),
        ("f-png:f-jpg,q-40", RenderSpec((Resize(), Resize()), "jpg", 40)),
    ],
)
def test_compile_spec_reads_chain(chain, spec):
    assert compile_spec(parse(chain)) == spec


@pytest.mark.parametrize(
    ("chain", "key"),
    [("rt-90", "rt"), ("w-100:bl-5", "bl"), ("w-100,c-force", "c"), ("e-grayscale", "e-grayscale")],
)
def test_compile_spec_key_not_rendered_names_key(chain, key):
    with pytest.raises(UnsupportedTransformationError) as caught:
        compile_spec(parse(chain))

    assert caught.value.key == key


def test_render_unsupported_key_raises_before_reading_source():
    chain = Transformation((Step((("w", 10),)), Step((("rt", 90),))))

    with pytest.raises(UnsupportedTransformationError, match="rt"):
        render(io.BytesIO(b"never read"), chain)


# --- Format negotiation ------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "accept", "variant", "vary"),
    [
        ("w-10", WEBP, "orig", False),
        ("f-jpg", WEBP, "jpeg", False),
        ("f-auto", WEBP, "auto-webp", True),
        ("f-auto", "image/jpeg,*/*", "auto-legacy", True),
        ("w-10:f-auto", "image/webp;q=0", "auto-legacy", True),
    ],
)
def test_negotiate_variant(chain, accept, variant, vary):
    negotiated = negotiate(parse(chain), accept)

    assert (negotiated.variant, negotiated.vary_on_accept) == (variant, vary)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("image/webp", True),
        ("text/html, image/WEBP;q=0.8", True),
        ("image/webp;q=0", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_accepts_webp(accept, expected):
    assert accepts(accept, "image/webp") is expected


# --- Sizes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "chain", "size"),
    [
        ((640, 865), "h-200", (148, 200)),
        ((640, 865), "w-300", (300, 405)),
        ((640, 865), "w-300,h-200", (300, 200)),
        ((640, 480), "w-0.5", (320, 240)),
        ((640, 480), "w-0.5,h-0.25", (320, 120)),
        ((100, 50), "w-200", (200, 100)),
        ((640, 480), "f-png", (640, 480)),
        # Steps apply in order: the second sees the first's output.
        ((200, 100), "w-50:h-100", (200, 100)),
        ((200, 100), "h-100:w-50", (50, 25)),
        ((640, 480), "w-320:h-100", (133, 100)),
        ((640, 480), "w-300,h-300:w-100", (100, 100)),
    ],
)
def test_render_size(source, chain, size):
    rendered = run(image_bytes(source), chain)

    assert (rendered.width, rendered.height) == size
    assert decode(rendered).size == size


def test_render_accepts_a_path(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes((40, 20), fmt="PNG"))

    rendered = render(path, parse("w-20"))

    assert (rendered.format, decode(rendered).size) == ("png", (20, 10))


def test_render_both_sides_crops_centre():
    # Given thirds red | green | blue, a square crop keeps only green.
    image = Image.new("RGB", (300, 100), GREEN)
    image.paste(RED, (0, 0, 100, 100))
    image.paste(BLUE, (200, 0, 300, 100))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    output = decode(run(buffer.getvalue(), "w-50,h-50"))

    # Inset 2 px: Lanczos legitimately blends a pixel of the neighbouring third at the edge.
    for point in [(2, 2), (47, 2), (25, 25), (2, 47), (47, 47)]:
        assert close_to(output.getpixel(point), GREEN), point


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


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_render_avif():
    rendered = run(image_bytes((40, 20)), "w-20,f-avif")

    assert (rendered.format, decode(rendered).size) == ("avif", (20, 10))


def test_render_transparent_to_jpeg_flattens_on_white():
    data = image_bytes((20, 20), "RGBA", "PNG", (0, 0, 0, 0))

    output = decode(run(data, "f-jpg"))

    assert close_to(output.getpixel((10, 10)), WHITE)


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
    assert resize_inputs == [(375, 500)]


def test_render_small_reduction_decodes_full_size(resize_inputs):
    run(image_bytes((400, 300)), "w-300")

    assert resize_inputs == [(400, 300)]


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
