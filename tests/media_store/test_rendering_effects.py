"""Effects: rotation, flips, bg, border, rounded corners, grayscale, blur, sharpen, trim.

Pixel checks use the quadrant image (red top-left, green top-right, blue
bottom-left, yellow bottom-right) or images drawn so positions are known.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageFilter, ImageStat

from media_store.rendering import OutputTooLargeError
from tests.media_store.test_rendering import (
    BLACK,
    BLUE,
    GREEN,
    RED,
    WEBP,
    WHITE,
    YELLOW,
    assert_samples,
    close_to,
    decode,
    encode,
    image_bytes,
    quadrants,
    run,
)


def corners(image: Image.Image) -> tuple[tuple[int, ...], ...]:
    """Pixels near the top-left, top-right, bottom-left and bottom-right corners."""
    width, height = image.size
    points = [(5, 5), (width - 6, 5), (5, height - 6), (width - 6, height - 6)]
    return tuple(image.convert("RGB").getpixel(point) for point in points)


# --- Rotation and flips ------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "size", "expected"),
    [
        # rt is clockwise: the top-left red corner goes to the top right.
        ("rt-90", (200, 400), (BLUE, RED, YELLOW, GREEN)),
        ("rt-180", (400, 200), (YELLOW, BLUE, GREEN, RED)),
        ("rt-270", (200, 400), (GREEN, YELLOW, RED, BLUE)),
        ("rt-N90", (200, 400), (GREEN, YELLOW, RED, BLUE)),
        ("rt-N270", (200, 400), (BLUE, RED, YELLOW, GREEN)),
        ("rt-0", (400, 200), (RED, GREEN, BLUE, YELLOW)),
        ("rt-360", (400, 200), (RED, GREEN, BLUE, YELLOW)),
        # auto is the EXIF orientation, which every render already applies.
        ("rt-auto", (400, 200), (RED, GREEN, BLUE, YELLOW)),
        ("fl-h", (400, 200), (GREEN, RED, YELLOW, BLUE)),
        ("fl-v", (400, 200), (BLUE, YELLOW, RED, GREEN)),
        ("fl-h_v", (400, 200), (YELLOW, BLUE, GREEN, RED)),
        ("fl-v_h", (400, 200), (YELLOW, BLUE, GREEN, RED)),
        # Geometry first, then rotation, within one step and along a chain.
        ("w-100,h-100,fo-left,rt-90", (100, 100), (BLUE, RED, BLUE, RED)),
        ("w-100,h-100,fo-left:rt-90", (100, 100), (BLUE, RED, BLUE, RED)),
        ("rt-90:w-100,h-100,fo-top", (100, 100), (BLUE, RED, BLUE, RED)),
    ],
)
def test_render_rotation_and_flip(chain, size, expected):
    output = decode(run(encode(quadrants()), chain))

    assert output.size == size
    for pixel, colour in zip(corners(output), expected, strict=True):
        assert close_to(pixel, colour), (pixel, colour)


# --- bg ----------------------------------------------------------------------

TRANSPARENT_PNG = image_bytes((20, 20), "RGBA", "PNG", (0, 0, 0, 0))


@pytest.mark.parametrize(
    ("chain", "mode", "pixel"),
    [
        # bg fills transparency even when the output could keep it (ImageKit's PNG example).
        ("bg-FF0000", "RGB", RED),
        ("bg-red", "RGB", RED),
        ("bg-rebeccapurple", "RGB", (102, 51, 153)),
        # RRGGBBAA: AA is an opacity in percent, 00-99.
        ("bg-FF000050", "RGBA", (255, 0, 0, 128)),
        ("bg-0000FF00", "RGBA", (0, 0, 255, 0)),
    ],
)
def test_render_bg_fills_transparency(chain, mode, pixel):
    output = decode(run(TRANSPARENT_PNG, chain))

    assert output.format == "PNG"
    assert output.mode == mode
    assert close_to(output.getpixel((10, 10)), pixel, tolerance=2)


def test_render_bg_leaves_opaque_pixels_alone():
    output = decode(run(encode(quadrants()), "bg-000000"))

    assert corners(output) == (RED, GREEN, BLUE, YELLOW)


# --- Border ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "chain", "size"),
    [
        (image_bytes((40, 20), color=RED, fmt="PNG"), "b-5_FFF000", (50, 30)),
        (image_bytes((640, 865)), "w-300,b-5_FFF000", (310, 415)),
        (image_bytes((640, 865)), "w-300:b-20_FF0000", (340, 445)),
    ],
)
def test_render_border_grows_the_image(data, chain, size):
    assert decode(run(data, chain)).size == size


def test_render_border_colour_surrounds_the_image():
    output = decode(run(image_bytes((40, 20), color=RED, fmt="PNG"), "b-5_FFF000"))

    assert_samples(output, {(2, 2): (255, 240, 0), (47, 27): (255, 240, 0), (25, 15): RED})


def test_render_border_on_transparent_image_is_opaque():
    output = decode(run(TRANSPARENT_PNG, "b-2_00FF00,f-png"))

    assert output.mode == "RGBA"
    assert output.getpixel((0, 0)) == (*GREEN, 255)
    assert output.getpixel((12, 12))[3] == 0


# --- Rounded corners ---------------------------------------------------------


RED_SQUARE = image_bytes((100, 100), color=RED, fmt="PNG")


@pytest.mark.parametrize(
    ("chain", "transparent", "opaque"),
    [
        ("r-20", [(0, 0), (99, 0), (0, 99), (99, 99)], [(50, 50), (1, 50), (50, 1), (10, 10)]),
        ("r-max", [(0, 0), (10, 10), (90, 90)], [(50, 50), (50, 2), (2, 50)]),
    ],
)
def test_render_round_corners_are_transparent(chain, transparent, opaque):
    output = decode(run(RED_SQUARE, chain))

    assert output.mode == "RGBA"
    for point in transparent:
        assert output.getpixel(point)[3] == 0, point
    for point in opaque:
        assert output.getpixel(point) == (*RED, 255), point


def test_render_round_max_on_a_rectangle_is_an_ellipse():
    output = decode(run(image_bytes((200, 100), color=RED, fmt="PNG"), "r-max"))

    alpha = output.getchannel("A")
    assert alpha.getpixel((100, 5)) == 255
    assert alpha.getpixel((5, 50)) == 255
    # Outside the ellipse: ((20 - 100) / 100)^2 + ((10 - 50) / 50)^2 > 1.
    assert alpha.getpixel((20, 10)) == 0


@pytest.mark.parametrize(
    ("chain", "accept", "fmt", "corner"),
    [
        # JPEG has no alpha: corners take the chain's bg, else the default black.
        ("w-50,h-50:r-10,f-jpg", "", "jpeg", BLACK),
        ("w-50,h-50:r-10,f-jpg,bg-FFFFFF", "", "jpeg", WHITE),
        # A bg in the step fills them even in a format with alpha.
        ("w-50,h-50:r-10,bg-0000FF,f-png", "", "png", BLUE),
        # The source is JPEG and no f: the output stays JPEG.
        ("w-50,h-50:r-10", "", "jpeg", BLACK),
    ],
)
def test_render_round_corners_without_alpha_get_background(chain, accept, fmt, corner):
    data = image_bytes((100, 100), color=RED)

    rendered = run(data, chain, accept=accept)
    output = decode(rendered)

    assert rendered.format == fmt
    assert output.mode == "RGB"
    assert close_to(output.getpixel((0, 0)), corner)
    assert close_to(output.getpixel((25, 25)), RED)


@pytest.mark.parametrize(("accept", "fmt"), [("", "png"), (WEBP, "webp")])
def test_render_round_corners_with_auto_format_keep_alpha(accept, fmt):
    rendered = run(image_bytes((100, 100), color=RED), "w-50:r-max,f-auto", accept=accept)

    assert rendered.format == fmt
    assert decode(rendered).getpixel((0, 0))[3] == 0


# --- Grayscale, blur, sharpen ------------------------------------------------


@pytest.mark.parametrize(
    ("source_format", "mode", "colour", "chain", "out_mode"),
    [
        ("JPEG", "RGB", RED, "w-20,e-grayscale", "L"),
        ("PNG", "RGB", RED, "e-grayscale", "L"),
        ("PNG", "RGBA", (255, 0, 0, 128), "e-grayscale", "LA"),
        ("PNG", "RGB", RED, "e-grayscale,f-jpg", "L"),
        # WebP cannot store greyscale; the pixels stay grey.
        ("PNG", "RGB", RED, "e-grayscale,f-webp", "RGB"),
    ],
)
def test_render_grayscale(source_format, mode, colour, chain, out_mode):
    output = decode(run(image_bytes((40, 20), mode, source_format, colour), chain))

    assert output.mode == out_mode
    # ITU-R 601 luma of pure red.
    red, *rest = output.convert("RGB").getpixel((5, 5))
    assert abs(red - 76) <= 6
    assert all(abs(value - red) <= 2 for value in rest)


def halves() -> bytes:
    """Black left half, white right half: one vertical edge at x = 50."""
    image = Image.new("L", (100, 40), 0)
    image.paste(255, (50, 0, 100, 40))
    return encode(image)


def soft_edge() -> Image.Image:
    return decode(run(halves(), "bl-1"))


def edge_energy(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


@pytest.mark.parametrize(("chain", "softer"), [("bl-1", "bl-10"), ("bl-10", "bl-50")])
def test_render_blur_spreads_edges_more_with_larger_radius(chain, softer):
    weak = decode(run(halves(), chain))
    strong = decode(run(halves(), softer))

    # Just left of the edge goes from black towards grey, further for a larger radius.
    assert 0 < weak.getpixel((47, 20)) < strong.getpixel((47, 20)) < 128
    assert weak.size == strong.size == (100, 40)


def test_render_blur_keeps_flat_colour():
    output = decode(run(image_bytes((40, 40), color=RED, fmt="PNG"), "bl-20"))

    assert close_to(output.getpixel((20, 20)), RED, tolerance=2)


@pytest.mark.parametrize("chain", ["e-sharpen", "e-sharpen-10", "e-sharpen-100"])
def test_render_sharpen_increases_edge_contrast(chain):
    soft = soft_edge()

    output = decode(run(encode(soft), chain))

    assert edge_energy(output) > edge_energy(soft)


def test_render_sharpen_amount_scales_the_effect():
    data = encode(soft_edge())

    weak = decode(run(data, "e-sharpen-10"))
    strong = decode(run(data, "e-sharpen-100"))

    assert edge_energy(strong) > edge_energy(weak)


# --- Trim --------------------------------------------------------------------


def framed(frame: tuple[int, int, int] = WHITE) -> Image.Image:
    """100x80: a 5 px ``frame``, a 5 px light grey ring, then a 40x40 red square on grey."""
    image = Image.new("RGB", (100, 80), frame)
    image.paste((235, 235, 235), (5, 5, 95, 75))
    image.paste(RED, (30, 20, 70, 60))
    return image


@pytest.mark.parametrize(
    ("chain", "size"),
    [
        # t-true: threshold 10; the ring differs from white by 20, so it stays.
        ("t-true", (90, 70)),
        ("t-5", (90, 70)),
        # t-30: the ring counts as background too, so only the red square is left.
        ("t-30", (40, 40)),
        # Trim comes first in its step, so w applies to the trimmed image.
        ("t-30,w-20", (20, 20)),
        # In a later step, trim sees that step's input: a white border is trimmed too.
        ("b-5_FFFFFF:t-30", (40, 40)),
    ],
)
def test_render_trim_cuts_uniform_border(chain, size):
    assert decode(run(encode(framed()), chain)).size == size


def test_render_trim_keeps_the_content():
    output = decode(run(encode(framed()), "t-30"))

    assert_samples(output, {(0, 0): RED, (39, 39): RED})


def test_render_trim_of_uniform_image_keeps_it_whole():
    assert decode(run(image_bytes((30, 20), fmt="PNG"), "t-true")).size == (30, 20)


def test_render_trim_removes_transparent_border():
    image = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (10, 20, 30, 50))

    output = decode(run(encode(image), "t-true"))

    assert output.size == (20, 30)
    assert output.getpixel((10, 15)) == (*BLUE, 255)


def test_render_trim_output_size_is_checked_after_trimming():
    # Trim makes the final size unknown before decoding; the limit still holds.
    with pytest.raises(OutputTooLargeError):
        run(encode(framed()), "t-30:w-150", max_output_side=100)
