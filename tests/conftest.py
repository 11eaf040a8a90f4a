from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores files under its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "RENDITION_CACHE_DIR": tmp_path / "renditions"}
    return settings.MEDIA_ROOT
