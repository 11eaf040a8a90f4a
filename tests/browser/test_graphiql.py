"""GraphiQL runs in a real browser with no internet access."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from django.core.management import call_command

from catalog.models import Category, Product
from tests.browser.conftest import DESKTOP, save_screenshot

QUERY = "{ products { edges { node { name slug } } } }"
TRANSFORM_QUERY = (
    '{ product(slug: "trail-runner") { images { url(transform: {width: 240, format: WEBP}) } } }'
)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_graphiql_page_runs_a_query_offline(page, page_log, live_server):
    category = Category.objects.create(name="Kitchen", slug="kitchen")
    Product.objects.create(name="Blue Enamel Mug", slug="blue-enamel-mug", category=category)

    # The template starts the query editor with the `q` URL parameter.
    response = page.goto(f"{live_server.url}/graphql/?q={quote(QUERY)}")
    assert response.status == 200, f"GET /graphql/ answered {response.status}"
    # goto() waits for the load event, so every script has been requested by now.
    assert page_log.external_requests == [], "GraphiQL needs files from another host"
    page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")

    assert page.title() == "Catalog API · GraphiQL"
    assert "products" in page.inner_text(".graphiql-query-editor .CodeMirror")

    page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response")
    result.get_by_text("blue-enamel-mug").wait_for()

    assert '"name": "Blue Enamel Mug"' in result.inner_text()
    # Every script and stylesheet came from our static files, with SRI intact.
    assets = page.eval_on_selector_all(
        "script[src], link[rel=stylesheet]",
        "els => els.map(el => [el.src || el.href, el.integrity])",
    )
    assert len(assets) == 7
    for url, integrity in assets:
        assert urlsplit(url).path.startswith("/static/graphiql/"), url
        assert integrity.startswith("sha384-"), url
    assert page_log.external_requests == []
    assert page_log.console_errors == []
    assert page_log.page_errors == []
    assert page_log.failed_requests == []
    assert page_log.error_responses == []


def readme_listing_query() -> str:
    """The README's storefront listing query, as a reader would copy it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```graphql\n(.*?)```", readme, flags=re.S)
    (listing,) = [block for block in blocks if block.lstrip().startswith("{\n  products(")]
    return listing


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_graphiql_runs_the_readmes_listing_query(page, page_log, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_demo_data", stdout=StringIO(), stderr=StringIO())
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/graphql/?q={quote(readme_listing_query())}")
    page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")
    page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response")
    result.get_by_text('"totalCount": 6').wait_for()

    text = result.inner_text()
    assert '"errors"' not in text
    assert '"slug": "canvas-tote"' in text
    assert "/media/tr:w-1200,h-800,c-at_max/images/" in text
    assert '"blurhash": "' in text
    save_screenshot(page, "graphiql")
    assert page_log.page_errors == []
    assert page_log.error_responses == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_transformed_url_loads_in_an_img_at_the_requested_width(
    page, page_log, live_server, settings
):
    settings.SITE_URL = live_server.url
    call_command("load_demo_data", stdout=StringIO(), stderr=StringIO())
    body = httpx.post(f"{live_server.url}/graphql/", json={"query": TRANSFORM_QUERY}).json()
    urls = [image["url"] for image in body["data"]["product"]["images"]]
    page.goto(f"{live_server.url}/graphql/")

    sizes = page.evaluate(
        """urls => Promise.all(urls.map(url => new Promise((resolve, reject) => {
            const img = new Image();
            img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
            img.onerror = () => reject(new Error("did not load: " + url));
            img.src = url;
        })))""",
        urls,
    )

    assert len(urls) == 3
    assert sizes == [[240, 180]] * 3, "1200×900 sources, 240 wide as asked"
    assert page_log.failed_requests == []
    assert page_log.error_responses == []
