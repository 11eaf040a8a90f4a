from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from media_store.selection import (
    IMAGEKIT_STORAGE_BACKEND,
    LOCAL_STORAGE_BACKEND,
    select_storages,
)

ALL = {
    "IMAGEKIT_PRIVATE_KEY": "private_secret_value",
    "IMAGEKIT_PUBLIC_KEY": "public_value",
    "IMAGEKIT_URL_ENDPOINT": "https://ik.imagekit.io/demo",
}


def test_select_storages_none_set_uses_local_storage():
    storages = select_storages(imagekit=dict.fromkeys(ALL, ""))

    assert storages["default"]["BACKEND"] == LOCAL_STORAGE_BACKEND
    assert "staticfiles" in storages


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        (["IMAGEKIT_PRIVATE_KEY"], ["IMAGEKIT_PUBLIC_KEY", "IMAGEKIT_URL_ENDPOINT"]),
        (["IMAGEKIT_PUBLIC_KEY"], ["IMAGEKIT_PRIVATE_KEY", "IMAGEKIT_URL_ENDPOINT"]),
        (["IMAGEKIT_PRIVATE_KEY", "IMAGEKIT_URL_ENDPOINT"], ["IMAGEKIT_PUBLIC_KEY"]),
        (["IMAGEKIT_PUBLIC_KEY", "IMAGEKIT_URL_ENDPOINT"], ["IMAGEKIT_PRIVATE_KEY"]),
    ],
)
def test_select_storages_partial_configuration_names_missing_variables(present, missing):
    config = {name: (ALL[name] if name in present else "") for name in ALL}

    with pytest.raises(ImproperlyConfigured) as excinfo:
        select_storages(imagekit=config)

    message = str(excinfo.value)
    for name in missing:
        assert name in message
    for name in present:
        assert f"{name} is not set" not in message
    assert ALL["IMAGEKIT_PRIVATE_KEY"] not in message


def test_select_storages_all_set_uses_imagekit():
    storages = select_storages(imagekit=ALL)

    assert storages["default"]["BACKEND"] == IMAGEKIT_STORAGE_BACKEND
    assert ALL["IMAGEKIT_PRIVATE_KEY"] not in repr(storages)


def test_settings_module_refuses_partial_imagekit_configuration():
    """The real settings module, loaded in a fresh interpreter, stops on a partial setup."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "IMAGEKIT_PRIVATE_KEY": "private_secret_value",
        "IMAGEKIT_PUBLIC_KEY": "",
        "IMAGEKIT_URL_ENDPOINT": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "IMAGEKIT_PUBLIC_KEY, IMAGEKIT_URL_ENDPOINT are not set" in result.stderr
    assert "private_secret_value" not in result.stderr
