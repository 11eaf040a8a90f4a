"""Chain to spec: keys become enums, colours and operations; steps become stages."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from media_store.grammar import COLOUR_NAMES, REGISTRY, Step, Transformation, parse
from media_store.rendering import (
    DEFAULT_BACKGROUND,
    SUPPORTED_KEYS,
    Crop,
    Focus,
    RenderSpec,
    Resize,
    Stage,
    UnsupportedTransformationError,
    compile_spec,
    negotiate,
    render,
)
from media_store.rendering.effects import (
    Blur,
    Border,
    Flatten,
    Grayscale,
    RoundCorners,
    Sharpen,
    Transpose,
)
from media_store.rendering.formats import accepts
from media_store.rendering.spec import colour
from tests.media_store.test_rendering import AVIF_WEBP, HAS_AVIF, WEBP

T = Image.Transpose
GREY_F3 = (243, 243, 243, 255)


def test_supported_keys_are_the_grammar_keys_but_named_presets():
    assert set(REGISTRY) - SUPPORTED_KEYS == {"n"}
    assert set(REGISTRY) >= SUPPORTED_KEYS


@pytest.mark.parametrize(
    ("chain", "spec"),
    [
        ("w-100", RenderSpec((Stage((Resize(100),)),))),
        ("w-100,h-0.5:f-webp", RenderSpec((Stage((Resize(100, 0.5), Resize())),), "webp")),
        ("f-png:f-jpg,q-40", RenderSpec((Stage((Resize(), Resize())),), "jpg", 40)),
        # Effects end a stage: what follows must see their pixels.
        (
            "w-300,h-300:rt-90:r-20",
            RenderSpec(
                (
                    Stage((Resize(300, 300), Resize()), (Transpose(T.ROTATE_270),)),
                    Stage((Resize(),), (RoundCorners(20),)),
                )
            ),
        ),
        # Padding ends a stage too; the step's bg pads and fills transparency.
        (
            "w-100,h-100,cm-pad_resize,bg-F3F3F3:w-50",
            RenderSpec(
                (
                    Stage(
                        (Resize(100, 100, crop=Crop.PAD_RESIZE),),
                        (Flatten(GREY_F3),),
                        None,
                        GREY_F3,
                    ),
                    Stage((Resize(50),)),
                ),
                background=GREY_F3,
            ),
        ),
        ("w-100,h-100,cm-extract", RenderSpec((Stage((Resize(100, 100, crop=Crop.EXTRACT),)),))),
        # Trim reads pixels, so a step with t starts a stage.
        ("w-100:t-5,w-50", RenderSpec((Stage((Resize(100),)), Stage((Resize(50),), trim=5)))),
        ("t-true", RenderSpec((Stage((Resize(),), trim=10),))),
    ],
)
def test_compile_spec_reads_chain(chain, spec):
    assert compile_spec(parse(chain)) == spec


@pytest.mark.parametrize(
    ("chain", "resize"),
    [
        ("w-1,h-2,c-at_max", Resize(1, 2, crop=Crop.AT_MAX)),
        ("w-1,h-2,c-at_max_enlarge", Resize(1, 2, crop=Crop.AT_MAX_ENLARGE)),
        ("w-1,h-2,c-at_least", Resize(1, 2, crop=Crop.AT_LEAST)),
        ("w-1,h-2,c-force", Resize(1, 2, crop=Crop.FORCE)),
        ("w-1,h-2,c-maintain_ratio", Resize(1, 2)),
        # cm wins over c.
        ("w-1,h-2,c-force,cm-extract", Resize(1, 2, crop=Crop.EXTRACT)),
        (
            "w-1,h-2,cm-pad_extract,fo-bottom_left",
            Resize(1, 2, crop=Crop.PAD_EXTRACT, focus=Focus.BOTTOM_LEFT),
        ),
        ("w-1,h-2,fo-auto", Resize(1, 2, focus=Focus.AUTO)),
        ("w-1,ar-4-3,dpr-2.5", Resize(1, aspect_ratio=(4, 3), dpr=2.5)),
        ("w-9,h-9,cm-extract,x-1,y-2", Resize(9, 9, crop=Crop.EXTRACT, x=1, y=2)),
        ("w-9,h-9,cm-extract,xc-1,yc-2", Resize(9, 9, crop=Crop.EXTRACT, x_center=1, y_center=2)),
    ],
)
def test_compile_spec_maps_crop_focus_and_position(chain, resize):
    (stage,) = compile_spec(parse(chain)).stages

    assert stage.resizes == (resize,)


@pytest.mark.parametrize(
    ("chain", "effects"),
    [
        ("rt-90", (Transpose(T.ROTATE_270),)),
        ("rt-N90", (Transpose(T.ROTATE_90),)),
        ("rt-180", (Transpose(T.ROTATE_180),)),
        ("rt-N270", (Transpose(T.ROTATE_270),)),
        ("rt-360", ()),
        ("rt-auto", ()),
        ("fl-h", (Transpose(T.FLIP_LEFT_RIGHT),)),
        ("fl-v", (Transpose(T.FLIP_TOP_BOTTOM),)),
        ("fl-v_h", (Transpose(T.ROTATE_180),)),
        ("bl-10", (Blur(6.0),)),
        ("e-sharpen", (Sharpen(2.0, 150),)),
        ("e-sharpen-100", (Sharpen(3.0, 250),)),
        ("e-grayscale", (Grayscale(),)),
        ("r-max", (RoundCorners(None),)),
        ("r-20", (RoundCorners(20),)),
        ("b-5_FFF000", (Border(5, (255, 240, 0, 255)),)),
        ("bg-red", (Flatten((255, 0, 0, 255)),)),
        # Fixed order within a step, whatever the order in the URL.
        (
            "bg-000000,r-10,b-2_000000,fl-h,rt-90,e-sharpen,bl-1,e-grayscale",
            (
                Grayscale(),
                Blur(1.5),
                Sharpen(2.0, 150),
                Transpose(T.ROTATE_270),
                Transpose(T.FLIP_LEFT_RIGHT),
                Border(2, (0, 0, 0, 255)),
                RoundCorners(10),
                Flatten((0, 0, 0, 255)),
            ),
        ),
    ],
)
def test_compile_spec_builds_effects(chain, effects):
    (stage,) = compile_spec(parse(chain)).stages

    assert stage.effects == effects


@pytest.mark.parametrize(
    ("value", "rgba"),
    [
        ("F3F3F3", (243, 243, 243, 255)),
        ("f3f3f3", (243, 243, 243, 255)),
        # The last pair is an opacity in percent, 00-99 (ImageKit docs).
        ("FF000050", (255, 0, 0, 128)),
        ("FF000099", (255, 0, 0, 252)),
        ("00000000", (0, 0, 0, 0)),
        ("red", (255, 0, 0, 255)),
        ("rebeccapurple", (102, 51, 153, 255)),
    ],
)
def test_colour_to_rgba(value, rgba):
    assert colour(value) == rgba


def test_colour_reads_every_name_the_grammar_accepts():
    for name in COLOUR_NAMES:
        assert len(colour(name)) == 4, name


def test_compile_spec_last_bg_is_the_chain_background():
    spec = compile_spec(parse("bg-FF0000:w-10:bg-00FF00:w-5"))

    assert spec.background == (0, 255, 0, 255)
    assert compile_spec(parse("w-10")).background is None
    assert DEFAULT_BACKGROUND == (0, 0, 0, 255)


def test_compile_spec_orig_true_ignores_everything_else():
    assert compile_spec(parse("w-10,rt-90:orig-true")) == RenderSpec((), original=True)


def test_compile_spec_named_transformation_is_unsupported():
    with pytest.raises(UnsupportedTransformationError) as caught:
        compile_spec(parse("w-10:n-thumb"))

    assert (caught.value.key, caught.value.value) == ("n", "thumb")


def test_render_unsupported_key_raises_before_reading_source():
    chain = Transformation((Step((("w", 10),)), Step((("n", "thumb"),))))

    with pytest.raises(UnsupportedTransformationError, match="n-thumb"):
        render(io.BytesIO(b"never read"), chain)


# --- Format negotiation ------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "accept", "variant", "vary"),
    [
        ("w-10", AVIF_WEBP, "orig", False),
        ("f-jpg", AVIF_WEBP, "jpeg", False),
        ("f-auto", AVIF_WEBP, "auto-avif" if HAS_AVIF else "auto-webp", True),
        ("f-auto", WEBP, "auto-webp", True),
        ("f-auto", "image/avif;q=0,image/webp", "auto-webp", True),
        ("f-auto", "image/jpeg,*/*", "auto-legacy", True),
        ("w-10:f-auto", "image/webp;q=0", "auto-legacy", True),
        ("w-10,orig-true", AVIF_WEBP, "original", False),
    ],
)
def test_negotiate_variant(chain, accept, variant, vary):
    negotiated = negotiate(parse(chain), accept)

    assert (negotiated.variant, negotiated.vary_on_accept) == (variant, vary)


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        ("image/webp", "image/webp", True),
        ("text/html, image/WEBP;q=0.8", "image/webp", True),
        ("image/webp;q=0", "image/webp", False),
        ("*/*", "image/webp", False),
        ("", "image/webp", False),
        ("image/avif,image/webp", "image/avif", True),
        ("image/*", "image/avif", False),
    ],
)
def test_accepts(accept, media_type, expected):
    assert accepts(accept, media_type) is expected
