"""Shared fixtures for the adversarial suite.

Every hostile case asserts three things: the status, the error code and message,
and that nothing was stored. ``nothing_stored`` snapshots every place a file or
a row can land (catalog and media_store tables, local media, the rendition cache
is left out on purpose: a refused request must not write there either, see
``no_renditions``) and checks the snapshot again when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from media_store.imagekit_server import ImageKitServer

# Tables a stored upload touches; a refused request leaves every count as it was.
COUNTED_MODELS = (
    "catalog.Image",
    "catalog.ProductImage",
    "catalog.Product",
    "catalog.ProductVariant",
    "catalog.Category",
    "media_store.StoredFile",
)


def _files(root: Path) -> set[str]:
    if not root.exists():
        return set()
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def _rows() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in COUNTED_MODELS}


class StoredState:
    """What is stored now: row counts, local media files, files on the ImageKit server."""

    def __init__(self, imagekit: ImageKitServer | None) -> None:
        self.imagekit = imagekit
        self.before = self.read()

    def read(self) -> dict[str, object]:
        state: dict[str, object] = {
            "rows": _rows(),
            "media": _files(Path(settings.MEDIA_ROOT)),
        }
        if self.imagekit is not None:
            state["imagekit"] = sorted(r.file_path for r in self.imagekit.store.files())
        return state

    def assert_unchanged(self) -> None:
        assert self.read() == self.before, "a refused request stored something"


@pytest.fixture
def nothing_stored(request) -> Iterator[Callable[[], None]]:
    """Snapshot what is stored; the test (or teardown) asserts it did not change.

    Uses the ImageKit server too when the test also asks for the ``imagekit`` fixture.
    Call the returned function to check mid-test; it is checked again at teardown.
    List it after the fixtures that create the test's data: pytest sets fixtures
    up in argument order, and the snapshot is taken when this one is set up.
    """
    server = request.getfixturevalue("imagekit") if "imagekit" in request.fixturenames else None
    state = StoredState(server)
    yield state.assert_unchanged
    state.assert_unchanged()


@pytest.fixture
def no_renditions(settings) -> Iterator[None]:
    """The rendition cache stays empty: a refused CDN request renders nothing."""
    cache_dir = Path(settings.MEDIA_STORE["RENDITION_CACHE_DIR"])
    yield
    assert _files(cache_dir) == set(), "a refused request wrote a rendition"
