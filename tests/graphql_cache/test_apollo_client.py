"""Apollo Client's persisted-queries link, from npm, against two production servers.

Real node running @apollo/client (tests/js/apollo_client.mjs, configured as
README.md shows) over real HTTP to gunicorn, two instances sharing one database
(SQLite file) and one Redis: a document registered through one is found through
the other, a write through one is never followed by a stale read from the other,
and the allow-list mode runs what Apollo's manifest generator listed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ops.gunicorn_process import BASE_DIR, GunicornProcess

JS = BASE_DIR / "tests" / "js"
NODE = shutil.which("node")
README = BASE_DIR / "README.md"
APOLLO_MARKER = "<!-- apollo-client: tests/graphql_cache/test_apollo_client.py runs this"
CURL_MARKER = "<!-- persisted-curl: tests/graphql_cache/test_apollo_client.py runs these"

CATEGORIES = "query Categories { categories { name slug } }"
PRODUCTS = "query Products { products { totalCount } }"
CREATE_CATEGORY = """
mutation CreateCategory($input: CategoryInput!) {
  createCategory(input: $input) { __typename ... on Category { name } }
}
"""


@pytest.fixture(scope="module")
def node() -> str:
    if NODE is None:
        pytest.fail("node is not installed: apt-get install nodejs npm (make test does)")
    if not (JS / "node_modules" / "@apollo" / "client").is_dir():
        pytest.fail("The JavaScript clients are not installed: npm ci --prefix tests/js")
    return NODE


@pytest.fixture(scope="module")
def environment(tmp_path_factory, redis_url) -> dict[str, str]:
    """A production-like deployment on temporary folders, its database migrated and
    its Redis database (one of the run's Redis of its own) empty."""
    folder = tmp_path_factory.mktemp("apollo")
    cache_url = redis_url.rsplit("/", 1)[0] + "/5"
    redis.Redis.from_url(cache_url).flushdb()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CACHE_URL": cache_url,
        "MEDIA_ROOT": str(folder / "media"),
        "MEDIA_RENDITION_CACHE_DIR": str(folder / "renditions"),
        "IMAGEKIT_PRIVATE_KEY": "",
        "IMAGEKIT_PUBLIC_KEY": "",
        "IMAGEKIT_URL_ENDPOINT": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GUNICORN_ACCESS_LOG": "",
    }
    manage(env, "migrate", "--noinput")
    return env


@pytest.fixture(scope="module")
def servers(environment) -> Iterator[tuple[GunicornProcess, GunicornProcess]]:
    with (
        GunicornProcess(environment, workers=1, threads=4) as one,
        GunicornProcess(environment, workers=1, threads=4) as two,
    ):
        yield one, two


@pytest.fixture(scope="module")
def token(environment) -> str:
    manage(
        {**environment, "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(16)},
        "createsuperuser", "--noinput", "--username", "editor", "--email", "editor@example.com",
    )  # fmt: skip
    return manage(environment, "create_api_token", "editor").strip()


def manage(env: dict[str, str], *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def apollo(node: str, tmp_path: Path, clients: dict, steps: list[dict]) -> list[dict]:
    """Run ``steps`` through Apollo Client (tests/js/apollo_client.mjs); return their results."""
    scenario = tmp_path / f"scenario-{secrets.token_hex(4)}.json"
    scenario.write_text(json.dumps({"clients": clients, "steps": steps}))
    completed = subprocess.run(
        [node, str(JS / "apollo_client.mjs"), str(scenario)],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def wire(result: dict) -> list[tuple[str, bool, int]]:
    """(method, document sent, status) of each request a step made."""
    return [(r["method"], r["sentDocument"], r["status"]) for r in result["requests"]]


def logged_requests(server: GunicornProcess) -> list[dict]:
    lines = (json.loads(line) for line in server.errors if line.startswith("{"))
    return [line for line in lines if line.get("logger") == "ops.request"]


def client(server: GunicornProcess, token: str | None = None) -> dict:
    return {"uri": f"{server.url}/graphql/", **({"token": token} if token else {})}


def test_registered_through_one_server_found_through_the_other(node, servers, tmp_path):
    one, two = servers

    first, second, third = apollo(
        node,
        tmp_path,
        {"a": client(one), "b": client(two), "c": client(two)},
        [
            {"client": "a", "query": PRODUCTS},
            {"client": "b", "query": PRODUCTS},
            {"client": "c", "query": PRODUCTS},
        ],
    )

    # Hash alone as GET, PersistedQueryNotFound, then hash and document as POST.
    assert wire(first) == [("GET", False, 200), ("POST", True, 200)]
    assert first["data"] == {"products": {"__typename": "ProductConnection", "totalCount": 0}}
    # Another client, through the other server: found at once, by GET.
    assert wire(second) == wire(third) == [("GET", False, 200)]
    assert second["data"] == third["data"] == first["data"]
    (request,) = third["requests"]
    assert request["cacheControl"] == "public, max-age=30, stale-while-revalidate=60"
    assert request["etag"]
    # The last one came from the shared response cache: no SQL.
    assert logged_requests(two)[-1]["sql_queries"] == 0


def test_write_through_one_server_read_fresh_through_the_other(node, servers, token, tmp_path):
    one, two = servers
    clients = {"reader": client(two), "editor": client(one, token)}
    read = {"client": "reader", "query": CATEGORIES}
    before, cached = apollo(node, tmp_path, clients, [read, read])
    assert before["data"]["categories"] == cached["data"]["categories"] == []
    assert logged_requests(two)[-1]["sql_queries"] == 0

    created, after = apollo(
        node,
        tmp_path,
        clients,
        [
            {
                "client": "editor",
                "mutation": CREATE_CATEGORY,
                "variables": {"input": {"name": "Lamps", "slug": "lamps"}},
            },
            read,
        ],
    )

    assert created["error"] is None
    assert created["data"]["createCategory"]["name"] == "Lamps"
    # Mutations never go as GET, persisted or not.
    assert {method for method, _, _ in wire(created)} == {"POST"}
    assert after["data"]["categories"] == [
        {"__typename": "Category", "name": "Lamps", "slug": "lamps"}
    ]


def test_allow_list_runs_what_the_manifest_generator_listed(node, environment, tmp_path):
    # What a front end's build does: @apollo/generate-persisted-query-manifest over
    # its documents, then the deploy registers the manifest.
    (tmp_path / "categories.graphql").write_text(CATEGORIES)
    config = tmp_path / "persisted-query-manifest.config.json"
    config.write_text(json.dumps({"documents": ["*.graphql"], "output": "manifest.json"}))
    generator = JS / "node_modules" / ".bin" / "generate-persisted-query-manifest"
    subprocess.run(
        [str(generator), "--config", str(config)], cwd=tmp_path, check=True, capture_output=True
    )
    env = {**environment, "GRAPHQL_PERSISTED_QUERIES_ONLY": "true"}
    assert "Registered 1 document(s)" in manage(
        env, "register_persisted_queries", str(tmp_path / "manifest.json")
    )

    with GunicornProcess(env, workers=1, threads=4) as locked:
        listed, unlisted = apollo(
            node,
            tmp_path,
            {"a": client(locked)},
            [{"client": "a", "query": CATEGORIES}, {"client": "a", "query": PRODUCTS}],
        )

    assert wire(listed) == [("GET", False, 200)]
    assert listed["error"] is None
    assert wire(unlisted) == [("GET", False, 404)]
    assert unlisted["data"] is None
    assert unlisted["error"]["codes"] == ["PERSISTED_QUERY_NOT_IN_LIST"]


def readme_block(marker: str, language: str) -> str:
    text = README.read_text()
    block = re.search(rf"```{language}\n(.*?)```", text[text.index(marker) :], re.DOTALL)
    assert block, f"README: no ```{language} block after {marker!r}"
    return block.group(1)


def test_readme_shows_the_apollo_configuration_tested_here():
    script = (JS / "apollo_client.mjs").read_text()
    lines = [line.strip() for line in readme_block(APOLLO_MARKER, "js").splitlines()]
    # Everything but the URL: the imports, the cache and the link.
    shown = [line for line in lines if line.startswith(("import ", "cache:", "link:"))]

    assert len(shown) == 5
    for line in shown:
        assert line in script, line


def test_readme_curl_commands(servers):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed: apt-get install curl")
    one, _ = servers
    commands = readme_block(CURL_MARKER, "sh").replace("http://127.0.0.1:8000", one.url)

    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    decoder, output, answers = json.JSONDecoder(), completed.stdout, []
    while output.strip():
        answer, end = decoder.raw_decode(output.strip())
        answers.append(answer)
        output = output.strip()[end:]
    not_found, registered, found = answers
    assert not_found["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "categories" in registered["data"]
    assert found == registered
