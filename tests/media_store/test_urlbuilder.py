from __future__ import annotations

import random
import time
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imagekitio import ImageKit

from media_store.grammar import Transformation, parse
from media_store.urlbuilder import UrlBuilder

E = "https://ik.imagekit.io/demo"
NOW = 1700000000.75


@cache
def sdk(private_key: str) -> ImageKit:
    return ImageKit(private_key=private_key)


def sdk_url(
    private_key: str,
    endpoint: str,
    src: str,
    transformation: Transformation | None,
    position: str = "path",
    **options: Any,
) -> str:
    return sdk(private_key).helper.build_url(
        src=src,
        url_endpoint=endpoint,
        transformation=transformation.to_sdk() if transformation else None,
        transformation_position=position,
        **options,
    )


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> float:
    # Patched on the module, so our builder and the SDK both see it.
    monkeypatch.setattr(time, "time", lambda: NOW)
    return NOW


# --- the worked examples of docs imagekit-protocol.md section 5 -------------------------------


def test_build_example_1_query_position() -> None:
    url = UrlBuilder(E, "private_key_test").build(
        "/products/shoe.jpg", parse("w-300,h-200"), position="query"
    )

    assert url == "https://ik.imagekit.io/demo/products/shoe.jpg?tr=w-300,h-200"


def test_build_example_2_path_position_chain() -> None:
    transformation = Transformation.from_sdk(
        [
            {"width": 300, "height": 200, "crop_mode": "pad_resize", "background": "F3F3F3"},
            {"rotation": 90},
        ]
    )

    url = UrlBuilder(E, "private_key_test").build("/products/shoe.jpg", transformation)

    assert url == (
        "https://ik.imagekit.io/demo/tr:w-300,h-200,cm-pad_resize,bg-F3F3F3:rt-90/products/shoe.jpg"
    )


def test_build_example_3_many_parameters() -> None:
    transformation = Transformation.from_sdk(
        [
            {
                "width": 0.5,
                "aspect_ratio": "4-3",
                "crop": "maintain_ratio",
                "focus": "auto",
                "quality": 80,
                "format": "auto",
                "dpr": 2,
                "blur": 10,
                "radius": "max",
                "grayscale": True,
            }
        ]
    )

    url = UrlBuilder(E, "private_key_test").build(
        "/products/shoe.jpg", transformation, position="query"
    )

    assert url == (
        "https://ik.imagekit.io/demo/products/shoe.jpg"
        "?tr=w-0.5,ar-4-3,c-maintain_ratio,fo-auto,q-80,f-auto,dpr-2,bl-10,r-max,e-grayscale"
    )


def test_build_example_4_signed_path() -> None:
    url = UrlBuilder(E, "private_key_test").build("/products/shoe.jpg", parse("w-400"), signed=True)

    assert url == (
        "https://ik.imagekit.io/demo/tr:w-400/products/shoe.jpg"
        "?ik-s=f711e37948cd0d66d82b14e8765262e50d8a36a0"
    )


def test_build_example_5_expiring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1700000000)

    url = UrlBuilder(E, "private_key_test").build(
        "/products/shoe.jpg", parse("h-300"), position="query", expires_in=600
    )

    assert url == (
        "https://ik.imagekit.io/demo/products/shoe.jpg?tr=h-300"
        "&ik-t=1700000600&ik-s=3c109a1a91014526408dec2b2b567732872611d5"
    )


def test_build_example_6_local_endpoint_with_slash() -> None:
    builder = UrlBuilder("http://127.0.0.1:8000/media/", "private_key_test")

    url = builder.build("/x/y.png", parse("w-50,f-webp"), position="query", signed=True)

    assert url == (
        "http://127.0.0.1:8000/media/x/y.png?tr=w-50,f-webp"
        "&ik-s=439d03eea18c330ad99608edf468280ac29d0bcb"
    )


def test_build_example_7_upstream_signing_vector() -> None:
    builder = UrlBuilder("https://ik.imagekit.io/demo/", "dummy-key")

    url = builder.build("sdk-testing-files/future-search.png", signed=True)

    assert url == (
        "https://ik.imagekit.io/demo/sdk-testing-files/future-search.png"
        "?ik-s=32dbbbfc5f945c0403c71b54c38e76896ef2d6b0"
    )


def test_build_absolute_src_example_ignores_endpoint() -> None:
    url = UrlBuilder(E).build(
        "https://cdn.example.com/img/a b.png?v=1", parse("w-100"), query_parameters={"x": "1"}
    )

    assert url == "https://cdn.example.com/img/a b.png?v=1&x=1&tr=w-100"


# --- byte identity with the SDK ---------------------------------------------------------------

ENDPOINTS = [
    "https://ik.imagekit.io/demo",
    "https://ik.imagekit.io/demo/",
    "http://127.0.0.1:8000/media/",
    "https://ik.imagekit.io",
    "https://ik.imagekit.io/",
    "https://ik.imagekit.io/a/b//",
    "https://ik.imagekit.io/demo?v=1&w=a+b",
    "HTTPS://IK.imagekit.io/Demo",
    "ik.imagekit.io/demo",
]
SOURCES = [
    "/products/shoe.jpg",
    "shoe.jpg",
    "/a.jpg",
    "a b/c d.png",
    "/ünïcödé/日本.jpg",
    "img/😀.webp",
    "/what?x=1.jpg",
    "/hash#frag.png",
    "/100%25 real%.jpg",
    "//double//slash//",
    "/trailing/",
    "/",
    "a+b=c&d;e@f:g!$'()*,~.jpg",
    "tab\tnew\nline.jpg",
    "[brackets]{braces}|pipe^`.jpg",
    "/PLEASEREPLACEJUSTBEFORESIGN.jpg",
    "https://cdn.example.com/img/a b.png?v=1",
    "http://other.host/x.jpg?a=1&a=2&b=",
    "https://cdn.example.com/p.jpg#frag",
    "https://ik.imagekit.io/demo/abs.jpg",
]
SPECS = [
    "",
    "w-300",
    "w-300,h-200",
    "w-300,h-200,f-webp",
    "w-0.5,ar-4-3,c-maintain_ratio,fo-auto,q-80,f-auto,dpr-2,bl-10,r-max,e-grayscale",
    "w-300,h-200,cm-pad_resize,bg-F3F3F3:rt-90",
    "e-sharpen,t-true:orig-true",
    "e-sharpen-10,rt-N90,b-5_FFF000,fl-h_v",
    "cm-extract,x-10,y-0,xc-5,yc-7,n-preset_1-a",
    "dpr-2.5,bg-red,t-5,h-0.25",
]
KEYS = ["private_key_test", "k" * 100, "ключ"]
QUERIES: list[dict[str, Any] | None] = [
    None,
    {},
    {"v": 1},
    {"a": "x y", "b": "ü"},
    {"tr": "mine"},
    {"ik-s": "x", "n": 1.5},
]


def generated_cases(count: int, seed: int = 20240601) -> list[tuple[Any, ...]]:
    """Deterministic, varied build_url arguments: (key, endpoint, src, spec, position, options)."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        options: dict[str, Any] = {}
        if rng.random() < 0.5:
            options["signed"] = True
        if rng.random() < 0.3:
            options["expires_in"] = rng.choice([600, 0, -5, 0.5, 3600.9, 1])
        if rng.random() < 0.25:
            options["query_parameters"] = rng.choice(QUERIES)
        cases.append(
            (
                KEYS[index % len(KEYS)],
                ENDPOINTS[index % len(ENDPOINTS)],
                SOURCES[index % len(SOURCES)] if index < 60 else rng.choice(SOURCES),
                rng.choice(SPECS),
                rng.choice(["path", "query"]),
                options,
            )
        )
    return cases


@pytest.mark.usefixtures("frozen_time")
@pytest.mark.parametrize(
    ("private_key", "endpoint", "src", "spec", "position", "options"), generated_cases(300)
)
def test_build_matches_sdk_byte_for_byte(
    private_key: str, endpoint: str, src: str, spec: str, position: str, options: dict[str, Any]
) -> None:
    transformation = parse(spec)

    ours = UrlBuilder(endpoint, private_key).build(
        src, transformation, position=position, **options
    )

    assert ours == sdk_url(private_key, endpoint, src, transformation, position, **options)


@given(
    endpoint=st.sampled_from(ENDPOINTS),
    # Lone surrogates (category Cs) cannot be UTF-8 encoded: both would raise.
    src=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20),
    spec=st.sampled_from(SPECS),
    position=st.sampled_from(["path", "query"]),
    signed=st.booleans(),
    expires_in=st.one_of(st.none(), st.integers(-10, 10**6)),
)
def test_build_any_src_matches_sdk(
    endpoint: str, src: str, spec: str, position: str, signed: bool, expires_in: int | None
) -> None:
    transformation = parse(spec)
    options = {"signed": signed, "expires_in": expires_in}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: NOW)
        ours = UrlBuilder(endpoint, "private_key_test").build(
            src, transformation, position=position, **options
        )
        theirs = sdk_url("private_key_test", endpoint, src, transformation, position, **options)

    assert ours == theirs


# --- our own contract --------------------------------------------------------------------------


def test_build_default_position_is_path() -> None:
    assert UrlBuilder(E).build("/a.jpg", parse("w-1")) == f"{E}/tr:w-1/a.jpg"


@pytest.mark.parametrize("transformation", [None, parse("")])
def test_build_without_transformation_has_no_tr(transformation: Transformation | None) -> None:
    assert UrlBuilder(E + "/").build("/a.jpg", transformation) == f"{E}/a.jpg"


def test_build_empty_src_is_empty_string() -> None:
    assert UrlBuilder(E).build("", parse("w-1")) == ""


def test_build_bad_position_raises() -> None:
    with pytest.raises(ValueError, match="position"):
        UrlBuilder(E).build("/a.jpg", parse("w-1"), position="header")


def test_build_signed_without_private_key_raises() -> None:
    with pytest.raises(ValueError, match="private_key"):
        UrlBuilder(E).build("/a.jpg", signed=True)


def test_build_unsigned_without_private_key_works() -> None:
    assert UrlBuilder(E).build("/a b.jpg") == f"{E}/a%20b.jpg"


def test_build_expiring_url_uses_current_time(frozen_time: float) -> None:
    url = UrlBuilder(E, "k").build("/a.jpg", expires_in=60)

    assert f"?ik-t={int(frozen_time) + 60}&ik-s=" in url
