from __future__ import annotations

import pickle

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from media_store.conf import signing_key
from media_store.grammar import parse
from media_store.signing import signature
from media_store.storage.local import LocalMediaStorage
from media_store.urlbuilder import DEFAULT_EXPIRY

DATA = b"\x89PNG not really"


def unsigned(url: str) -> str:
    return url.partition("?ik-s=")[0]


@pytest.fixture
def site(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.MEDIA_URL = "/media/"
    return settings


@pytest.fixture
def storage(site) -> LocalMediaStorage:
    return LocalMediaStorage()


def test_default_storage_is_local_media_storage():
    assert isinstance(storages["default"], LocalMediaStorage)


def test_storage_save_open_exists_delete(storage, media_root):
    name = storage.save("images/a.png", ContentFile(DATA))

    assert name == "images/a.png"
    assert (media_root / "images" / "a.png").read_bytes() == DATA
    assert storage.exists(name)
    with storage.open(name) as handle:
        assert handle.read() == DATA
    storage.delete(name)
    assert not storage.exists(name)


def test_storage_save_existing_name_gets_new_name(storage):
    first = storage.save("a.png", ContentFile(DATA))
    second = storage.save("a.png", ContentFile(DATA))

    assert first != second


def test_storage_open_missing_raises_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("missing.png")


def test_storage_delete_missing_is_noop(storage):
    storage.delete("missing.png")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.save("../escape.png", ContentFile(DATA)),
        lambda s: s.open("../escape.png"),
        lambda s: s.path("/etc/passwd"),
        lambda s: s.exists("../../etc/passwd"),
        lambda s: s.url("../escape.png"),
        lambda s: s.transformed_url("a/../../escape.png", parse("w-10")),
    ],
    ids=["save", "open", "path", "exists", "url", "transformed_url"],
)
def test_storage_path_outside_root_raises_suspicious_operation(storage, call):
    with pytest.raises(SuspiciousOperation):
        call(storage)


def test_storage_follows_media_root_override(storage, settings, tmp_path):
    storage.save("before.png", ContentFile(DATA))
    settings.MEDIA_ROOT = tmp_path / "elsewhere"

    storage.save("after.png", ContentFile(DATA))

    assert storage.location == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "after.png").exists()


def test_storage_location_kwarg_wins_over_setting(site, tmp_path):
    storage = LocalMediaStorage(location=tmp_path / "fixed")

    assert storage.location == str(tmp_path / "fixed")


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("images/abc.jpg", "http://127.0.0.1:8000/media/images/abc.jpg"),
        ("/images/abc.jpg", "http://127.0.0.1:8000/media/images/abc.jpg"),
        ("images/a b.jpg", "http://127.0.0.1:8000/media/images/a%20b.jpg"),
    ],
)
def test_storage_url(storage, name, url):
    assert storage.url(name) == url


@pytest.mark.parametrize(
    ("chain", "url"),
    [
        ("w-120,f-webp", "http://127.0.0.1:8000/media/tr:w-120,f-webp/images/abc.jpg"),
        ("w-300,h-200:f-png", "http://127.0.0.1:8000/media/tr:w-300,h-200:f-png/images/abc.jpg"),
        ("", "http://127.0.0.1:8000/media/images/abc.jpg"),
    ],
)
def test_storage_transformed_url(storage, chain, url):
    built = storage.transformed_url("images/abc.jpg", parse(chain))

    assert unsigned(built) == url
    assert ("?ik-s=" in built) == bool(chain)


def test_storage_transformed_url_signature_covers_path_and_chain(storage):
    built = storage.transformed_url("images/abc.jpg", parse("w-120"))

    target = "tr:w-120/images/abc.jpg" + str(DEFAULT_EXPIRY)
    assert built.endswith(f"?ik-s={signature(target, signing_key())}")


def test_storage_transformed_url_without_transformation_is_url(storage):
    assert storage.transformed_url("images/abc.jpg") == storage.url("images/abc.jpg")


def test_storage_url_follows_site_and_media_url_changes(storage, settings):
    storage.url("warm-the-cache.jpg")

    settings.SITE_URL = "https://shop.example"
    assert storage.url("a.jpg") == "https://shop.example/media/a.jpg"
    settings.MEDIA_URL = "/files/"
    assert unsigned(storage.transformed_url("a.jpg", parse("w-10"))) == (
        "https://shop.example/files/tr:w-10/a.jpg"
    )


def test_storage_absolute_media_url_used_as_is(storage, settings):
    settings.MEDIA_URL = "https://cdn.example/m/"

    assert storage.url("a.jpg") == "https://cdn.example/m/a.jpg"


@pytest.mark.parametrize("base_url", ["https://img.example/x", "https://img.example/x/"])
def test_storage_base_url_kwarg_wins_over_settings(site, base_url):
    storage = LocalMediaStorage(base_url=base_url)

    built = storage.transformed_url("a.jpg", parse("h-5"))

    assert unsigned(built) == "https://img.example/x/tr:h-5/a.jpg"


def test_storage_unknown_option_raises_improperly_configured():
    with pytest.raises(ImproperlyConfigured, match="bucket"):
        LocalMediaStorage(bucket="photos")


def test_storage_deconstructs_to_own_path(tmp_path):
    path, args, kwargs = LocalMediaStorage(location=str(tmp_path)).deconstruct()

    assert path == "media_store.storage.local.LocalMediaStorage"
    assert (args, kwargs) == ((), {"location": str(tmp_path)})


def test_storage_pickles_without_cached_settings(storage, settings):
    storage.url("warm.jpg")

    clone = pickle.loads(pickle.dumps(storage))
    settings.SITE_URL = "https://other.example"
    assert clone.url("a.jpg") == "https://other.example/media/a.jpg"
    settings.SITE_URL = "https://third.example"
    assert clone.url("a.jpg") == "https://third.example/media/a.jpg"
