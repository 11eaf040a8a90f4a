"""The production server for real: gunicorn with config/gunicorn.py in a child process."""

from __future__ import annotations

import http.client
import json
import os
import runpy
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.gunicorn_process import CONFIG, GunicornProcess

BASE_DIR = Path(__file__).resolve().parent.parent
PROBE = "query Probe { __typename }"
# A file that only the staticfiles finders know (no collectstatic has run).
STATIC_FILE = next(
    path for path in sorted((BASE_DIR / "config" / "static").rglob("*")) if path.is_file()
)


def server_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Production-like settings on temporary folders (no ImageKit, DEBUG off, JSON logs)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "MEDIA_RENDITION_CACHE_DIR": str(tmp_path / "renditions"),
        "IMAGEKIT_PRIVATE_KEY": "",
        "IMAGEKIT_PUBLIC_KEY": "",
        "IMAGEKIT_URL_ENDPOINT": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **overrides,
    }


def request(
    server: GunicornProcess, method: str, path: str, body: dict | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, payload, headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def load_config(monkeypatch: pytest.MonkeyPatch, exported: dict | None = None, **env: str) -> dict:
    """config/gunicorn.py's settings with only ``env`` among the variables it reads;
    ``exported`` receives the environment as the config leaves it (for its workers)."""
    for name in (
        "HOST", "PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_WORKER_CONNECTIONS",
        "GUNICORN_KEEPALIVE", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS",
        "GUNICORN_MAX_REQUESTS_JITTER", "GUNICORN_ACCESS_LOG", "IMAGEKIT_UPLOAD_TIMEOUT",
        "IMAGEKIT_MAX_RETRIES",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    saved = dict(os.environ)  # a developer's .env must not leak into other tests
    try:
        config = runpy.run_path(str(CONFIG))
        if exported is not None:
            exported.update(os.environ)
        return config
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_config_defaults(monkeypatch):
    config = load_config(monkeypatch)

    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["worker_class"] == "gthread"
    assert config["workers"] == 2 * len(os.sched_getaffinity(0))
    assert config["threads"] == 8
    assert config["worker_connections"] == 8  # a burst spreads over the workers
    assert config["keepalive"] == 0
    assert config["timeout"] == config["graceful_timeout"] == 60 * 3 + 30
    assert (config["max_requests"], config["max_requests_jitter"]) == (1000, 100)
    assert config["accesslog"] == "-"


def test_config_exports_its_worker_count_for_the_workers(monkeypatch):
    # config/settings.py reads it in each worker (the local CDN's render slots).
    exported: dict = {}
    config = load_config(monkeypatch, exported)

    assert exported["WEB_CONCURRENCY"] == str(config["workers"])
    assert config["workers"] == 2 * len(os.sched_getaffinity(0))
    assert "WEB_CONCURRENCY" not in os.environ  # the test's own environment is left as it was


def test_config_from_environment(monkeypatch):
    config = load_config(
        monkeypatch,
        HOST="0.0.0.0",
        PORT="9000",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_WORKER_CONNECTIONS="10",
        IMAGEKIT_UPLOAD_TIMEOUT="20",
        IMAGEKIT_MAX_RETRIES="1",
        GUNICORN_ACCESS_LOG="",
    )

    assert config["bind"] == ["0.0.0.0:9000"]
    assert (config["workers"], config["threads"], config["worker_connections"]) == (3, 4, 10)
    assert config["keepalive"] == 5  # room for kept-alive connections
    assert config["timeout"] == 20 * 2 + 30  # longer than an upload and its retry
    assert config["accesslog"] is None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornProcess]:
    env = server_env(tmp_path_factory.mktemp("gunicorn"))
    with GunicornProcess(env, workers=2, threads=2) as running:
        yield running


def test_gunicorn_answers_graphql_with_debug_off(server):
    status, headers, body = request(server, "POST", "/graphql/", {"query": PROBE})

    assert status == 200
    assert json.loads(body) == {"data": {"__typename": "Query"}}
    rid = headers["X-Request-ID"]
    # The app's line (stderr, JSON) and gunicorn's access line (stdout) name the request.
    server.wait_for(lambda: any(rid in line for line in server.errors), "log the request")
    (line,) = [json.loads(line) for line in server.errors if rid in line]
    assert line["logger"] == "ops.request"
    assert line["graphql_operation"] == "Probe"
    assert line["status"] == 200
    server.wait_for(lambda: any(f"request_id={rid}" in line for line in server.output), "log")
    (access,) = [line for line in server.output if rid in line]
    assert '"POST /graphql/ HTTP/1.1" 200' in access


def test_gunicorn_serves_static_file_with_debug_off(server):
    relative = STATIC_FILE.relative_to(BASE_DIR / "config" / "static").as_posix()

    status, _headers, body = request(server, "GET", f"/static/{relative}")

    assert status == 200
    assert body == STATIC_FILE.read_bytes()


def test_gunicorn_health_endpoints(server):
    assert request(server, "GET", "/healthz")[0] == 200
    status, _headers, body = request(server, "GET", "/readyz")

    assert status == 200, body
    assert json.loads(body)["status"] == "ready"


def test_gunicorn_reloads_on_hup_and_still_answers(server):
    old = server.worker_pids()

    server.reload()

    assert server.worker_pids().isdisjoint(old)
    status, _headers, body = request(server, "POST", "/graphql/", {"query": PROBE})
    assert status == 200
    assert json.loads(body) == {"data": {"__typename": "Query"}}
    assert request(server, "GET", "/healthz")[0] == 200


def test_gunicorn_readyz_names_database_down(tmp_path):
    # given: a database file that cannot be opened
    env = server_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")

    with GunicornProcess(env, workers=1, threads=1) as server:
        live = request(server, "GET", "/healthz")[0]
        status, _headers, body = request(server, "GET", "/readyz")

    assert live == 200
    assert status == 503
    answer = json.loads(body)
    assert answer["failed"] == ["database"]
    assert (
        answer["checks"]["database"] == "the database 'default' did not answer (OperationalError)"
    )
    assert str(tmp_path) not in body.decode()
