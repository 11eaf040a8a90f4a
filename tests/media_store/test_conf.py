"""media_store.conf: options shared by both storages."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from media_store.storage.imagekit import ImageKitStorage
from media_store.storage.local import LocalMediaStorage

IMAGEKIT_OPTIONS = {"private_key": "private_key", "url_endpoint": "https://ik.imagekit.io/demo"}


def expires_in(url: str) -> float:
    return int(parse_qs(urlsplit(url).query)["ik-t"][0]) - time.time()


def test_signed_url_expire_applies_to_both_storages(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "SIGNED_URL_EXPIRE": 600}

    local = LocalMediaStorage().url("private/images/a.jpg")
    imagekit = ImageKitStorage(**IMAGEKIT_OPTIONS).transformed_url("images/a.jpg", private=True)

    assert 590 < expires_in(local) <= 600
    assert 590 < expires_in(imagekit) <= 600


def test_signed_url_expire_imagekit_option_wins_over_the_setting(settings):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "SIGNED_URL_EXPIRE": 600}

    storage = ImageKitStorage(**IMAGEKIT_OPTIONS, signed_url_expire=60)

    assert 50 < expires_in(storage.transformed_url("images/a.jpg", private=True)) <= 60
