"""A session-wide local ImageKit server, reset between tests, and real SDK clients for it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from imagekitio import ImageKit
from PIL import Image

from media_store.imagekit_server import ImageKitServer
from tests.conftest import IMAGEKIT_PRIVATE_KEY as PRIVATE_KEY


@pytest.fixture
def server(imagekit_server: ImageKitServer) -> Iterator[ImageKitServer]:
    """The shared server with no files, faults or logged requests left by another test."""
    imagekit_server.reset(files=True)
    yield imagekit_server
    imagekit_server.reset(files=True)


@pytest.fixture
def client(server: ImageKitServer) -> ImageKit:
    """A real SDK client that fails fast: no retries unless a test asks for them."""
    return ImageKit(private_key=PRIVATE_KEY, base_url=server.url, max_retries=0)


def image_bytes(size: tuple[int, int] = (64, 48), fmt: str = "PNG", mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "#3366cc" if mode == "RGB" else (51, 102, 204, 128)).save(buffer, fmt)
    return buffer.getvalue()


def stored_bytes(server: ImageKitServer, file_id: str) -> bytes:
    record = server.store.get(file_id)
    assert record is not None, f"{file_id} is not stored"
    return server.store.blob_path(record).read_bytes()


class NonSeekable:
    """A stream httpx cannot measure, so the SDK sends it with Transfer-Encoding: chunked."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)
