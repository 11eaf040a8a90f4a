from __future__ import annotations

import json
import time

import httpx
import pytest
from imagekitio import APIConnectionError, BadRequestError, ImageKit, InternalServerError

from media_store.imagekit_server import FaultInjector, ImageKitServer
from media_store.imagekit_server.errors import MISSING_FILE
from tests.media_store.imagekit_server.conftest import PRIVATE_KEY, NonSeekable

# The SDK honours retry-after-ms, so retry tests don't sleep its 0.5 s backoff.
FAST_RETRY = {"retry-after-ms": "10"}


def retrying_client(server: ImageKitServer, retries: int = 2) -> ImageKit:
    return ImageKit(private_key=PRIVATE_KEY, base_url=server.url, max_retries=retries)


def test_500_then_success_stores_one_file(server: ImageKitServer) -> None:
    server.faults.fail("upload", 500, headers=FAST_RETRY)

    uploaded = retrying_client(server).files.upload(file=b"once", file_name="a.txt")

    assert [r.file_id for r in server.store.files()] == [uploaded.file_id]
    log = server.requests.entries("upload")
    assert [(e.retry_count, e.status, e.fault) for e in log] == [(0, 500, "status"), (1, 200, None)]
    assert all(e.body_size > 0 for e in log)  # the body was read (drained) even when failing


def test_429_with_retry_after_is_retried(server: ImageKitServer) -> None:
    server.faults.fail("list", 429, headers={"Retry-After": "1"})
    started = time.monotonic()

    assert retrying_client(server).assets.list() == []

    assert time.monotonic() - started >= 0.9
    assert [e.status for e in server.requests.entries("list")] == [429, 200]


def test_persistent_503_fails_after_three_attempts(server: ImageKitServer) -> None:
    server.faults.fail("upload", 503, times=None, headers=FAST_RETRY)

    with pytest.raises(InternalServerError) as caught:
        retrying_client(server).files.upload(file=b"x", file_name="a.txt")

    assert caught.value.status_code == 503
    assert caught.value.body["message"] == "Injected fault: 503 Service Unavailable"
    assert [e.retry_count for e in server.requests.entries("upload")] == [0, 1, 2]
    assert server.store.files() == []


def test_faults_are_consumed_in_order(server: ImageKitServer) -> None:
    server.faults.fail("details", 500, headers=FAST_RETRY)
    server.faults.fail("details", 429, headers=FAST_RETRY)
    uploaded = retrying_client(server).files.upload(file=b"x", file_name="a.txt")

    retrying_client(server).files.get(uploaded.file_id)

    assert [e.status for e in server.requests.entries("details")] == [500, 429, 200]


def test_dropped_connection_is_api_connection_error(
    client: ImageKit, server: ImageKitServer
) -> None:
    server.faults.drop("upload")

    with pytest.raises(APIConnectionError):
        client.files.upload(file=b"x", file_name="a.txt")

    assert server.store.files() == []
    (logged,) = server.requests.entries("upload")
    assert (logged.status, logged.fault) == (None, "drop")
    # The next request is served normally.
    assert client.files.upload(file=b"x", file_name="a.txt").name


def test_retry_of_a_non_seekable_upload_sends_an_empty_file(server: ImageKitServer) -> None:
    # The SDK cannot rewind a stream: attempt 2 carries an empty file part (protocol notes §4).
    server.faults.fail("upload", 500, headers=FAST_RETRY)

    with pytest.raises(BadRequestError) as caught:
        retrying_client(server, retries=1).files.upload(
            file=("s.txt", NonSeekable(b"data"), "text/plain"), file_name="s.txt"
        )

    assert caught.value.body["message"] == MISSING_FILE


def test_latency_is_added_to_one_endpoint(client: ImageKit, server: ImageKitServer) -> None:
    server.faults.delay("list", 0.3)

    started = time.monotonic()
    client.assets.list()
    slow = time.monotonic() - started
    started = time.monotonic()
    httpx.get(f"{server.url_endpoint}/missing.txt")
    fast = time.monotonic() - started

    assert slow >= 0.3
    assert fast < 0.3
    assert server.requests.entries("list")[-1].duration >= 0.3


def test_cdn_fault(server: ImageKitServer) -> None:
    server.faults.fail("cdn", 502, body="bad gateway")

    response = httpx.get(f"{server.url_endpoint}/anything.jpg")

    assert (response.status_code, response.text) == (502, "bad gateway")


def test_malformed_answers_reach_the_sdk_as_documented_nowhere(
    client: ImageKit, server: ImageKitServer
) -> None:
    # What the SDK (lenient parsing, its default) makes of each kind of 200.
    server.faults.malformed("details", "not-json")
    server.faults.malformed("details", "text")
    server.faults.malformed("details", "wrong-shape")
    server.faults.malformed("details", "wrong-types")

    with pytest.raises(json.JSONDecodeError):
        client.files.get("0" * 24)
    as_text = client.files.get("0" * 24)
    as_list = client.files.get("0" * 24)
    wrong_types = client.files.get("0" * 24)

    assert isinstance(as_text, str)
    assert as_list == ["not", "a", "file"]
    assert (wrong_types.file_id, wrong_types.size) == (5, "big")
    assert [e.status for e in server.requests.entries("details")] == [200] * 4
    assert server.store.files() == []


def test_malformed_answer_over_the_admin_route(client: ImageKit, server: ImageKitServer) -> None:
    added = httpx.post(f"{server.url}/__faults__", json={"endpoint": "upload", "malformed": "text"})

    answer = client.files.upload(file=b"x", file_name="a.txt")

    assert added.status_code == 200
    assert isinstance(answer, str)
    assert server.store.files() == []


def test_admin_route_configures_faults_over_http(server: ImageKitServer) -> None:
    rule = {
        "endpoint": "list",
        "status": 503,
        "body": {"message": "down for maintenance"},
        # ImageKit's SDK stops retrying when told so.
        "headers": {"x-should-retry": "false"},
    }

    added = httpx.post(f"{server.url}/__faults__", json=rule)
    with pytest.raises(InternalServerError) as caught:
        retrying_client(server).assets.list()
    logged = httpx.get(f"{server.url}/__requests__").json()

    assert added.status_code == 200
    assert added.json()["faults"]["list"][0]["status"] == 503
    assert caught.value.body == {"message": "down for maintenance"}
    assert [(e["endpoint"], e["status"], e["retry_count"]) for e in logged] == [("list", 503, 0)]


def test_admin_route_resets(server: ImageKitServer) -> None:
    httpx.post(f"{server.url}/__faults__", json=[{"endpoint": "*", "drop": True, "times": None}])

    assert httpx.delete(f"{server.url}/__faults__").status_code == 204
    assert httpx.get(f"{server.url}/__faults__").json() == {"faults": {}, "latency": {}}


@pytest.mark.parametrize(
    "rule",
    [{"endpoint": "nope", "status": 500}, {"endpoint": "list"}, {"endpoint": "list", "status": 42}],
)
def test_admin_route_rejects_bad_rules(server: ImageKitServer, rule: dict) -> None:
    response = httpx.post(f"{server.url}/__faults__", json=rule)

    assert response.status_code == 400
    assert "Invalid fault" in response.json()["message"]


def test_wildcard_fault_applies_to_every_endpoint(client: ImageKit, server: ImageKitServer) -> None:
    server.faults.fail("*", 500, times=2)

    with pytest.raises(InternalServerError):
        client.assets.list()
    with pytest.raises(InternalServerError):
        client.files.get("0" * 24)
    assert client.assets.list() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.fail("uploads", 500), "unknown endpoint 'uploads'"),
        (lambda f: f.fail("upload", 700), "status must be"),
        (lambda f: f.drop("upload", times=0), "times must be"),
        (lambda f: f.delay("upload", -1), "seconds must be"),
        (lambda f: f.malformed("upload", "xml"), "kind must be one of"),
    ],
)
def test_fault_injector_validates(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(FaultInjector())
