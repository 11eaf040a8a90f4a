"""Real-browser fixtures: Debian's chromium driven by Playwright's sync API.

Every page is offline: any request to a host other than the live server is
aborted and recorded, so a test proves the page needs nothing from the
internet (no CDN scripts, fonts or trackers).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-pass-123"


@dataclass
class PageLog:
    """What a page did besides what the test looks at."""

    origin: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in {"data", "blob", "about"}:
            return True
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        return f"{scheme}://{parts.netloc}" == self.origin


@pytest.fixture(scope="package")
def browser():
    """One chromium for all the browser tests.

    Package-scoped rather than session-scoped on purpose: Playwright's sync API
    parks a running asyncio loop in this thread for as long as it is open, and
    Django then refuses every ORM call from the thread (SynchronousOnlyOperation).
    Within this package that is a false alarm (the loop is suspended while test
    code runs), so DJANGO_ALLOW_ASYNC_UNSAFE is set; closing Playwright when the
    package is done keeps both the loop and the setting away from other tests.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Install Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page_log(live_server) -> PageLog:
    parts = urlsplit(live_server.url)
    return PageLog(origin=f"{parts.scheme}://{parts.netloc}")


@pytest.fixture
def page(browser, page_log: PageLog) -> Iterator:
    """A fresh page (own cookies) that can reach only the live server."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)

    def route(route):
        url = route.request.url
        if page_log.is_local(url):
            route.continue_()
        else:
            page_log.external_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and page_log.console_errors.append(f"{message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: (
            page_log.is_local(request.url)
            and page_log.failed_requests.append(f"{request.url}: {request.failure}")
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400
            and page_log.error_responses.append(f"{response.status} {response.url}")
        ),
    )
    # Web sockets are not routed; record any that leave the live server.
    page.on(
        "websocket",
        lambda ws: page_log.is_local(ws.url) or page_log.external_requests.append(ws.url),
    )
    yield page
    context.close()
    assert page_log.external_requests == [], "the page tried to reach another host"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(
        ADMIN_USERNAME, "a@example.com", ADMIN_PASSWORD
    )


@pytest.fixture
def admin_page(page, live_server, admin_user):
    """``page``, logged in to the admin through its login form."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert urlsplit(page.url).path == "/admin/", f"login failed, still at {page.url}"
    return page


# Screenshots of what the tests saw, for a person to look at (not committed: var/).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Wide enough for the admin's sidebar and a product's inlines side by side.
DESKTOP = {"width": 1400, "height": 900}


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG of ``page`` at ``var/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
