"""The catalog admin in a real browser: image previews and uploads."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from PIL import Image as PILImage

from catalog.models import Image
from tests.catalog.factories import stored_image


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_image_list_shows_previews(admin_page, page_log, live_server, settings):
    # Media URLs are absolute, built on SITE_URL: point them at the live server.
    settings.SITE_URL = live_server.url
    image = stored_image("Blue", size=(400, 300))
    assert image.image_xs.url.startswith(f"{live_server.url}/media/")

    admin_page.goto(f"{live_server.url}/admin/catalog/image/")
    preview = admin_page.locator("#result_list img.catalog-thumb")
    preview.wait_for()
    admin_page.wait_for_load_state("load")

    assert preview.get_attribute("src") == image.image_xs.url
    complete, width, height = preview.evaluate(
        "img => [img.complete, img.naturalWidth, img.naturalHeight]"
    )
    assert complete is True
    assert width > 0, f"preview {image.image_xs.url} did not load"
    assert height > 0
    assert page_log.external_requests == []
    assert page_log.failed_requests == []
    assert page_log.error_responses == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_uploads_an_image(admin_page, page_log, live_server, settings, tmp_path):
    settings.SITE_URL = live_server.url
    photo = tmp_path / "harbour.jpg"
    PILImage.new("RGB", (500, 375), "#2a7f62").save(photo, "JPEG")

    admin_page.goto(f"{live_server.url}/admin/catalog/image/add/")
    admin_page.set_input_files("#id_file", photo)
    admin_page.fill("#id_name", "Harbour")
    with admin_page.expect_navigation():
        admin_page.click("input[name=_save]")

    assert admin_page.locator(".errornote, .errorlist").count() == 0, admin_page.inner_text(
        "#content"
    )
    assert urlsplit(admin_page.url).path == "/admin/catalog/image/"
    image = Image.objects.get(name="Harbour")
    assert (image.width, image.height) == (500, 375)
    assert image.image.name
    assert image.image_xs.name
    assert image.image.storage.exists(image.image.name)
    assert image.image_xs.storage.exists(image.image_xs.name)
    assert page_log.external_requests == []
    assert page_log.error_responses == []
