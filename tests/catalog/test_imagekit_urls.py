"""Image URLs on ImageKit: presets written out or named, and every URL served at its size.

Through the real imagekitio SDK and real HTTP to the local ImageKit server: the
shared one has no named transformations but ImageKit's built-in ones, as a new
account; a dedicated one has ``card`` created "in the dashboard".
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from PIL import Image as PILImage

from catalog.models import Product
from media_store.imagekit_server import ImageKitServer
from tests.catalog.factories import stored_image
from tests.conftest import IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY
from tests.utils import graphql, graphql_data, nodes, product_images_query

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
LISTING_MARKER = "<!-- listing-query: tests/catalog/test_imagekit_urls.py runs it on ImageKit -->"
CARD = (400, 300)  # MEDIA_STORE["PRESETS"]["card"], w-400,h-300


def readme_listing_query() -> str:
    text = README.read_text()
    block = re.search(r"```graphql\n(.*?)```", text[text.index(LISTING_MARKER) :], re.DOTALL)
    assert block, "README: no ```graphql block after the listing-query marker"
    return block.group(1)


def fetch(url: str) -> httpx.Response:
    response = httpx.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
    return response


def size_of(url: str) -> tuple[int, int]:
    return PILImage.open(io.BytesIO(fetch(url).content)).size


def image_url(client, selection: str, **headers: str) -> str:
    data = graphql_data(client, product_images_query(f"url{selection}"), **headers)
    return data["products"]["edges"][0]["node"]["images"][0]["url"]


@pytest.fixture
def photo():
    """Stored on the storage the test's server fixture, listed before it, switched to."""
    product = Product.objects.create(name="Lamp", slug="lamp")
    return stored_image("lamp", size=(1600, 1200), product=product)


def use_server(settings, server: ImageKitServer) -> None:
    settings.IMAGEKIT_PRIVATE_KEY = IMAGEKIT_PRIVATE_KEY
    settings.IMAGEKIT_PUBLIC_KEY = IMAGEKIT_PUBLIC_KEY
    settings.IMAGEKIT_URL_ENDPOINT = server.url_endpoint
    settings.IMAGEKIT_API_BASE_URL = server.url
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "media_store.storage.imagekit.ImageKitStorage"},
    }


@pytest.fixture
def dashboard(settings, tmp_path) -> Iterator[ImageKitServer]:
    """An ImageKit account whose dashboard has ``card``, the app told so."""
    with ImageKitServer(
        root=tmp_path / "dashboard",
        private_key=IMAGEKIT_PRIVATE_KEY,
        public_key=IMAGEKIT_PUBLIC_KEY,
        named_transformations={"card": "w-400,h-300"},
    ) as server:
        use_server(settings, server)
        settings.MEDIA_STORE = {**settings.MEDIA_STORE, "IMAGEKIT_NAMED_PRESETS": ["card"]}
        yield server


# --- The "done when": the README's listing, every URL served ---------------


def expected_size(width: int, height: int, asked: dict[str, Any]) -> tuple[float, float]:
    """The size a transformation asks for, worked out here from ImageKit's docs."""
    if "crop" in asked:  # at_max: fit inside the box, never enlarge
        scale = min(asked["width"] / width, asked["height"] / height, 1)
        return width * scale, height * scale
    if "height" in asked:  # maintain_ratio: exactly the box
        return asked["width"], asked["height"]
    return asked["width"], height * asked["width"] / width


def assert_size(url: str, expected: tuple[float, float]) -> None:
    actual = size_of(url)
    # Each side to the nearest pixel, one either way for the rounding of the other.
    assert all(abs(got - want) <= 1 for got, want in zip(actual, expected, strict=True)), (
        f"{url}: {actual}, asked {expected}"
    )


def test_readme_listing_query_on_imagekit_serves_every_url_at_its_size(client, imagekit):
    # Given the demo catalog, plus a portrait smaller than the large size, on a
    # new ImageKit account (no named transformations in its dashboard)
    call_command("load_demo_data", stdout=StringIO())
    portrait = Product.objects.create(name="Amphora", slug="amphora")
    stored_image("amphora", size=(500, 700), product=portrait)

    # When the README's listing query runs
    data = graphql_data(client, readme_listing_query())

    # Then every URL answers 200 with the size it asks for
    products = nodes(data["products"])
    images = [image for product in products for image in product["images"]]
    variants = [variant for product in products for variant in product["variants"]]
    assert (len(products), len(images), len(variants)) == (7, 15, 10)
    for product in products:
        card = product["thumbnail"]["url"]
        assert "n-card" not in card
        assert_size(card, CARD)
    for image in images:
        width, height = image["width"], image["height"]
        assert_size(image["small"], expected_size(width, height, {"width": 200}))
        large = {"width": 1200, "height": 800, "crop": "at_max"}
        assert_size(image["large"], expected_size(width, height, large))
        entries = [entry.rsplit(" ", 1) for entry in image["srcset"].split(", ")]
        assert [descriptor for _, descriptor in entries] == [
            f"{w}w" for w in (320, 640, 960) if w <= width
        ]
        for url, descriptor in entries:
            assert_size(url, expected_size(width, height, {"width": int(descriptor[:-1])}))
    for variant in variants:
        assert size_of(variant["image"]["url"])[0] == 60


# --- Presets on ImageKit -----------------------------------------------------------


def test_preset_reaches_imagekit_as_its_steps(client, imagekit, photo):
    url = image_url(client, '(preset: "card", transform: {format: WEBP})')

    assert url == f"{imagekit.url_endpoint}/tr:w-400,h-300:f-webp/catalog/{photo.image.name}"
    response = fetch(url)
    assert response.headers["content-type"] == "image/webp"
    assert PILImage.open(io.BytesIO(response.content)).size == CARD


def test_preset_named_in_the_dashboard_is_sent_by_name(client, dashboard, photo):
    url = image_url(client, '(preset: "card")')

    assert url == f"{dashboard.url_endpoint}/tr:n-card/catalog/{photo.image.name}"
    assert size_of(url) == CARD
    # Other presets are still written out.
    assert "/tr:w-150,h-150/" in image_url(client, '(preset: "thumbnail")')


def test_preset_named_without_the_dashboard_fails_as_imagekit_does(
    client, imagekit, photo, settings
):
    # Why presets are written out by default: a name ImageKit's dashboard lacks is a 400.
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "IMAGEKIT_NAMED_PRESETS": ["card"]}

    response = httpx.get(image_url(client, '(preset: "card")'))

    assert response.status_code == 400
    assert "named transformation 'card' does not exist" in response.json()["message"]


def test_private_image_preset_url_is_signed_over_the_written_out_chain(
    client, imagekit, django_user_model
):
    product = Product.objects.create(name="Vault", slug="vault")
    secret = stored_image("secret", size=(800, 600), product=product, is_private=True)
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))

    url = image_url(client, '(preset: "card")')

    assert f"/tr:w-400,h-300/catalog/{secret.image.name}?ik-t=" in url
    assert size_of(url) == CARD
    tampered = url.replace("w-400,h-300", "w-401,h-300")
    assert httpx.get(tampered).status_code == 401


def test_preset_steps_count_against_the_chain_limit_on_imagekit(client, imagekit, photo, settings):
    settings.MEDIA_STORE = {
        **settings.MEDIA_STORE,
        "PRESETS": {"two": "w-500:h-300"},
        "MAX_CHAIN_STEPS": 3,
    }

    body = graphql(
        client,
        product_images_query('url(preset: "two", transforms: [{width: 10}, {height: 10}])'),
    )

    assert body["errors"][0]["extensions"]["code"] == "INVALID_TRANSFORMATION"
    assert "4 steps (presets expanded)" in body["errors"][0]["message"]
