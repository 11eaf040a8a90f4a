"""Image.url / srcset / small: the GraphQL side of the transformation grammar."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from PIL import features

from catalog.models import Product
from media_store.grammar import CROP_MODES, CROPS, FOCUSES, FORMATS
from tests.catalog.factories import stored_image
from tests.utils import graphql, graphql_data, product_images_query

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"


def image_field(client, selection: str) -> dict:
    data = graphql_data(client, product_images_query(f"{selection}"))
    return data["products"]["edges"][0]["node"]["images"][0]


def chain_and_path(url: str) -> str:
    """``tr:<chain>/<path>`` of a signed local URL, signature dropped."""
    assert url.startswith(f"{SITE}/media/")
    return url.removeprefix(f"{SITE}/media/").partition("?ik-s=")[0]


def fetch(client, url: str) -> PILImage.Image:
    response = client.get(url.removeprefix(SITE))
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return PILImage.open(io.BytesIO(body))


@pytest.fixture
def image():
    product = Product.objects.create(name="Lamp", slug="lamp")
    return stored_image("big", size=(1600, 1200), product=product)


@pytest.mark.parametrize(
    ("arguments", "chain"),
    [
        ("transform: {width: 300, height: 200}", "w-300,h-200"),
        (
            "transform: {width: 300, height: 200, crop: AT_MAX, focus: TOP_LEFT, quality: 70}",
            "w-300,h-200,c-at_max,fo-top_left,q-70",
        ),
        (
            'transform: {width: 300, height: 300, cropMode: PAD_RESIZE, background: "F3F3F3"}',
            "w-300,h-300,cm-pad_resize,bg-F3F3F3",
        ),
        ('transform: {width: 400, aspectRatio: "4:3"}', "w-400,ar-4-3"),
        ("transform: {width: 200, dpr: 2, format: AVIF}", "w-200,f-avif,dpr-2"),
        ("transform: {grayscale: true, sharpen: true, blur: 5}", "bl-5,e-grayscale,e-sharpen"),
        (
            "transforms: [{width: 300, height: 300}, {rotation: 90}, {radius: 20}]",
            "w-300,h-300:rt-90:r-20",
        ),
        # The local CDN knows every preset: its URLs name them (see media_store.presets).
        ('preset: "card"', "n-card"),
        ('preset: "card", transform: {format: WEBP}', "n-card:f-webp"),
    ],
)
def test_image_url_arguments_become_the_chain(client, image, arguments, chain):
    item = image_field(client, f"url({arguments})")

    assert chain_and_path(item["url"]) == f"tr:{chain}/{image.image.name}"


@pytest.mark.parametrize(
    ("field", "key", "value"),
    [
        *(("crop", "c", value) for value in CROPS),
        *(("cropMode", "cm", value) for value in CROP_MODES),
        *(("focus", "fo", value) for value in FOCUSES),
        *(("format", "f", value) for value in FORMATS),
    ],
)
def test_image_url_enums_offer_every_grammar_value(client, image, field, key, value):
    # The GraphQL enums are the grammar's lists: AT_MAX is at_max, and none is missing.
    item = image_field(
        client, f"url(transform: {{width: 300, height: 200, {field}: {value.upper()}}})"
    )

    assert chain_and_path(item["url"]) == f"tr:w-300,h-200,{key}-{value}/{image.image.name}"
    if value != "avif" or features.check("avif"):  # AVIF needs Pillow built with libavif
        assert fetch(client, item["url"]).size


def test_image_url_without_arguments_is_the_unsigned_original(client, image):
    item = image_field(client, "url")

    assert item["url"] == f"{SITE}/media/{image.image.name}"


def test_image_url_is_served_by_the_local_cdn(client, image):
    item = image_field(client, "url(transform: {width: 300, height: 300, crop: AT_MAX})")

    assert fetch(client, item["url"]).size == (300, 225)


def test_image_aliased_urls_are_each_served(client, image):
    item = image_field(
        client,
        "a: url(transform: {width: 100, format: WEBP}) b: url(transform: {width: 50, format: PNG})",
    )

    assert (fetch(client, item["a"]).format, fetch(client, item["a"]).size) == ("WEBP", (100, 75))
    assert (fetch(client, item["b"]).format, fetch(client, item["b"]).size) == ("PNG", (50, 38))


def test_image_srcset_default_widths_stop_at_the_image_width(client, image):
    item = image_field(client, "srcset")

    entries = [entry.rsplit(" ", 1) for entry in item["srcset"].split(", ")]
    assert [descriptor for _, descriptor in entries] == ["320w", "640w", "960w", "1280w"]
    assert [chain_and_path(url) for url, _ in entries] == [
        f"tr:w-{w}/{image.image.name}" for w in (320, 640, 960, 1280)
    ]
    assert fetch(client, entries[1][0]).width == 640


def test_image_srcset_keeps_aspect_ratio_of_transform(client, image):
    item = image_field(
        client, "srcset(widths: [200, 100], transform: {width: 4, height: 3, format: WEBP})"
    )

    entries = [entry.rsplit(" ", 1) for entry in item["srcset"].split(", ")]
    assert [chain_and_path(url) for url, _ in entries] == [
        f"tr:w-100,h-75,f-webp/{image.image.name}",
        f"tr:w-200,h-150,f-webp/{image.image.name}",
    ]


def test_image_small_is_the_small_variant(client, image):
    item = image_field(client, "small")

    assert item["small"] == f"{SITE}/media/{image.image_xs.name}"
    assert max(fetch(client, item["small"]).size) == 320


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ("transform: {width: 0}", "transform.width"),
        ("transform: {width: 5000}", "transform.width"),
        ("transform: {width: 3000, dpr: 2}", "transform.width"),
        ("transform: {quality: 101}", "transform.quality"),
        ("transform: {blur: 0}", "transform.blur"),
        ("transform: {dpr: 9}", "transform.dpr"),
        ("transform: {rotation: 45}", "transform.rotation"),
        ('transform: {background: "nope"}', "transform.background"),
        ('transform: {width: 10, aspectRatio: "4/3"}', "transform.aspectRatio"),
        ("transforms: [{width: 10}, {height: -1}]", "transforms[1].height"),
        ('preset: "missing"', "preset"),
        ("transform: {width: 1}, transforms: [{width: 2}]", "transforms"),
    ],
)
def test_image_url_bad_argument_is_an_error_naming_it(client, image, arguments, argument):
    body = graphql(client, product_images_query(f"url({arguments})"))

    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_TRANSFORMATION", "argument": argument}
    assert error["message"].startswith(f"Invalid {argument}:")


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ("widths: [0]", "widths"),
        ("widths: []", "widths"),
        ("transform: {height: 100}", "transform.height"),
    ],
)
def test_image_srcset_bad_argument_is_an_error_naming_it(client, image, arguments, argument):
    body = graphql(client, product_images_query(f"srcset({arguments})"))

    (error,) = body["errors"]
    assert error["extensions"]["argument"] == argument
