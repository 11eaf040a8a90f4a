from __future__ import annotations

import httpx
import pytest
from imagekitio import BadRequestError, ImageKit
from imagekitio.types import File, Folder

from media_store.imagekit_server import ImageKitServer
from tests.media_store.imagekit_server.conftest import PRIVATE_KEY, image_bytes


@pytest.fixture
def library(client: ImageKit) -> dict[str, str]:
    """Four files: name → fileId, uploaded in this order."""
    uploads = [
        ("b.png", "/shop/", image_bytes((30, 10)), ["red"]),
        ("a.txt", "/shop/", b"x" * 500, None),
        ("c.png", "/shop/shoes/", image_bytes((10, 20)), ["red", "sale"]),
        ("d.txt", "/", b"y" * 5000, ["sale"]),
    ]
    ids = {}
    for name, folder, data, tags in uploads:
        uploaded = client.files.upload(
            file=data,
            file_name=name,
            folder=folder,
            use_unique_file_name=False,
            **({"tags": tags} if tags else {}),
        )
        ids[name] = uploaded.file_id
    return ids


def names(items: list) -> list[str]:
    return [item.name for item in items]


def test_list_defaults_to_every_file_by_creation(client: ImageKit, library: dict) -> None:
    listed = client.assets.list()

    assert names(listed) == ["b.png", "a.txt", "c.png", "d.txt"]
    assert all(isinstance(item, File) for item in listed)


def test_list_path_is_that_folder_only(client: ImageKit, library: dict) -> None:
    assert names(client.assets.list(path="/shop/")) == ["b.png", "a.txt"]
    assert names(client.assets.list(path="shop/shoes")) == ["c.png"]
    assert client.assets.list(path="/nowhere/") == []


def test_list_folders(client: ImageKit, library: dict) -> None:
    folders = client.assets.list(type="folder", path="/")

    assert [f.folder_path for f in folders] == ["/shop"]
    assert isinstance(folders[0], Folder)
    assert [f.name for f in client.assets.list(type="folder", path="/shop")] == ["shoes"]


def test_list_type_all_sorts_folders_with_files(client: ImageKit, library: dict) -> None:
    listed = client.assets.list(type="all", path="/shop/")

    # A folder is as old as its oldest file: shoes/ appeared with c.png, after a.txt.
    assert [item.name for item in listed] == ["b.png", "a.txt", "shoes"]


def test_list_file_type(client: ImageKit, library: dict) -> None:
    assert names(client.assets.list(file_type="image")) == ["b.png", "c.png"]
    assert names(client.assets.list(file_type="non-image")) == ["a.txt", "d.txt"]


def test_list_skip_and_limit(client: ImageKit, library: dict) -> None:
    assert names(client.assets.list(skip=1, limit=2)) == ["a.txt", "c.png"]
    assert client.assets.list(skip=10) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("ASC_NAME", ["a.txt", "b.png", "c.png", "d.txt"]),
        ("DESC_NAME", ["d.txt", "c.png", "b.png", "a.txt"]),
        ("DESC_CREATED", ["d.txt", "c.png", "a.txt", "b.png"]),
        ("DESC_WIDTH", ["b.png", "c.png", "d.txt", "a.txt"]),
        ("ASC_HEIGHT", ["a.txt", "d.txt", "b.png", "c.png"]),
    ],
)
def test_list_sort(client: ImageKit, library: dict, sort: str, expected: list[str]) -> None:
    assert names(client.assets.list(sort=sort)) == expected  # type: ignore[arg-type]


def test_list_sort_by_size(client: ImageKit, library: dict) -> None:
    ascending = [item.size for item in client.assets.list(sort="ASC_SIZE")]
    descending = [item.size for item in client.assets.list(sort="DESC_SIZE")]

    assert ascending == sorted(ascending)
    assert descending == sorted(ascending, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('name = "a.txt"', ["a.txt"]),
        ('name = "A.txt"', []),
        ('name : "b"', ["b.png"]),
        ('name IN ["a.txt", "d.txt"]', ["a.txt", "d.txt"]),
        ('tags IN ["sale"]', ["c.png", "d.txt"]),
        ('tags NOT IN ["red"] AND type = "file"', ["a.txt", "d.txt"]),
        ("size > 1kb", ["d.txt"]),
        ('size <= 500 AND format = "txt"', ["a.txt"]),
        ('width > 20 OR name = "d.txt"', ["b.png", "d.txt"]),
        ('NOT (fileType = "image") AND type = "file"', ["a.txt", "d.txt"]),
        ('createdAt > "1d"', ["shop", "b.png", "a.txt", "shoes", "c.png", "d.txt"]),
        ('createdAt < "1d"', []),
        ('type = "folder"', ["shop", "shoes"]),
    ],
)
def test_list_search_query(client: ImageKit, library: dict, query: str, expected: list) -> None:
    assert names(client.assets.list(search_query=query)) == expected


def test_list_search_query_keeps_path(client: ImageKit, library: dict) -> None:
    listed = client.assets.list(path="/shop/", search_query='name : "a"')

    assert names(listed) == ["a.txt"]


@pytest.mark.parametrize(
    "query",
    ['colour = "red"', 'name = "a', "size > big", 'name < "b"', "(size > 1", 'createdAt = "7d"'],
)
def test_list_bad_search_query_is_400(client: ImageKit, query: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.assets.list(search_query=query)

    assert "searchQuery" in caught.value.body["message"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "0"), ("limit", "1001"), ("skip", "-1"), ("sort", "SIDEWAYS"), ("type", "x")],
)
def test_list_bad_parameter_is_400(server: ImageKitServer, param: str, value: str) -> None:
    response = httpx.get(f"{server.url}/v1/files", params={param: value}, auth=(PRIVATE_KEY, ""))

    assert response.status_code == 400
    assert param in response.json()["message"]
