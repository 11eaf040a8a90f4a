"""Catalog staff work in a real browser: the product page's sortable image inline,
the image page's previews, and an upload refused with the API's message."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from django.core.management import call_command

from catalog.management.commands.load_demo_data import draw_image
from catalog.models import Image, Product
from catalog.uploads import NewFile, add_image
from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, DESKTOP, save_screenshot

ORDER_QUERY = '{ product(slug: "weekender-bag") { images { name } } }'


@pytest.fixture
def demo(settings, live_server, media_root):
    """The demo catalog, its media URLs pointing at the live server."""
    settings.SITE_URL = live_server.url
    from io import StringIO

    call_command("load_demo_data", stdout=StringIO(), stderr=StringIO())


def loaded_images(page, selector: str) -> list[tuple[int, int]]:
    """(naturalWidth, naturalHeight) of each ``<img>`` under ``selector``, once loaded."""
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].every(img => img.complete)", arg=selector
    )
    sizes = page.eval_on_selector_all(
        selector, "imgs => imgs.map(img => [img.naturalWidth, img.naturalHeight])"
    )
    return [tuple(size) for size in sizes]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_login_refuses_a_wrong_password_then_lets_staff_in(page, live_server, admin_user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", "wrong")
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert "Please enter the correct username and password" in page.inner_text(".errornote")

    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")

    assert urlsplit(page.url).path == "/admin/"
    assert page.get_attribute("#user-tools a[href='/graphql/']", "href") == "/graphql/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_drag_reorders_product_images_and_the_api_follows(
    admin_page, page_log, live_server, demo
):
    product = Product.objects.get(slug="weekender-bag")
    before = [link.image.name for link in product.product_images.select_related("image")]
    admin_page.set_viewport_size(DESKTOP)
    admin_page.goto(f"{live_server.url}/admin/catalog/product/{product.pk}/change/")

    # then: every image row has its preview, and the inlines fit the page
    previews = loaded_images(admin_page, "#product_images-group td.field-preview img")
    assert len(previews) == 3
    assert all(width > 0 for width, _ in previews), previews
    overflow = admin_page.evaluate(
        "() => [...document.querySelectorAll('.inline-group')]"
        ".map(g => g.scrollWidth - g.clientWidth)"
    )
    assert overflow == [0, 0]
    assert admin_page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    save_screenshot(admin_page, "admin-product")

    # when: the last image is dragged above the first, and the product saved
    rows = admin_page.locator("#product_images-group tbody tr.has_original")
    # sortable2's handle is the row's title strip (td.original p).
    rows.nth(2).locator("td.original p").drag_to(rows.nth(0).locator("td.original p"))
    with admin_page.expect_navigation():
        admin_page.click("input[name=_save]")

    # then: the order is stored, and the API returns it
    assert admin_page.locator(".errornote").count() == 0
    expected = [before[2], before[0], before[1]]
    assert [link.image.name for link in product.product_images.select_related("image")] == (
        expected
    )
    # Over HTTP: Playwright's event loop in this thread keeps Django's test client out.
    body = httpx.post(f"{live_server.url}/graphql/", json={"query": ORDER_QUERY}).json()
    assert [image["name"] for image in body["data"]["product"]["images"]] == expected
    assert page_log.error_responses == []
    assert page_log.page_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_image_page_shows_previews_and_placeholder(
    admin_page, page_log, live_server, settings
):
    settings.SITE_URL = live_server.url
    # A drawn 1200×900 photo, so the blurred placeholder has shapes to blur.
    image = add_image(NewFile(draw_image("Harbour", "#1c7ed6", 1)), created_by=None)
    admin_page.set_viewport_size(DESKTOP)

    admin_page.goto(f"{live_server.url}/admin/catalog/image/{image.pk}/change/")

    (preview,) = loaded_images(admin_page, ".field-large_preview img")
    assert preview == (640, 480), "rendered by the CDN from w-640,h-480,c-at_max"
    (small,) = loaded_images(admin_page, ".field-small_variant img")
    assert small == (320, 240)
    (blurred,) = loaded_images(admin_page, "img.catalog-blurhash")
    assert blurred == (32, 24), "the BlurHash decoded, drawn at 160 px"
    swatch = admin_page.locator(".catalog-swatch").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    red, green, blue = (int(image.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    assert swatch == f"rgb({red}, {green}, {blue})"
    save_screenshot(admin_page, "admin-image")
    assert page_log.error_responses == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_upload_shows_its_preview(admin_page, page_log, live_server, settings, tmp_path):
    from PIL import Image as PILImage

    settings.SITE_URL = live_server.url
    photo = tmp_path / "harbour at dusk.jpg"
    PILImage.new("RGB", (500, 375), "#2a7f62").save(photo, "JPEG")

    admin_page.goto(f"{live_server.url}/admin/catalog/image/add/")
    admin_page.set_input_files("#id_file", photo)
    with admin_page.expect_navigation():
        admin_page.click("input[name=_continue]")

    image = Image.objects.get()
    assert image.name == "harbour at dusk", "the name defaults to the file name"
    assert urlsplit(admin_page.url).path == f"/admin/catalog/image/{image.pk}/change/"
    (preview,) = loaded_images(admin_page, ".field-large_preview img")
    assert preview == (500, 375), "never upscaled (c-at_max)"
    (small,) = loaded_images(admin_page, ".field-small_variant img")
    assert small == (320, 240)
    assert page_log.error_responses == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_bad_upload_shows_the_apis_message(admin_page, live_server, tmp_path, media_root):
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"this is not a photo")

    admin_page.goto(f"{live_server.url}/admin/catalog/image/add/")
    admin_page.set_input_files("#id_file", bad)
    with admin_page.expect_navigation():
        admin_page.click("input[name=_save]")

    assert admin_page.inner_text(".field-file .errorlist") == (
        "The file is not an image that can be read."
    )
    assert Image.objects.count() == 0
    assert not any(p.is_file() for p in media_root.rglob("*"))
