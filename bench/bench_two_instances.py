"""Two production servers on one PostgreSQL and one Redis, under load from many clients.

Run from the project root: ``.venv/bin/python bench/bench_two_instances.py`` (``--help``);
``--smoke`` is the short version that ``tests/test_two_instances.py`` runs in ``make test``.

Starts, in a temporary folder and on 127.0.0.1 only: a PostgreSQL cluster and a
redis-server of its own (Debian's, ``ops.local_servers``), the local ImageKit server in
this process with every upload API call delayed by ``--latency`` (200 ms), and two
gunicorn instances (config/gunicorn.py) sharing the database, the cache and ImageKit.

Then ``--clients`` clients (threads of a child process, so they do not share the
servers' or the emulator's GIL) send for ``--duration`` seconds, each to either
instance at random: persisted-query GET listings (Apollo's protocol: the hash alone,
the document only when the server asks for it), uploads, alt-text updates and
deletes of their own images. After every write, the client reads its own images
through the *other* instance with a persisted GET (the response cache's path) and
compares them with what it was told: a stale answer is an error. Both persisted
documents are registered through instance A before the load starts; a
``PERSISTED_QUERY_NOT_FOUND`` from B would be an error too.

Afterwards it checks the integrity of what was stored: every image a client was told
was stored (and did not delete) has its row and both files (original and small
variant) on the ImageKit server; every deleted one has neither. Prints requests/s, p50
and p99 per request kind, the errors (goal: none) and the integrity verdict; the exit
status is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import load_note, others_busy, start_django

from media_store.imagekit_server import ImageKitServer
from ops.gunicorn_process import GunicornProcess
from ops.local_servers import postgres_cluster, redis_server

PRIVATE_KEY = "private_load_key"
PUBLIC_KEY = "public_load_key"
FOLDER = "catalog"

LISTING = """query Listing($first: Int!) {
  products(first: $first) { edges { node { id name thumbnail { url(transform: {width: 300}) } } } }
}"""
MINE = """query Mine($prefix: String!) {
  images(first: 100, filters: {name: {startsWith: $prefix}}, order: {name: ASC}) {
    edges { node { id altText } }
  }
}"""
UPLOAD = """mutation Upload($file: Upload!, $name: String!) {
  uploadImage(file: $file, name: $name) {
    __typename
    ... on Image { id name }
    ... on OperationInfo { messages { code message } }
  }
}"""
UPDATE = """mutation Update($id: ID!, $alt: String!) {
  updateImage(id: $id, altText: $alt) {
    __typename
    ... on Image { id altText }
    ... on OperationInfo { messages { code message } }
  }
}"""
DELETE = """mutation Delete($id: ID!) {
  deleteImage(id: $id) {
    __typename
    ... on DeletedNode { id }
    ... on OperationInfo { messages { code message } }
  }
}"""
# What a client does when it does not have to read its own writes back.
WEIGHTS = {"listing": 6, "upload": 2, "update": 2, "delete": 1}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- client side (a child process) --------------------------------------------------------


class Client:
    """One simulated client: its own connections, its own images, its own log."""

    def __init__(self, number: int, ports: list[int], token: str, jpegs: list[bytes]) -> None:
        self.number = number
        self.ports = ports
        self.token = token
        self.jpegs = jpegs
        self.random = random.Random(number)
        self.prefix = f"load-{number:03d}-"
        self.images: dict[str, str] = {}  # id -> alt text, as the API last answered
        self.stored: dict[str, str] = {}  # id -> name, every image it was told was stored
        self.deleted: set[str] = set()
        self.uploads = 0
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def request(
        self, port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        for attempt in range(2):  # a keep-alive connection the server closed: once more
            connection = self.connections.get(port)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                self.connections[port] = connection
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException):
                connection.close()
                del self.connections[port]
                if attempt:
                    raise
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, {"errors": [{"message": data[:200].decode(errors="replace")}]}

    def persisted_get(self, port: int, query: str, variables: dict) -> dict[str, Any]:
        """Apollo's persisted GET: the hash alone, the document only if the server asks."""
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
        params = {"variables": json.dumps(variables), "extensions": json.dumps(extensions)}
        path = "/graphql/?" + urllib.parse.urlencode(params)
        status, body = self.request(port, "GET", path, None, {"Accept": "application/json"})
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or ()]
        if "PERSISTED_QUERY_NOT_FOUND" in codes:
            self.errors.append(f"persisted document unknown on port {port}")
        elif status != 200 or body.get("errors"):
            self.errors.append(f"GET {status}: {json.dumps(body)[:200]}")
        return body

    def post(self, port: int, query: str, variables: dict) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        status, decoded = self.request(port, "POST", "/graphql/", body, headers)
        if status != 200 or decoded.get("errors"):
            self.errors.append(f"POST {status}: {json.dumps(decoded)[:200]}")
        return decoded

    def upload(self, port: int) -> dict[str, Any]:
        self.uploads += 1
        name = f"{self.prefix}{self.uploads:04d}"
        content = self.jpegs[(self.number + self.uploads) % len(self.jpegs)]
        boundary = uuid.uuid4().hex
        operations = json.dumps({"query": UPLOAD, "variables": {"file": None, "name": name}})
        parts = [
            f'Content-Disposition: form-data; name="operations"\r\n\r\n{operations}'.encode(),
            b'Content-Disposition: form-data; name="map"\r\n\r\n{"0": ["variables.file"]}',
            b'Content-Disposition: form-data; name="0"; filename="photo.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n" + content,
        ]
        body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
        body += f"--{boundary}--\r\n".encode()
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {self.token}",
        }
        status, decoded = self.request(port, "POST", "/graphql/", body, headers)
        result = (decoded.get("data") or {}).get("uploadImage") or {}
        if status != 200 or decoded.get("errors") or result.get("__typename") != "Image":
            self.errors.append(f"upload {status}: {json.dumps(decoded)[:200]}")
        else:
            self.images[result["id"]] = ""
            self.stored[result["id"]] = result["name"]
        return decoded

    def act(self, kind: str, port: int) -> str:
        """One request of ``kind`` (an upload when there is nothing to change); its kind."""
        if kind == "listing":
            self.persisted_get(port, LISTING, {"first": 20})
            return kind
        if kind == "upload" or not self.images:
            self.upload(port)
            return "upload"
        image = self.random.choice(sorted(self.images))
        if kind == "update":
            alt = f"alt {uuid.uuid4().hex[:8]}"
            result = self.post(port, UPDATE, {"id": image, "alt": alt})
            if ((result.get("data") or {}).get("updateImage") or {}).get("altText") == alt:
                self.images[image] = alt
            return kind
        result = self.post(port, DELETE, {"id": image})
        if ((result.get("data") or {}).get("deleteImage") or {}).get("__typename") == "DeletedNode":
            del self.images[image]
            self.deleted.add(image)
        return kind

    def check_mine(self, port: int) -> None:
        """Read this client's images through ``port``: they must be what it last wrote."""
        body = self.persisted_get(port, MINE, {"prefix": self.prefix})
        edges = (((body.get("data") or {}).get("images")) or {}).get("edges", [])
        seen = {edge["node"]["id"]: edge["node"]["altText"] for edge in edges}
        if body.get("data") and seen != self.images:
            self.errors.append(
                f"stale read on port {port}: {len(seen)} images, expected {len(self.images)}"
                f" ({sorted(set(seen.items()) ^ set(self.images.items()))[:2]})"
            )

    def run(self, deadline: float) -> None:
        kinds, weights = zip(*WEIGHTS.items(), strict=True)
        while time.monotonic() < deadline:
            kind = self.random.choices(kinds, weights)[0]
            port = self.random.choice(self.ports)
            start = time.perf_counter()
            try:
                done = self.act(kind, port)
                self.timings[done].append(time.perf_counter() - start)
                if done != "listing":
                    other = self.ports[1 - self.ports.index(port)]
                    start = time.perf_counter()
                    self.check_mine(other)
                    self.timings["read own writes"].append(time.perf_counter() - start)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(f"{kind} on port {port}: {e!r}")


def run_clients(ports: list[int], token: str, clients: int, duration: float) -> dict[str, Any]:
    """The whole load, in this (child) process: ``clients`` threads for ``duration`` s."""
    jpegs = [photo(seed) for seed in range(8)]
    crowd = [Client(number, ports, token, jpegs) for number in range(clients)]
    started = time.perf_counter()
    deadline = time.monotonic() + duration
    threads = [threading.Thread(target=client.run, args=(deadline,)) for client in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 120)
    elapsed = time.perf_counter() - started
    timings: dict[str, list[float]] = defaultdict(list)
    for client in crowd:
        for kind, samples in client.timings.items():
            timings[kind] += samples
    return {
        "elapsed": elapsed,
        "timings": dict(timings),
        "errors": [error for client in crowd for error in client.errors],
        "stored": {i: n for client in crowd for i, n in client.stored.items()},
        "deleted": sorted(i for client in crowd for i in client.deleted),
        "alive": sum(thread.is_alive() for thread in threads),
    }


def photo(seed: int) -> bytes:
    """A small noisy JPEG (decoded and re-encoded by every upload, as real photos are)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.effect_noise((640, 480), 40 + seed).convert("RGB")
    image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (0, 0, 320, 240))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- server side (this process) ----------------------------------------------------------


def make_token() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from accounts.models import ApiToken

    user = get_user_model().objects.create_user("load-editor")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=["add_image", "change_image", "delete_image"],
        )
    )
    return ApiToken.objects.create_token(user, name="load")[1]


def register(port: int, query: str, variables: dict) -> None:
    """Register ``query`` through one instance, as Apollo's link does after a miss."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    body = json.dumps({"query": query, "variables": variables, "extensions": extensions})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/graphql/", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    decoded = json.loads(response.read())
    connection.close()
    if response.status != 200 or decoded.get("errors"):
        raise SystemExit(f"registering a persisted document failed: {decoded}")


def integrity(server: ImageKitServer, load: dict[str, Any]) -> list[str]:
    """What is wrong with the stored images after the load (nothing, hopefully)."""
    from strawberry.relay import from_base64

    from catalog.models import Image

    problems: list[str] = []
    deleted = set(load["deleted"])
    kept = {from_base64(gid)[1]: gid for gid in load["stored"] if gid not in deleted}
    gone = {from_base64(gid)[1] for gid in deleted}
    rows = {str(image.pk): image for image in Image.objects.filter(pk__in=[*kept, *gone])}
    paths = {record.file_path for record in server.store.files()}
    for pk in kept:
        image = rows.get(pk)
        if image is None:
            problems.append(f"image {pk} was stored but has no row")
            continue
        for field in (image.image, image.image_xs):
            if f"/{FOLDER}/{field.name}" not in paths:
                problems.append(f"image {pk}: {field.name} is not on the ImageKit server")
    for pk in gone:
        if pk in rows:
            problems.append(f"image {pk} was deleted but still has a row")
    # Deleted images' files: no stored file may be left that no row points at.
    referenced = {
        f"/{FOLDER}/{name}"
        for pair in Image.objects.values_list("image", "image_xs")
        for name in pair
        if name
    }
    orphans = sorted(path for path in paths if path not in referenced)
    problems += [f"{path} is on the ImageKit server but no row points at it" for path in orphans]
    return problems


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="clients (%(default)s)")
    parser.add_argument("--duration", type=float, default=60, help="seconds (%(default)s)")
    parser.add_argument("--latency", type=float, default=0.2, help="upload API delay, s")
    parser.add_argument("--smoke", action="store_true", help="8 clients for 5 s")
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.duration = 8, 5.0
    print(
        f"bench_two_instances: Python {platform.python_version()}, {os.cpu_count()} CPUs;"
        f" {load_note()}; {others_busy()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-two-instances-"))
    with ExitStack() as stack:
        # Last out: the servers have stopped by then (about 50 MB of cluster and files).
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        database = stack.enter_context(postgres_cluster(tmp / "postgres"))
        cache = stack.enter_context(redis_server(tmp / "redis"))
        server = ImageKitServer(tmp / "imagekit", private_key=PRIVATE_KEY, public_key=PUBLIC_KEY)
        stack.enter_context(server)
        server.faults.delay("upload", args.latency)
        start_django(
            tmp,
            migrate=True,
            DATABASE_URL=database,
            CACHE_URL=cache,
            IMAGEKIT_PRIVATE_KEY=server.private_key,
            IMAGEKIT_PUBLIC_KEY=server.public_key,
            IMAGEKIT_URL_ENDPOINT=server.url_endpoint,
            IMAGEKIT_API_BASE_URL=server.url,
            IMAGEKIT_FOLDER=FOLDER,
        )
        from django.core.management import call_command

        call_command("load_demo_data", verbosity=0)
        token = make_token()
        instances = [stack.enter_context(GunicornProcess()) for _ in range(2)]
        ports = [instance.port for instance in instances]
        print(
            f"PostgreSQL and Redis of its own; ImageKit server with {args.latency * 1e3:.0f} ms"
            f" upload latency; 2 gunicorn instances ({instances[0].workers} workers x"
            f" {instances[0].threads} threads each) on ports {ports[0]} and {ports[1]}"
        )
        register(ports[0], LISTING, {"first": 20})
        register(ports[0], MINE, {"prefix": "none"})
        print(f"{args.clients} clients for {args.duration:.0f} s ...", flush=True)
        with ProcessPoolExecutor(1) as pool:
            load = pool.submit(run_clients, ports, token, args.clients, args.duration).result(
                timeout=args.duration + 300
            )
        problems = integrity(server, load)
    report(args, load, problems)
    return 1 if load["errors"] or problems or load["alive"] else 0


def report(args: argparse.Namespace, load: dict[str, Any], problems: list[str]) -> None:
    total = sum(len(samples) for samples in load["timings"].values())
    print(f"\n{total} requests in {load['elapsed']:.1f} s: {total / load['elapsed']:.0f} req/s")
    print(f"{'kind':<18} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, samples in sorted(load["timings"].items()):
        print(
            f"{kind:<18} {len(samples):>6} {statistics.median(samples) * 1e3:>8.1f}"
            f" {percentile(samples, 0.99) * 1e3:>8.1f}"
        )
    stored, deleted = len(load["stored"]), len(load["deleted"])
    print(f"errors: {len(load['errors'])}")
    for error in load["errors"][:10]:
        print(f"  {error}")
    print(
        f"integrity: {stored} images stored, {deleted} deleted:"
        f" {'passed' if not problems else f'{len(problems)} problems'}"
    )
    for problem in problems[:10]:
        print(f"  {problem}")
    print(f"At the end: {load_note()}; {others_busy()}")


if __name__ == "__main__":
    sys.exit(main())
