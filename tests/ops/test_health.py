"""/healthz and /readyz against the real database, media folder, ImageKit server and Redis."""

from __future__ import annotations

import socket
import time

import pytest
from django.test import Client

from tests.conftest import IMAGEKIT_PRIVATE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe() -> Client:
    """A load balancer's probe: plain HTTP to the server's address, no cookies."""
    return Client(HTTP_HOST="10.20.30.40:8000")


def test_healthz_alive_without_io(probe, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = probe.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_answers_any_host(probe, settings, path):
    # given: a Host that ALLOWED_HOSTS refuses, and HTTPS redirects on
    settings.ALLOWED_HOSTS = ["catalog.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = probe.get(path)

    assert response.status_code == 200
    assert probe.get("/graphql/").status_code in (301, 400)  # everything else still refused


def test_readyz_ready_local_storage(probe, media_root, settings):
    # A local-memory cache is not checked (CI's second pass shares a Redis one).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    response = probe.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "storage": "ok"},
    }
    assert media_root.is_dir()
    assert list(media_root.iterdir()) == []  # the probe file is gone


def test_readyz_media_root_is_a_file(probe, settings, tmp_path):
    # given: the media folder's place taken by a file (nobody, root included, can write)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    settings.MEDIA_ROOT = blocked / "media"

    response = probe.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["storage"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"].startswith("the media folder cannot be written (")
    assert str(tmp_path) not in response.content.decode()


def test_readyz_imagekit_answers(probe, imagekit):
    response = probe.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == "ok"
    assert len(imagekit.requests.entries("list")) == 1


def test_readyz_imagekit_answer_reused(probe, imagekit, settings):
    settings.READYZ = {**settings.READYZ, "CACHE_SECONDS": 60}

    for _ in range(3):
        assert probe.get("/readyz").status_code == 200

    assert len(imagekit.requests.entries("list")) == 1


def test_readyz_imagekit_checked_again_after_cache_seconds(probe, imagekit, settings):
    settings.READYZ = {**settings.READYZ, "CACHE_SECONDS": 0}

    for _ in range(2):
        assert probe.get("/readyz").status_code == 200

    assert len(imagekit.requests.entries("list")) == 2


def test_readyz_imagekit_error_status(probe, imagekit):
    imagekit.faults.fail("list", 503, times=None)

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]
    assert response.json()["checks"]["storage"] == "ImageKit's API answered HTTP 503"
    assert len(imagekit.requests.entries("list")) == 1  # no retries


def test_readyz_imagekit_too_slow(probe, imagekit, settings):
    settings.READYZ = {**settings.READYZ, "STORAGE_TIMEOUT": 0.2}
    imagekit.faults.delay("list", 0.6)

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "ImageKit's API did not answer (ReadTimeout)"
    # The server finishes the abandoned request before the fixture resets it.
    deadline = time.monotonic() + 5
    while not imagekit.requests.entries("list") and time.monotonic() < deadline:
        time.sleep(0.05)


def test_readyz_imagekit_unreachable(probe, imagekit, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.IMAGEKIT_API_BASE_URL = f"http://127.0.0.1:{port}"

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "ImageKit's API did not answer (ConnectError)"
    assert str(port) not in response.content.decode()


def test_readyz_imagekit_key_refused_shows_no_secret(probe, imagekit, settings):
    settings.IMAGEKIT_PRIVATE_KEY = "private_wrong_key_do_not_show"

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "ImageKit's API answered HTTP 403"
    text = response.content.decode()
    assert "private_wrong_key_do_not_show" not in text
    assert IMAGEKIT_PRIVATE_KEY not in text
    assert "Traceback" not in text


def test_readyz_checks_shared_cache(probe, settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }

    response = probe.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok", "cache": "ok"}


def test_readyz_shared_cache_down(probe, settings):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
    assert response.json()["checks"]["cache"] == "the cache did not answer (ConnectionError)"
