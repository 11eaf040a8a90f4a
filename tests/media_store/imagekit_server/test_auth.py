from __future__ import annotations

import base64

import httpx
import pytest
from imagekitio import AuthenticationError, ImageKit, PermissionDeniedError, omit

from media_store.imagekit_server import ImageKitServer
from media_store.imagekit_server.errors import HELP, MISSING_KEY, WRONG_KEY
from tests.media_store.imagekit_server.conftest import PRIVATE_KEY


def test_no_key_is_401(server: ImageKitServer) -> None:
    client = ImageKit(private_key="unused", base_url=server.url, max_retries=0)

    with pytest.raises(AuthenticationError) as caught:
        # The SDK's documented way to send no Authorization header at all.
        client.assets.list(extra_headers={"Authorization": omit})

    assert caught.value.status_code == 401
    assert caught.value.body == {"message": MISSING_KEY, "help": HELP}
    assert caught.value.response.headers["x-ik-requestId"]


def test_wrong_key_is_403(server: ImageKitServer) -> None:
    client = ImageKit(private_key="not-the-key", base_url=server.url, max_retries=0)

    with pytest.raises(PermissionDeniedError) as caught:
        client.files.upload(file=b"x", file_name="a.txt")

    assert caught.value.status_code == 403
    assert caught.value.body["message"] == WRONG_KEY
    assert server.store.files() == []


@pytest.mark.parametrize("password", ["do_not_set", "", "anything:with:colons"])
def test_only_the_username_is_compared(server: ImageKitServer, password: str) -> None:
    client = ImageKit(private_key=PRIVATE_KEY, password=password, base_url=server.url)

    assert client.assets.list() == []


def test_raw_key_in_basic_auth_accepted(server: ImageKitServer) -> None:
    response = httpx.get(
        f"{server.url}/v1/files", headers={"Authorization": f"Basic {PRIVATE_KEY}"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ("Bearer token", 401),
        ("Basic", 401),
        (f"Basic {base64.b64encode(b':only-password').decode()}", 401),
        ("Basic %%%", 403),
    ],
)
def test_malformed_authorization(server: ImageKitServer, authorization: str, status: int) -> None:
    response = httpx.get(f"{server.url}/v1/files", headers={"Authorization": authorization})

    assert response.status_code == status


def test_unknown_route_is_json_404(server: ImageKitServer) -> None:
    response = httpx.get(f"{server.url}/v2/nothing")

    assert response.status_code == 404
    assert "message" in response.json()
    assert response.headers["x-ik-requestId"]


def test_unknown_route_is_logged_without_an_endpoint(server: ImageKitServer) -> None:
    httpx.get(f"{server.url}/v1/nothing")

    (logged,) = server.requests.entries()
    assert (logged.endpoint, logged.status, logged.path) == (None, 404, "/v1/nothing")
