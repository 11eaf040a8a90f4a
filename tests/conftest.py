from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from PIL import Image as PILImage

from accounts.models import ApiToken
from media_store.imagekit_server import ImageKitServer
from media_store.selection import IMAGEKIT_STORAGE_BACKEND
from ops.local_servers import LocalServerError, redis_server

IMAGEKIT_PRIVATE_KEY = "private_test_key"
IMAGEKIT_PUBLIC_KEY = "public_test_key"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores files under its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDITION_CACHE_DIR": tmp_path / "renditions"}
    return settings.MEDIA_ROOT


def make_image_bytes(size=(640, 480), fmt="JPEG", color="#3366cc", mode="RGB") -> bytes:
    buffer = io.BytesIO()
    PILImage.new(mode, size, color).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def jpeg_bytes() -> bytes:
    return make_image_bytes()


@pytest.fixture
def editor(django_user_model):
    """A user allowed to upload images."""
    user = django_user_model.objects.create_user("editor", password="editor-pass-123")
    user.user_permissions.add(Permission.objects.get(codename="add_image"))
    return user


@pytest.fixture
def editor_token(editor) -> str:
    return ApiToken.objects.create_token(editor)[1]


@pytest.fixture
def csrf_client() -> Client:
    """A test client that enforces CSRF like a browser-facing deployment."""
    return Client(enforce_csrf_checks=True)


def pytest_report_header(config):
    from django.db import connection

    return f"database: {connection.vendor} ({connection.settings_dict['NAME']})"


# --- Query plans: every planned query through both executors ------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--compare-executors",
        action="store_true",
        default=os.environ.get("QUERY_PLANS_COMPARE") == "1",
        help="run each planned GraphQL query through graphql-core's executor too and fail "
        "the test on any difference in data, errors or SQL count (or QUERY_PLANS_COMPARE=1)",
    )


@pytest.fixture(autouse=True)
def compare_executors(request: pytest.FixtureRequest) -> Iterator[None]:
    """With --compare-executors, the schema runs query_plans' differential executor."""
    if not request.config.getoption("--compare-executors"):
        yield
        return
    from config.schema import schema
    from query_plans.differential import DifferentialExecutionContext, take_mismatches

    original = schema.execution_context_class
    schema.execution_context_class = DifferentialExecutionContext
    take_mismatches()
    try:
        yield
    finally:
        schema.execution_context_class = original
    mismatches = take_mismatches()
    if mismatches:
        pytest.fail("Plan and graphql-core's executor differ:\n" + "\n".join(mismatches))


@pytest.fixture(scope="session")
def imagekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageKitServer]:
    """A local ImageKit server for the whole run (port 0, daemon thread, readiness event)."""
    server = ImageKitServer(
        root=tmp_path_factory.mktemp("imagekit"),
        private_key=IMAGEKIT_PRIVATE_KEY,
        public_key=IMAGEKIT_PUBLIC_KEY,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imagekit_account(settings, imagekit_server: ImageKitServer) -> Iterator[ImageKitServer]:
    """The IMAGEKIT_* settings of the local server (emptied), the project still on its storage."""
    imagekit_server.reset(files=True)
    settings.IMAGEKIT_PRIVATE_KEY = IMAGEKIT_PRIVATE_KEY
    settings.IMAGEKIT_PUBLIC_KEY = IMAGEKIT_PUBLIC_KEY
    settings.IMAGEKIT_URL_ENDPOINT = imagekit_server.url_endpoint
    settings.IMAGEKIT_API_BASE_URL = imagekit_server.url
    settings.IMAGEKIT_MAX_RETRIES = 2
    yield imagekit_server
    imagekit_server.reset(files=True)


def use_storage(settings, backend: str) -> None:
    """Switch the project's default storage, as setting or unsetting IMAGEKIT_* does."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend}}


@pytest.fixture
def imagekit(settings, imagekit_account: ImageKitServer) -> ImageKitServer:
    """Switch the project to ImageKitStorage, pointed at the local server over HTTP."""
    use_storage(settings, IMAGEKIT_STORAGE_BACKEND)
    return imagekit_account


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this run's own (Debian's; `make test` installs it) on a free port."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(redis_server(tmp_path_factory.mktemp("redis")))
        except LocalServerError as e:
            pytest.fail(f"{e} (make test installs it)")
        yield url
