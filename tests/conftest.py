from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from PIL import Image as PILImage

from accounts.models import ApiToken


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
