"""Geometry: crop strategies, crop modes, focus, ar, dpr, fractions and chains.

Sizes use ImageKit's documented numbers for its 640x865 ``plant.jpeg``
(protocol notes §6). Pixel checks use a quadrant image: red top-left, green
top-right, blue bottom-left, yellow bottom-right.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from media_store.rendering import (
    Crop,
    CropOutOfBoundsError,
    Focus,
    Geometry,
    OutputTooLargeError,
    Resize,
    UnsupportedTransformationError,
    plan,
)
from tests.media_store.test_rendering import (
    BLACK,
    BLUE,
    GREEN,
    RED,
    WHITE,
    YELLOW,
    assert_samples,
    decode,
    encode,
    image_bytes,
    quadrants,
    run,
)

PLANT = (640, 865)
MR, FORCE, AT_MAX, ENLARGE, AT_LEAST = (
    Crop.MAINTAIN_RATIO,
    Crop.FORCE,
    Crop.AT_MAX,
    Crop.AT_MAX_ENLARGE,
    Crop.AT_LEAST,
)
PAD, EXTRACT, PAD_EXTRACT = Crop.PAD_RESIZE, Crop.EXTRACT, Crop.PAD_EXTRACT
FULL = (0, 0, 640, 865)

# --- plan(): pure geometry -------------------------------------------------


@pytest.mark.parametrize(
    ("source", "steps", "box", "size", "placement"),
    [
        # One side: the other follows the aspect ratio, rounded to nearest (147.98 -> 148).
        (PLANT, [Resize(height=200)], FULL, (148, 200), None),
        (PLANT, [Resize(300)], FULL, (300, 405), None),
        # Both sides, c-maintain_ratio (default): cover, then cut the overflow evenly.
        (PLANT, [Resize(300, 200)], (0, 219.1667, 640, 645.8333), (300, 200), None),
        (PLANT, [Resize(300, 200, crop=FORCE)], FULL, (300, 200), None),
        (PLANT, [Resize(300, 200, crop=AT_MAX)], FULL, (148, 200), None),
        (PLANT, [Resize(850, 1000, crop=AT_MAX)], FULL, (640, 865), None),
        (PLANT, [Resize(320, crop=AT_MAX)], FULL, (320, 433), None),
        (PLANT, [Resize(1000, crop=AT_MAX)], FULL, (640, 865), None),
        (PLANT, [Resize(850, 1000, crop=ENLARGE)], FULL, (740, 1000), None),
        (PLANT, [Resize(300, 200, crop=AT_LEAST)], FULL, (300, 405), None),
        # cm-pad_resize: fit, then pad; fo-<side> puts the image on that side.
        (PLANT, [Resize(300, 200, crop=PAD)], FULL, (300, 200), (76, 0, 224, 200)),
        (PLANT, [Resize(300, 200, crop=PAD, focus=Focus.LEFT)], FULL, (300, 200), (0, 0, 148, 200)),
        (
            PLANT,
            [Resize(300, 200, crop=PAD, focus=Focus.RIGHT)],
            FULL,
            (300, 200),
            (152, 0, 300, 200),
        ),
        (PLANT, [Resize(100, 200, crop=PAD, focus=Focus.TOP)], FULL, (100, 200), (0, 0, 100, 135)),
        (PLANT, [Resize(148, 200, crop=PAD)], FULL, (148, 200), None),
        # cm-extract: scale 1, centred, at a focus, at x/y (top-left) or xc/yc (centre).
        (PLANT, [Resize(200, 200, crop=EXTRACT)], (220, 333, 420, 533), (200, 200), None),
        (
            PLANT,
            [Resize(300, 300, crop=EXTRACT, focus=Focus.BOTTOM_RIGHT)],
            (340, 565, 640, 865),
            (300, 300),
            None,
        ),
        (
            PLANT,
            [Resize(300, 300, crop=EXTRACT, x=100, y=300)],
            (100, 300, 400, 600),
            (300, 300),
            None,
        ),
        (
            PLANT,
            [Resize(300, 300, crop=EXTRACT, x_center=300, y_center=500)],
            (150, 350, 450, 650),
            (300, 300),
            None,
        ),
        (PLANT, [Resize(200, crop=EXTRACT)], (220, 0, 420, 865), (200, 865), None),
        # cm-pad_extract: ImageKit's 600x600 -> 700x700 example.
        (
            (600, 600),
            [Resize(700, 700, crop=PAD_EXTRACT)],
            (0, 0, 600, 600),
            (700, 700),
            (50, 50, 650, 650),
        ),
        (
            (600, 600),
            [Resize(700, 300, crop=PAD_EXTRACT)],
            (0, 150, 600, 450),
            (700, 300),
            (50, 0, 650, 300),
        ),
        (
            (600, 600),
            [Resize(700, 700, crop=PAD_EXTRACT, focus=Focus.LEFT)],
            (0, 0, 600, 600),
            (700, 700),
            (0, 50, 600, 650),
        ),
        ((600, 600), [Resize(200, 200, crop=PAD_EXTRACT)], (200, 200, 400, 400), (200, 200), None),
        # ar with one side gives the other; with both it is ignored.
        (PLANT, [Resize(400, aspect_ratio=(4, 3))], (0, 192.5, 640, 672.5), (400, 300), None),
        (
            PLANT,
            [Resize(height=300, aspect_ratio=(4, 3))],
            (0, 192.5, 640, 672.5),
            (400, 300),
            None,
        ),
        (
            PLANT,
            [Resize(300, 100, aspect_ratio=(4, 3))],
            (0, 325.8333, 640, 539.1667),
            (300, 100),
            None,
        ),
        # dpr multiplies w/h; ignored without them or beyond 1-5000 px.
        (PLANT, [Resize(300, dpr=2)], FULL, (600, 811), None),
        (PLANT, [Resize(height=200, dpr=1.5)], FULL, (222, 300), None),
        (PLANT, [Resize(3000, dpr=2)], FULL, (3000, 4055), None),
        (PLANT, [Resize(5, dpr=0.1)], FULL, (5, 7), None),
        (PLANT, [Resize(dpr=2)], FULL, (640, 865), None),
        # Fractions are of the step's input.
        ((640, 480), [Resize(0.5)], (0, 0, 640, 480), (320, 240), None),
        ((640, 480), [Resize(0.5, 0.25)], (0, 120, 640, 360), (320, 120), None),
        # A later step's crop maps back onto the source: one resample for the chain.
        ((400, 200), [Resize(200), Resize(100, 100)], (100, 0, 300, 200), (100, 100), None),
        ((640, 480), [Resize(300, 300), Resize(100)], (80, 0, 560, 480), (100, 100), None),
        ((640, 480), [Resize()], (0, 0, 640, 480), (640, 480), None),
    ],
)
def test_plan_folds_steps_into_one_transform(source, steps, box, size, placement):
    geometry = plan(source, steps, max_side=10_000)

    assert geometry.size == size
    assert geometry.box == pytest.approx(box, abs=1e-3)
    assert geometry.placement == placement


def test_plan_output_over_max_side_raises():
    with pytest.raises(OutputTooLargeError):
        plan((100, 100), [Resize(5000)], max_side=4096)


@pytest.mark.parametrize(
    "resize",
    [
        Resize(300, 300, crop=EXTRACT, x_center=100),
        Resize(300, 300, crop=EXTRACT, x=400),
        Resize(300, 300, crop=EXTRACT, y=600),
        Resize(700, 700, crop=EXTRACT),
        # pad_extract pads partial overlap, but a region missing the image entirely fails.
        Resize(100, 100, crop=PAD_EXTRACT, x=700),
    ],
)
def test_plan_extract_out_of_bounds_raises(resize):
    with pytest.raises(CropOutOfBoundsError) as caught:
        plan(PLANT, [resize], max_side=4096)

    # Callers answer 400 for UnsupportedTransformationError and name the key.
    assert isinstance(caught.value, UnsupportedTransformationError)
    assert caught.value.key == "cm"


def test_plan_auto_focus_asks_locate_for_the_window():
    calls = []

    def locate(geometry, window):
        calls.append((geometry.size, window))
        return 0.0, 0.0

    geometry = plan(
        (400, 200), [Resize(200), Resize(50, 50, focus=Focus.AUTO)], max_side=4096, locate=locate
    )

    # The window is in the previous step's pixels (200x100): 100x100 of it.
    assert calls == [((200, 100), (100.0, 100.0))]
    assert geometry.box == pytest.approx((0, 0, 200, 200))


def test_plan_auto_focus_without_locate_is_centred():
    geometry = plan((400, 200), [Resize(100, 100, focus=Focus.AUTO)], max_side=4096)

    assert geometry.box == pytest.approx((100, 0, 300, 200))


def test_geometry_then_after_padding_refuses():
    padded = plan(PLANT, [Resize(300, 200, crop=PAD)], max_side=4096)

    with pytest.raises(ValueError, match="padding"):
        padded.then(Geometry.identity(padded.size))


def test_geometry_rescaled_maps_box_to_draft_size():
    geometry = Geometry((4000, 3000), (1000.0, 0.0, 3000.0, 3000.0), (100, 150))

    assert geometry.rescaled((500, 375)).box == pytest.approx((125, 0, 375, 375))


# --- render(): sizes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "chain", "size"),
    [
        (PLANT, "h-200", (148, 200)),
        (PLANT, "w-300", (300, 405)),
        (PLANT, "w-300,h-200", (300, 200)),
        (PLANT, "w-300,h-200,c-force", (300, 200)),
        (PLANT, "w-300,h-200,c-at_max", (148, 200)),
        (PLANT, "w-850,h-1000,c-at_max_enlarge", (740, 1000)),
        (PLANT, "w-300,h-200,c-at_least", (300, 405)),
        (PLANT, "w-300,h-200,cm-pad_resize", (300, 200)),
        (PLANT, "w-200,h-200,cm-extract", (200, 200)),
        ((600, 600), "w-700,h-700,cm-pad_extract", (700, 700)),
        (PLANT, "w-400,ar-4-3", (400, 300)),
        (PLANT, "w-300,dpr-2", (600, 811)),
        ((640, 480), "w-0.5", (320, 240)),
        ((640, 480), "w-0.5,h-0.25", (320, 120)),
        ((100, 50), "w-200", (200, 100)),
        ((640, 480), "f-png", (640, 480)),
        # Steps apply in order: the second sees the first's output.
        ((200, 100), "w-50:h-100", (200, 100)),
        ((200, 100), "h-100:w-50", (50, 25)),
        ((640, 480), "w-320:h-100", (133, 100)),
        ((640, 480), "w-300,h-300:w-100", (100, 100)),
        (PLANT, "w-300,h-200:rt-90", (200, 300)),
        (PLANT, "w-300,h-200,cm-pad_resize:w-150", (150, 100)),
        (PLANT, "w-300,h-200,cm-pad_resize:r-20:w-0.5", (150, 100)),
    ],
)
def test_render_size(source, chain, size):
    rendered = run(image_bytes(source), chain)

    assert (rendered.width, rendered.height) == size
    assert decode(rendered).size == size


# --- render(): where pixels land --------------------------------------------

CENTRE = {(10, 10): RED, (90, 10): GREEN, (10, 90): BLUE, (90, 90): YELLOW}


@pytest.mark.parametrize(
    ("chain", "size", "samples"),
    [
        ("w-100,h-100", (100, 100), CENTRE),
        ("w-100,h-100,fo-left", (100, 100), {(10, 10): RED, (90, 10): RED, (90, 90): BLUE}),
        ("w-100,h-100,fo-right", (100, 100), {(10, 10): GREEN, (90, 90): YELLOW}),
        ("w-100,h-100,c-force", (100, 100), CENTRE),
        ("w-200,h-200,c-at_least", (400, 200), {(10, 10): RED, (390, 190): YELLOW}),
        (
            "w-200,h-200,cm-pad_resize",
            (200, 200),
            {(100, 10): BLACK, (10, 60): RED, (190, 140): YELLOW, (100, 190): BLACK},
        ),
        ("w-200,h-200,cm-pad_resize,bg-FFFFFF", (200, 200), {(100, 10): WHITE, (10, 60): RED}),
        (
            "w-200,h-200,cm-pad_resize,fo-top,bg-FFFFFF",
            (200, 200),
            {(10, 10): RED, (190, 90): YELLOW, (100, 150): WHITE},
        ),
        (
            "w-200,h-200,cm-pad_resize,fo-bottom,bg-00FF00",
            (200, 200),
            {(100, 50): GREEN, (10, 110): RED},
        ),
        (
            "w-400,h-100,cm-pad_resize,fo-left,bg-FFFFFF",
            (400, 100),
            {(10, 10): RED, (190, 90): YELLOW, (300, 50): WHITE},
        ),
        ("w-100,h-100,cm-extract,fo-top_left", (100, 100), {(0, 0): RED, (99, 99): RED}),
        ("w-100,h-100,cm-extract,fo-bottom_right", (100, 100), {(0, 0): YELLOW, (99, 99): YELLOW}),
        ("w-100,h-50,cm-extract,x-300,y-150", (100, 50), {(0, 0): YELLOW, (99, 49): YELLOW}),
        # An extract copies pixels: the quadrant edges stay one pixel sharp.
        (
            "w-100,h-100,cm-extract,xc-200,yc-100",
            (100, 100),
            {(49, 49): RED, (50, 49): GREEN, (49, 50): BLUE, (50, 50): YELLOW},
        ),
        (
            "w-600,h-300,cm-pad_extract,bg-FFFFFF",
            (600, 300),
            {(50, 150): WHITE, (110, 60): RED, (490, 240): YELLOW, (300, 20): WHITE},
        ),
        (
            "w-600,h-100,cm-pad_extract,fo-top,bg-FFFFFF",
            (600, 100),
            {(50, 50): WHITE, (110, 50): RED, (490, 50): GREEN},
        ),
    ],
)
def test_render_crop_places_pixels(chain, size, samples):
    output = decode(run(encode(quadrants()), chain))

    assert output.size == size
    assert_samples(output.convert("RGB"), samples)


def test_render_pad_with_transparent_bg_keeps_alpha():
    output = decode(run(encode(quadrants()), "w-200,h-200,cm-pad_resize,bg-FFFFFF00,f-png"))

    assert output.mode == "RGBA"
    assert output.getpixel((100, 10))[3] == 0
    assert output.getpixel((10, 60)) == (*RED, 255)


# --- fo-auto -----------------------------------------------------------------


def detailed(size: tuple[int, int], box: tuple[int, int, int, int], stripe: int = 4) -> Image.Image:
    """Flat grey, except black and white stripes filling ``box``."""
    image = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for left in range(box[0], box[2], 2 * stripe):
        draw.rectangle((left, box[1], left + stripe - 1, box[3] - 1), fill=BLACK)
        draw.rectangle((left + stripe, box[1], left + 2 * stripe - 1, box[3] - 1), fill=WHITE)
    return image


def has_detail(image: Image.Image) -> bool:
    low, high = image.convert("L").getextrema()
    return low < 40 and high > 215


@pytest.mark.parametrize(
    ("size", "box", "chain"),
    [
        ((400, 100), (320, 20, 380, 80), "w-100,h-100"),
        ((100, 400), (20, 10, 80, 70), "w-100,h-100"),
        ((400, 100), (320, 20, 380, 80), "w-60,h-60,cm-extract"),
        ((600, 600), (40, 480, 120, 560), "w-100,h-100,cm-extract"),
    ],
)
def test_render_auto_focus_finds_the_detail_the_centre_misses(size, box, chain):
    data = encode(detailed(size, box))

    centred = decode(run(data, chain))
    smart = decode(run(data, f"{chain},fo-auto"))

    assert not has_detail(centred)
    assert has_detail(smart)


def test_render_auto_focus_on_large_jpeg_with_draft():
    data = encode(detailed((4000, 1000), (3400, 300, 3800, 700), stripe=40), "JPEG", quality=95)

    output = decode(run(data, "w-100,h-100,fo-auto"))

    assert output.size == (100, 100)
    assert has_detail(output)


def test_render_auto_focus_without_detail_is_centred():
    # Given a smooth left-to-right ramp: no edges anywhere, so every window ties.
    ramp = Image.linear_gradient("L").rotate(90).resize((400, 100)).convert("RGB")

    output = decode(run(encode(ramp), "w-100,h-100,fo-auto")).convert("L")

    # Then the centre window (x 150-250 of the ramp) is kept, as with fo-center.
    assert abs(output.getpixel((0, 50)) - ramp.getpixel((150, 50))[0]) <= 3
    assert abs(output.getpixel((99, 50)) - ramp.getpixel((249, 50))[0]) <= 3
