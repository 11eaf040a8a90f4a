"""The response cache: a warm persisted GET of the listing vs the hand-written view, and a 304.

Run from the project root: ``.venv/bin/python bench/bench_response_cache.py`` (``--help``
for options). Needs Debian's ``redis-server`` (the response cache needs a shared cache;
this script starts its own on a free port). Everything else runs in this process on a
temporary SQLite database and MEDIA_ROOT, with bench_listing.py's catalog (50 products
× 4 images, 2 variants each) and its ``QUERY``.

Four requests, alternating, each a direct call of the WSGI application (the project's
whole middleware stack, no sockets, no test client), so their time is the server's:

- **hand-written view**: bench_listing.py's ORM + JSON view, computed afresh every time;
- **cached listing**: ``QUERY`` as Apollo's link sends it once registered, a GET with
  ``extensions`` (the persisted query's hash) alone, anonymous: a hit in the response
  cache (its JSON is asserted equal to the view's);
- **304 revalidation**: the same GET with ``If-None-Match`` of the ETag it got;
- **miss, for reference**: the same GET right after the catalog version was replaced
  (one Redis SET, inside the timing), so it executes ``QUERY`` and stores the result.

Goals: the cached listing at least 20× faster than the hand-written view (best and
median); the 304 in at most 2 ms (best and median).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

# Run as a script, so the project root is not on sys.path yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_listing
from benchkit import Row, load_note, others_busy, start_django

from ops.local_servers import redis_server

SPEED_UP_GOAL = 20.0  # hand-written / cached, at least
REVALIDATION_GOAL_MS = 2.0  # at most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="rounds (%(default)s)")
    parser.add_argument("--budget", type=float, default=40, help="seconds at most (%(default)s)")
    args = parser.parse_args()

    print(
        f"bench_response_cache: Python {platform.python_version()}, {platform.machine()},"
        f" {os.cpu_count()} CPUs, {load_note()}; {others_busy()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-response-cache-"))
    try:
        with redis_server(tmp / "redis") as redis_url:
            start_django(tmp, migrate=True, CACHE_URL=redis_url)
            run(args, redis_url)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wsgi_call(app: Any, target: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One in-process WSGI request (no sockets): status, headers and body."""
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    setup_testing_defaults(environ)
    started: list[Any] = []

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        started.extend((int(status.split()[0]), dict(response_headers)))
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return started[0], started[1], data


def run(args: argparse.Namespace, redis_url: str) -> None:
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import path

    from config.graphql_cache import invalidation
    from config.graphql_cache.conf import response_cache_seconds
    from config.urls import urlpatterns as project_urls

    bench_listing.urlpatterns[:] = [
        *project_urls,
        path(bench_listing.LISTING_PATH.strip("/") + "/", bench_listing.listing_view),
    ]
    bench_listing.make_catalog()
    client = Client()
    sha256 = hashlib.sha256(bench_listing.QUERY.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    persisted_get = {"extensions": json.dumps(extensions)}
    accept = {"Accept": "application/json"}

    with override_settings(ROOT_URLCONF="bench_listing"):
        # Apollo's first round: the hash alone is not found, then hash and document.
        not_found = client.get("/graphql/", persisted_get, headers=accept)
        assert not_found.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = client.post(
            "/graphql/",
            json.dumps({"query": bench_listing.QUERY, "extensions": extensions}),
            content_type="application/json",
        )
        assert registered.status_code == 200, registered.content[:300]
        warm = client.get("/graphql/", persisted_get, headers=accept)
        etag = warm["ETag"]
        handwritten = client.get(bench_listing.LISTING_PATH)
        assert warm.json() == handwritten.json(), "the cached listing differs from the view's"
        print(
            f"Listing: {len(warm.content):,} bytes, the same JSON as the hand-written view; "
            f"Redis {redis_url}, entries kept {response_cache_seconds()} s; "
            f"Cache-Control {warm['Cache-Control']!r}"
        )

        app = get_wsgi_application()
        target = "/graphql/?" + urlencode(persisted_get)

        def miss():
            invalidation.bump()
            return wsgi_call(app, target)

        calls = {
            "hand-written view": lambda: wsgi_call(app, bench_listing.LISTING_PATH),
            "cached listing": lambda: wsgi_call(app, target),
            "304 revalidation": lambda: wsgi_call(app, target, If_None_Match=etag),
            "miss (reference)": miss,
        }
        statuses = {"304 revalidation": 304}
        queries = {}
        for name, call in calls.items():
            with CaptureQueriesContext(connection) as captured:
                status, headers, body = call()
            assert status == statuses.get(name, 200), (name, status, body[:300])
            queries[name] = len(captured)
        assert headers["ETag"] == etag
        times = bench_listing.timed_runs(calls, args.runs, args.budget)

    rounds = len(times["cached listing"])
    print(f"\n{rounds} alternating rounds after one warm-up each ({load_note()})")
    header = f"{'best ms':>8} {'median ms':>10} {'CPU best':>9} {'CPU median':>11} {'SQL':>4}"
    print(f"{'':<20} {header}")
    for name, samples in times.items():
        wall, cpu = ([sample[i] * 1e3 for sample in samples] for i in (0, 1))
        print(
            f"{name:<20} {min(wall):>8.3f} {statistics.median(wall):>10.3f}"
            f" {min(cpu):>9.3f} {statistics.median(cpu):>11.3f} {queries[name]:>4}"
        )

    def wall(name: str) -> list[float]:
        return [sample[0] for sample in times[name]]

    view, cached = wall("hand-written view"), wall("cached listing")
    revalidation = wall("304 revalidation")
    best = min(view) / min(cached)
    median = statistics.median(view) / statistics.median(cached)
    rows = [
        Row(
            "cached listing vs hand-written view (speed-up)",
            f"{best:.1f}× best, {median:.1f}× median",
            f"≥ {SPEED_UP_GOAL:g}×",
            "pass" if min(best, median) >= SPEED_UP_GOAL else "fail",
        ),
        Row(
            "304 revalidation (server time)",
            f"{min(revalidation) * 1e3:.2f} ms best, {statistics.median(revalidation) * 1e3:.2f} "
            "ms median",
            f"≤ {REVALIDATION_GOAL_MS:g} ms",
            "pass" if statistics.median(revalidation) * 1e3 <= REVALIDATION_GOAL_MS else "fail",
        ),
    ]
    print()
    for row in rows:
        print(f"{row.target}: {row.measured} (goal {row.goal}): {row.verdict}")
    print(f"At the end: {load_note()}; {others_busy()}")


if __name__ == "__main__":
    main()
