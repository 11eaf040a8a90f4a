from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imagekitio import ImageKit

from media_store.exceptions import InvalidTransformationError, UnknownNamedTransformationError
from media_store.grammar import (
    COLOUR_NAMES,
    CROP_MODES,
    CROPS,
    FLIPS,
    FOCUSES,
    FORMATS,
    REGISTRY,
    SDK_NAMES,
    Step,
    Transformation,
    expand_named,
    named_step,
    parse,
    parse_definition,
)

# Canonical URL spellings per key, written without the module's formatter so that
# str(parse(s)) == s checks the formatter against an independent source.
_INT = st.integers(1, 999_999_999)
_HEX = st.text("0123456789ABCDEFabcdef", min_size=6, max_size=6)
_HEX_COLOUR = st.one_of(
    _HEX, st.tuples(_HEX, st.integers(0, 99)).map(lambda p: f"{p[0]}{p[1]:02d}")
)
_FRACTION = st.integers(1, 9999).map(lambda n: f"0.{n:04d}".rstrip("0"))
_DPR = st.integers(10, 500).map(lambda n: f"{n // 100}.{n % 100:02d}".rstrip("0").rstrip("."))
_ROTATIONS = ["0", "90", "180", "270", "360", "N90", "N180", "N270", "N360", "auto"]

RAW: dict[str, st.SearchStrategy[str | None]] = {
    "w": st.one_of(_INT.map(str), _FRACTION),
    "h": st.one_of(_INT.map(str), _FRACTION),
    "ar": st.tuples(_INT, _INT).map(lambda p: f"{p[0]}-{p[1]}"),
    "c": st.sampled_from(CROPS),
    "cm": st.sampled_from(CROP_MODES),
    "fo": st.sampled_from(FOCUSES),
    "x": st.integers(0, 999_999_999).map(str),
    "y": st.integers(0, 999_999_999).map(str),
    "xc": st.integers(0, 999_999_999).map(str),
    "yc": st.integers(0, 999_999_999).map(str),
    "q": st.integers(1, 100).map(str),
    "f": st.sampled_from(FORMATS),
    "bl": st.integers(1, 100).map(str),
    "dpr": _DPR,
    "rt": st.sampled_from(_ROTATIONS),
    "r": st.one_of(st.just("max"), _INT.map(str)),
    "bg": st.one_of(_HEX_COLOUR, st.sampled_from(sorted(COLOUR_NAMES))),
    "b": st.tuples(_INT, _HEX_COLOUR).map(lambda p: f"{p[0]}_{p[1]}"),
    "e-grayscale": st.none(),
    "e-sharpen": st.one_of(st.none(), st.integers(1, 100).map(str)),
    "t": st.one_of(st.just("true"), st.integers(1, 99).map(str)),
    "fl": st.sampled_from(FLIPS),
    "orig": st.just("true"),
    "n": st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=30),
}

# Typed values per key, as an executor or the GraphQL layer would hold them.
_POSITIVE_FLOAT = st.floats(min_value=1e-4, max_value=1, exclude_max=True)
TYPED: dict[str, st.SearchStrategy[Any]] = {
    "w": st.one_of(_INT, _POSITIVE_FLOAT),
    "h": st.one_of(_INT, _POSITIVE_FLOAT),
    "ar": st.tuples(_INT, _INT),
    "x": st.integers(0, 999_999_999),
    "y": st.integers(0, 999_999_999),
    "xc": st.integers(0, 999_999_999),
    "yc": st.integers(0, 999_999_999),
    "q": st.integers(1, 100),
    "bl": st.integers(1, 100),
    "dpr": st.one_of(
        st.integers(1, 5), st.floats(0.1, 5).filter(lambda v: not float(v).is_integer())
    ),
    "rt": st.sampled_from([0, 90, 180, 270, 360, -90, -180, -270, -360, "auto"]),
    "r": st.one_of(st.just("max"), _INT),
    "b": st.tuples(_INT, _HEX_COLOUR),
    "e-grayscale": st.just(True),
    "e-sharpen": st.one_of(st.just(True), st.integers(1, 100)),
    "t": st.one_of(st.just(True), st.integers(1, 99)),
    "orig": st.just(True),
}
TYPED.update({key: RAW[key] for key in ("c", "cm", "fo", "f", "bg", "fl", "n")})


@st.composite
def canonical_specs(draw: st.DrawFn) -> str:
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.lists(st.sampled_from(sorted(RAW)), min_size=1, max_size=5, unique=True))
        parts = []
        for key in keys:
            raw = draw(RAW[key])
            parts.append(key if raw is None else f"{key}-{raw}")
        steps.append(",".join(parts))
    return ":".join(steps)


@st.composite
def transformations(draw: st.DrawFn) -> Transformation:
    steps = []
    for _ in range(draw(st.integers(0, 3))):
        keys = draw(st.lists(st.sampled_from(sorted(TYPED)), min_size=1, max_size=5, unique=True))
        steps.append(Step(tuple((key, draw(TYPED[key])) for key in keys)))
    return Transformation(tuple(steps))


def typed(transformation: Transformation) -> list[list[tuple[str, type, Any]]]:
    """Values with their types: 2 == 2.0 == True, but they are different parameters."""
    return [[(k, type(v), v) for k, v in step.params] for step in transformation.steps]


# --- round trips -------------------------------------------------------------------------------


@given(canonical_specs())
def test_parse_canonical_spec_formats_back_identically(spec: str) -> None:
    assert str(parse(spec)) == spec


@given(transformations())
def test_parse_of_formatted_transformation_is_equal(transformation: Transformation) -> None:
    parsed = parse(str(transformation))

    assert parsed == transformation
    assert typed(parsed) == typed(transformation)


@given(transformations())
def test_from_steps_of_step_mappings_is_equal(transformation: Transformation) -> None:
    mappings = [dict(step.params) for step in transformation.steps]

    assert typed(Transformation.from_steps(mappings)) == typed(transformation)


@given(st.text(alphabet="wh-0123456789.,:eNxabcdfgrtqmpsy_ ", max_size=30))
def test_parse_any_text_is_canonical_or_typed_error(spec: str) -> None:
    try:
        transformation = parse(spec)
    except InvalidTransformationError:
        return
    assert str(transformation) == spec


@given(transformations())
def test_to_sdk_gives_the_sdk_the_canonical_string(transformation: Transformation) -> None:
    sdk = ImageKit(private_key="k")

    assert sdk.helper.build_transformation_string(transformation.to_sdk()) == str(transformation)
    assert Transformation.from_sdk(transformation.to_sdk()) == transformation


# --- tables ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", []),
        ("w-300", [[("w", 300)]]),
        ("w-300,h-200:rt-90", [[("w", 300), ("h", 200)], [("rt", 90)]]),
        ("h-200,w-300", [[("h", 200), ("w", 300)]]),
        ("w-0.5,h-0.25", [[("w", 0.5), ("h", 0.25)]]),
        ("ar-4-3,w-400", [[("ar", (4, 3)), ("w", 400)]]),
        ("c-at_max_enlarge,cm-pad_extract", [[("c", "at_max_enlarge"), ("cm", "pad_extract")]]),
        ("fo-bottom_right", [[("fo", "bottom_right")]]),
        (
            "cm-extract,x-0,y-10,xc-5,yc-0",
            [[("cm", "extract"), ("x", 0), ("y", 10), ("xc", 5), ("yc", 0)]],
        ),
        ("q-1,q-100".replace(",q-100", ""), [[("q", 1)]]),
        ("q-100,f-avif,bl-100", [[("q", 100), ("f", "avif"), ("bl", 100)]]),
        ("dpr-0.1", [[("dpr", 0.1)]]),
        ("dpr-2", [[("dpr", 2)]]),
        ("dpr-2.5", [[("dpr", 2.5)]]),
        ("rt-auto", [[("rt", "auto")]]),
        ("rt-0", [[("rt", 0)]]),
        ("rt-N90", [[("rt", -90)]]),
        ("rt-360", [[("rt", 360)]]),
        ("r-max", [[("r", "max")]]),
        ("r-20", [[("r", 20)]]),
        ("bg-F3F3F3", [[("bg", "F3F3F3")]]),
        ("bg-f3f3f3", [[("bg", "f3f3f3")]]),
        ("bg-FF000050", [[("bg", "FF000050")]]),
        ("bg-rebeccapurple", [[("bg", "rebeccapurple")]]),
        ("b-5_FFF000", [[("b", (5, "FFF000"))]]),
        ("e-grayscale", [[("e-grayscale", True)]]),
        ("e-sharpen", [[("e-sharpen", True)]]),
        ("e-sharpen-10", [[("e-sharpen", 10)]]),
        (
            "w-10,e-grayscale,e-sharpen-10,h-5",
            [[("w", 10), ("e-grayscale", True), ("e-sharpen", 10), ("h", 5)]],
        ),
        ("t-true", [[("t", True)]]),
        ("t-99", [[("t", 99)]]),
        ("fl-h_v", [[("fl", "h_v")]]),
        ("orig-true", [[("orig", True)]]),
        ("n-media_library-thumb", [[("n", "media_library-thumb")]]),
        ("w-1:w-2", [[("w", 1)], [("w", 2)]]),
    ],
)
def test_parse_valid_spec_gives_typed_values(
    spec: str, expected: list[list[tuple[str, Any]]]
) -> None:
    transformation = parse(spec)

    assert [list(step.params) for step in transformation.steps] == expected
    assert [[type(v) for _, v in step.params] for step in transformation.steps] == [
        [type(v) for _, v in step] for step in expected
    ]
    assert str(transformation) == spec


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ("zz-1", "zz"),
        ("width-300", "width"),
        ("aspectRatio-16-9", "aspectRatio"),
        ("e-blur-5", "e-blur"),
        ("e", "e"),
        ("w", "w"),
        ("w-", "w"),
        ("-300", None),
        ("w-300,", None),
        ("w-300::h-2", None),
        (":", None),
        ("w-0", "w"),
        ("w-1.5", "w"),
        ("w-300.0", "w"),
        ("w-0300", "w"),
        ("w-+3", "w"),
        ("w- 3", "w"),
        ("w-1_000", "w"),
        ("w-1e3", "w"),
        ("w-nan", "w"),
        ("w-inf", "w"),
        ("w-٣", "w"),
        ("w-0.50", "w"),
        ("w-1e-05", "w"),
        ("w-0.1234567890123456789", "w"),
        ("w-1234567890", "w"),
        ("h--5", "h"),
        ("w-300,w-400", "w"),
        ("w-300,h-2,w-300", "w"),
        ("ar-4", "ar"),
        ("ar-4-0", "ar"),
        ("ar-4:3", "ar"),
        ("ar-4-3-2", "ar"),
        ("c-fit", "c"),
        ("cm-pad", "cm"),
        ("fo-face", "fo"),
        ("x--1", "x"),
        ("yc-a", "yc"),
        ("q-0", "q"),
        ("q-101", "q"),
        ("q-80.5", "q"),
        ("f-jpeg", "f"),
        ("f-gif", "f"),
        ("f-WEBP", "f"),
        ("bl-0", "bl"),
        ("bl-101", "bl"),
        ("dpr-0", "dpr"),
        ("dpr-0.05", "dpr"),
        ("dpr-5.5", "dpr"),
        ("dpr-auto", "dpr"),
        ("rt-45", "rt"),
        ("rt-N0", "rt"),
        ("rt--90", "rt"),
        ("rt-N45", "rt"),
        ("r-0", "r"),
        ("r-Max", "r"),
        ("bg-FFF", "bg"),
        ("bg-F3F3F3A0", "bg"),
        ("bg-GGGGGG", "bg"),
        ("bg-Red", "bg"),
        ("bg-#FFFFFF", "bg"),
        ("b-5", "b"),
        ("b-0_FFF000", "b"),
        ("b-5_red", "b"),
        ("b-5-FFF000", "b"),
        ("e-grayscale-true", "e-grayscale"),
        ("e-grayscale-1", "e-grayscale"),
        ("e-sharpen-0", "e-sharpen"),
        ("e-sharpen-", "e-sharpen"),
        ("t-0", "t"),
        ("t-100", "t"),
        ("t-false", "t"),
        ("fl-x", "fl"),
        ("orig-false", "orig"),
        ("orig", "orig"),
        ("n-", "n"),
        ("n-a/b", "n"),
        ("n-a.b", "n"),
    ],
)
def test_parse_bad_spec_raises_naming_key(spec: str, key: str | None) -> None:
    with pytest.raises(InvalidTransformationError) as excinfo:
        parse(spec)

    assert excinfo.value.key == key


def test_parse_non_canonical_number_names_canonical_form() -> None:
    with pytest.raises(InvalidTransformationError, match="write '300'"):
        parse("w-300.0")


def test_parse_jpeg_alias_is_rejected_with_hint() -> None:
    with pytest.raises(InvalidTransformationError, match="write 'jpg'"):
        parse("f-jpeg")


def test_invalid_transformation_error_is_value_error() -> None:
    assert issubclass(InvalidTransformationError, ValueError)


# --- Step and Transformation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ((("w", 2.0),), "w"),
        ((("w", True),), "w"),
        ((("w", "300"),), "w"),
        ((("w", 1e-5),), "w"),
        ((("q", 0),), "q"),
        ((("ar", (4, 3.0)),), "ar"),
        ((("ar", 4),), "ar"),
        ((("rt", -45),), "rt"),
        ((("e-grayscale", False),), "e-grayscale"),
        ((("t", False),), "t"),
        ((("zz", 1),), "zz"),
        ((("w", 1), ("w", 2)), "w"),
    ],
)
def test_step_invalid_typed_value_raises_naming_key(params: tuple, key: str) -> None:
    with pytest.raises(InvalidTransformationError) as excinfo:
        Step(params)

    assert excinfo.value.key == key


def test_transformation_empty_step_is_rejected() -> None:
    with pytest.raises(InvalidTransformationError):
        Transformation((Step(()),))


def test_step_get_returns_value_or_default() -> None:
    step = parse("w-300,e-grayscale").steps[0]

    assert step.get("w") == 300
    assert step.get("e-grayscale") is True
    assert step.get("h") is None
    assert step.get("h", 7) == 7


def test_transformation_is_hashable_and_falsy_when_empty() -> None:
    assert hash(parse("w-1,h-2")) == hash(parse("w-1,h-2"))
    assert not parse("")
    assert parse("w-1")
    assert parse("w-1").canonical == "w-1"


def test_from_steps_converts_values_as_the_sdk_does() -> None:
    transformation = Transformation.from_steps(
        [
            {"w": 300.0, "h": None, "e-grayscale": True, "e-sharpen": False, "t": True},
            {},
            {"w": None},
            {"ar": "4-3", "rt": -90, "b": (5, "FFF000"), "dpr": 2.5},
        ]
    )

    assert str(transformation) == "w-300,e-grayscale,t-true:ar-4-3,rt-N90,b-5_FFF000,dpr-2.5"


@pytest.mark.parametrize(
    ("steps", "key"),
    [
        ([{"zz": 1}], "zz"),
        ([{"w": 0}], "w"),
        ([{"w": True}], "w"),
        ([{"w": "300.0"}], "w"),
        ([{"ar": 4}], "ar"),
        ([{"f": "jpeg"}], "f"),
        ([{"e-grayscale": "yes"}], "e-grayscale"),
    ],
)
def test_from_steps_bad_value_raises_naming_key(steps: list[dict[str, Any]], key: str) -> None:
    with pytest.raises(InvalidTransformationError) as excinfo:
        Transformation.from_steps(steps)

    assert excinfo.value.key == key


def test_from_sdk_maps_snake_case_names() -> None:
    transformation = Transformation.from_sdk(
        [
            {"width": 300, "height": 200, "crop_mode": "pad_resize", "background": "F3F3F3"},
            {"rotation": 90},
        ]
    )

    assert str(transformation) == "w-300,h-200,cm-pad_resize,bg-F3F3F3:rt-90"


def test_from_sdk_unknown_name_raises_naming_it() -> None:
    with pytest.raises(InvalidTransformationError) as excinfo:
        Transformation.from_sdk([{"aspectRatio": "4-3"}])

    assert excinfo.value.key == "aspectRatio"


def test_sdk_names_cover_every_key_as_the_sdk_maps_them() -> None:
    from imagekitio.lib.helper import SUPPORTED_TRANSFORMS

    assert set(SDK_NAMES.values()) == set(REGISTRY)
    assert {name: SUPPORTED_TRANSFORMS[name] for name in SDK_NAMES} == SDK_NAMES
    assert SDK_NAMES["x_center"] == "xc"
    assert SDK_NAMES["grayscale"] == "e-grayscale"


def test_colour_names_are_the_ones_pillow_knows() -> None:
    from PIL import ImageColor

    assert set(ImageColor.colormap) == COLOUR_NAMES


# --- Named transformations -------------------------------------------------------------------

DEFINITIONS = {"card": parse("w-400,h-300"), "two": parse("w-10:rt-90")}


@pytest.mark.parametrize(
    ("chain", "keep", "expanded"),
    [
        ("w-10", (), "w-10"),
        ("n-card", (), "w-400,h-300"),
        ("n-two:f-webp", (), "w-10:rt-90:f-webp"),
        ("f-png:n-card:n-two", (), "f-png:w-400,h-300:w-10:rt-90"),
        ("n-card:f-webp", ("card",), "n-card:f-webp"),
        ("n-card:n-two", ("card",), "n-card:w-10:rt-90"),
        # Kept names need no definition: the server that knows them applies it.
        ("n-dashboard_only", ("dashboard_only",), "n-dashboard_only"),
    ],
)
def test_expand_named_replaces_names_by_their_steps(chain, keep, expanded) -> None:
    assert str(expand_named(parse(chain), DEFINITIONS, keep=keep)) == expanded


def test_expand_named_unknown_name_raises_with_the_name() -> None:
    with pytest.raises(UnknownNamedTransformationError) as excinfo:
        expand_named(parse("w-10:n-nope"), DEFINITIONS)

    assert (excinfo.value.name, excinfo.value.key) == ("nope", "n")
    assert isinstance(excinfo.value, InvalidTransformationError)


@pytest.mark.parametrize("keep", [(), ("card",)])
def test_expand_named_name_must_be_alone_in_its_step(keep) -> None:
    with pytest.raises(InvalidTransformationError, match="must be alone") as excinfo:
        expand_named(parse("n-card,w-10"), DEFINITIONS, keep=keep)

    assert excinfo.value.key == "n"


@pytest.mark.parametrize(("chain", "has_named"), [("w-10", False), ("w-10:n-a", True), ("", False)])
def test_transformation_knows_whether_it_names_one(chain, has_named) -> None:
    assert parse(chain).has_named is has_named


def test_parse_definition_parses_a_chain() -> None:
    assert parse_definition("card", "w-400,h-300:f-webp") == parse("w-400,h-300:f-webp")


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ("", "must be a non-empty chain"),
        ("w-400:h-abc", "step 2 'h-abc': 'h' must be"),
        ("w-400::h-3", "step 2 is empty"),
        ("w-400,zz-1", "step 1 'w-400,zz-1': unknown transformation key 'zz'"),
        ("w-10:n-card", "step 2 'n-card' names another named transformation"),
    ],
)
def test_parse_definition_names_the_bad_step(chain: str, message: str) -> None:
    with pytest.raises(InvalidTransformationError) as excinfo:
        parse_definition("card", chain)

    assert message in str(excinfo.value)


def test_parse_definition_refuses_a_name_no_url_can_carry() -> None:
    with pytest.raises(InvalidTransformationError, match="the name cannot be written as n-<name>"):
        parse_definition("my card", "w-10")


def test_named_step_refuses_a_name_no_url_can_carry() -> None:
    assert str(named_step("card_2-x")) == "n-card_2-x"
    with pytest.raises(InvalidTransformationError, match="letters, digits, _ and -"):
        named_step("my card")


def test_grammar_and_urlbuilder_import_neither_django_nor_pillow() -> None:
    code = (
        "import sys, media_store.grammar, media_store.urlbuilder\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'PIL'))\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]

    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
