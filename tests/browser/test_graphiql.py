"""GraphiQL runs in a real browser with no internet access."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from catalog.models import Category, Product

QUERY = "{ products { edges { node { name slug } } } }"


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
