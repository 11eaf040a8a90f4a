from __future__ import annotations

import re

import pytest

from media_store.imagekit_server.names import (
    normalise_folder,
    sanitise_file_name,
    sanitise_folder,
    split_extension,
    with_unique_suffix,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a b.jpg", "a_b.jpg"),
        ("a/b\\c.jpg", "a_b_c.jpg"),
        ("über-größe.png", "über-größe.png"),
        ("tab\there", "tab_here"),
        ("emoji😀.gif", "emoji_.gif"),
        ("already_fine-1.2.jpg", "already_fine-1.2.jpg"),
    ],
)
def test_sanitise_file_name(name: str, expected: str) -> None:
    assert sanitise_file_name(name) == expected


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("a", "/a/"),
        ("/a/b/", "/a/b/"),
        ("a b/c.d", "/a_b/c_d/"),
        ("../..", "/__/__/"),
    ],
)
def test_sanitise_folder(folder: str | None, expected: str) -> None:
    assert sanitise_folder(folder) == expected


def test_normalise_folder_keeps_characters() -> None:
    assert normalise_folder("sales banner//2024") == "/sales banner/2024/"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", ("photo", ".jpg")),
        ("a.tar.gz", ("a.tar", ".gz")),
        (".hidden", (".hidden", "")),
        ("noext", ("noext", "")),
    ],
)
def test_split_extension(name: str, expected: tuple[str, str]) -> None:
    assert split_extension(name) == expected


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("photo.jpg", r"photo_[A-Za-z0-9_-]{8}\.jpg"),
        ("a.tar.gz", r"a\.tar_[A-Za-z0-9_-]{8}\.gz"),
        ("README", r"README_[A-Za-z0-9_-]{8}"),
    ],
)
def test_with_unique_suffix(name: str, pattern: str) -> None:
    assert re.fullmatch(pattern, with_unique_suffix(name))
