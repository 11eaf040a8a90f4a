"""Both storages implement the interface the app relies on (media_store.storage.interface)."""

from __future__ import annotations

import inspect

import pytest

from media_store.storage.imagekit import ImageKitStorage
from media_store.storage.interface import DirectUploadStorage, MediaStorage
from media_store.storage.local import LocalMediaStorage

pytestmark = pytest.mark.django_db


def protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for klass in protocol.__mro__
        if klass not in (object,) and getattr(klass, "_is_protocol", False)
        for name, value in vars(klass).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def parameters(function) -> list[tuple[str, inspect._ParameterKind, object]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


@pytest.fixture
def local(tmp_path) -> LocalMediaStorage:
    return LocalMediaStorage(location=str(tmp_path))


@pytest.fixture
def imagekit_storage(imagekit) -> ImageKitStorage:
    return ImageKitStorage()


@pytest.mark.parametrize("backend", ["local", "imagekit_storage"])
def test_storage_implements_media_storage_with_its_signatures(backend, request):
    storage = request.getfixturevalue(backend)

    assert isinstance(storage, MediaStorage)
    for name in protocol_methods(MediaStorage):
        implemented = getattr(type(storage), name)
        assert parameters(implemented) == parameters(getattr(MediaStorage, name)), name


def test_imagekit_storage_implements_direct_uploads_with_their_signatures(imagekit_storage):
    assert isinstance(imagekit_storage, DirectUploadStorage)
    for name in protocol_methods(DirectUploadStorage):
        implemented = getattr(ImageKitStorage, name)
        assert parameters(implemented) == parameters(getattr(DirectUploadStorage, name)), name


def test_local_storage_does_not_offer_direct_uploads(local):
    assert not isinstance(local, DirectUploadStorage)


def test_imagekit_storage_deconstructs_to_the_path_settings_use(imagekit):
    path, args, kwargs = ImageKitStorage(folder="shop").deconstruct()

    assert path == "media_store.storage.imagekit.ImageKitStorage"
    assert (args, kwargs) == ((), {"folder": "shop"})
