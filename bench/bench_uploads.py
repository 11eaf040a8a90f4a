"""Image uploads through GraphQL and ImageKitStorage: latency, concurrency, memory, in one run.

Run from the project root: ``.venv/bin/python bench/bench_uploads.py`` (``--help`` for options).
Everything runs on 127.0.0.1 in a temporary folder; every loop and wait is bounded.

``--server gunicorn`` serves Django with the production server instead (gunicorn with
config/gunicorn.py, a child process on a free port, its defaults or ``--workers``/``--threads``)
and runs section 1 once per ``--latency`` (default 0.2 and 0.5 s); CPU per upload is then
read from the server processes' /proc stat (master, workers, and workers that exited).
``--baseline main`` also serves that git revision (``git archive`` into the temporary
folder; same database and emulator) and runs each latency on both servers in turn, so
before and after are measured in one run under the same load; ``--rounds N`` repeats it
all N times, for the spread on a busy machine. Sections 2 and 3 measure this process, so
they run with the in-process server only.

Setup: the local ImageKit server (``media_store.imagekit_server.ImageKitServer``) in a thread
of this process with ``faults.delay("upload", 0.2)``: every upload API call takes 200 ms
more, like a distant upstream. Django (``config.settings``) on a temporary SQLite database
with the four ``IMAGEKIT_*`` variables pointing at that server, so ``ImageKitStorage`` is the
default storage; a user with ``catalog.add_image`` and an API token; the Django WSGI app
served by a threaded werkzeug server on 127.0.0.1 (port 0). Clients run in a separate
process so they do not share the server's GIL.

1. Latency and concurrency: GraphQL multipart ``uploadImage`` POSTs (``Authorization:
   Bearer``) of 1600x1200 photo-like JPEGs (~500 kB; each upload's bytes differ so the
   ImageKit server's request log can be matched to uploads by body size). One upload at a
   time (best/median), then N simultaneous ones (threads released by a barrier): wall time
   for all to finish, and its ratio to one upload (goal <= 3x). The whole machine's CPU
   time during the batch (/proc/stat: server, emulator, client, database, kernel) over its
   cores is a floor for that ratio, whatever the scheduling. From the server's request
   log: did each upload's original and small variant go upstream concurrently (overlapping
   requests)? Checks that every upload returned an Image and the server holds 2 files each.
   ``--latency`` sets the upstream delay (repeatable; the werkzeug default is 0.2 s).
2. Memory, storage alone: ``ImageKitStorage.save`` of a 4 MB and a 40 MB file opened from
   disk (as Django hands over a large upload), against a second ImageKit server in a child
   process (``max_file_size=64 MiB``) so this process measures the client side only:
   tracemalloc peak, and peak RSS growth (VmHWM, reset through /proc/self/clear_refs).
3. Memory, whole request: a 20 MB JPEG through the GraphQL endpoint vs a JPEG of the same
   pixel size that is 100x smaller; growth of this process's peak RSS (Django app and the
   first ImageKit server both run here) and tracemalloc peak. Decoding for validation costs
   width x height x 4 bytes whatever the file size; the difference between the two files is
   what the body costs.

SQLite: by default the bench's DATABASE_URL carries ``?timeout=20&transaction_mode=IMMEDIATE``;
with Django's defaults (``--sqlite-options ''``) many of the simultaneous uploads fail with
"database is locked" (upgrading a deferred read transaction to a write fails at once, without
waiting for the timeout). Memory sections set glibc's mmap threshold (``mallopt``) so freed
heap that stays resident cannot hide a large allocation from the RSS peak.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import http.client
import io
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Run as a script, so the project root is not on sys.path yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_media import photo_like_jpeg, serving
from benchkit import MachineCpu, Row, load_note, others_busy, section, start_django
from PIL import Image

from media_store.imagekit_server import ImageKitServer
from ops.gunicorn_process import GunicornProcess

BASE_DIR = Path(__file__).resolve().parent.parent
PRIVATE_KEY = "private_bench_key"
PUBLIC_KEY = "public_bench_key"
UPSTREAM_DELAY = 0.2  # seconds added to every upload API call (default of --latency)
PHOTO_SIZE = (1600, 1200)
PHOTO_QUALITY = 65  # ~500 kB for the generated photo
CONCURRENCY_GOAL = 3.0  # N simultaneous / one upload, at most
MiB = 2**20
M_MMAP_THRESHOLD = -3  # mallopt() parameter, glibc's malloc.h
JPEG_NOISE_BYTES_PER_PIXEL = 4.1  # random RGB noise at quality 100, 4:4:4 (measured)
GRAPHQL_PATH = "/graphql/"
# Without these, concurrent uploads fail with "database is locked" (see docs/benchmarks.md).
SQLITE_OPTIONS = "timeout=20&transaction_mode=IMMEDIATE"
UPLOAD_MUTATION = """
mutation Upload($file: Upload!) {
  uploadImage(file: $file) {
    __typename
    ... on Image { id name width height }
    ... on OperationInfo { messages { kind field code message } }
  }
}
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}"


def mib(value: float) -> str:
    return f"{value / MiB:.1f}"


# --- memory probes -------------------------------------------------------------------------


def proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


@dataclass
class MemoryUse:
    rss_before: int  # bytes
    peak_growth: int | None  # VmHWM after - RSS before (bytes), None without /proc
    maxrss_growth: int  # ru_maxrss delta (bytes); 0 unless a new lifetime peak
    traced_peak: int | None = None  # tracemalloc peak (bytes)
    seconds: float = 0.0


def release_free_memory() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc ``malloc_trim``).

    Without it, memory freed by earlier work stays resident and is reused, so a later
    allocation would not raise the peak RSS and the growth would read too low.
    """
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def exact_large_allocations() -> bool:
    """Make glibc mmap every allocation >= 128 kB and unmap it on free (``mallopt``).

    By default glibc raises that threshold as large blocks are freed, then serves later
    large allocations from memory it kept: they would not raise the peak RSS at all.
    """
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024))
    except (OSError, AttributeError):
        return False


def measure_rss(call: Callable[[], Any]) -> MemoryUse:
    """Peak RSS growth of this process while ``call()`` runs (all threads count)."""
    release_free_memory()
    rss = (proc_status_kb("VmRSS") or 0) * 1024
    reset = reset_peak_rss()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    hwm = proc_status_kb("VmHWM")
    growth = hwm * 1024 - rss if reset and hwm is not None else None
    maxrss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss) * 1024
    return MemoryUse(rss, growth, maxrss_growth, seconds=seconds)


def measure_traced(call: Callable[[], Any]) -> int:
    """tracemalloc peak (bytes of Python-allocator memory, all threads) during ``call()``."""
    release_free_memory()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


# --- test images ---------------------------------------------------------------------------


@dataclass
class Upload:
    label: str  # also the filename stem, hence the Image's name
    path: Path
    size: int
    small_size: int  # bytes of the small variant catalog.uploads.derive() makes from it


def make_photos(count: int, folder: Path) -> list[Upload]:
    """``count`` different 1600x1200 photo-like JPEGs whose sizes, and whose small variants'
    sizes, are all distinct, so each request in the ImageKit log names its upload.

    Crops of one larger generated photo at different offsets; bounded attempts.
    """
    from django.core.files.base import ContentFile

    from catalog.image_files import derive

    width, height = PHOTO_SIZE
    base = Image.open(io.BytesIO(photo_like_jpeg((width + 96, height + 72), 95)))
    base.load()
    photos: list[Upload] = []
    seen_sizes: set[int] = set()
    seen_small: set[int] = set()
    for attempt in range(count * 5):
        if len(photos) == count:
            break
        dx, dy = (attempt * 7) % 96, (attempt * 5) % 72
        buffer = io.BytesIO()
        base.crop((dx, dy, dx + width, dy + height)).save(buffer, "JPEG", quality=PHOTO_QUALITY)
        data = buffer.getvalue()
        small = derive(ContentFile(data, name="x.jpg")).small.size
        if len(data) in seen_sizes or small in seen_small:
            continue
        seen_sizes.add(len(data))
        seen_small.add(small)
        path = folder / f"photo-{len(photos):03d}.jpg"
        path.write_bytes(data)
        photos.append(Upload("", path, len(data), small))
    if len(photos) < count:
        raise SystemExit(f"Could only make {len(photos)} distinct photos of {count}.")
    return photos


def noise_jpeg(path: Path, target_bytes: int, seed: int) -> tuple[int, int]:
    """A JPEG of RGB noise (quality 100, no chroma subsampling) of about ``target_bytes``."""
    side = math.sqrt(target_bytes / JPEG_NOISE_BYTES_PER_PIXEL)
    size = (int(side * 4 / 3), int(side * 3 / 4))
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    image.save(path, "JPEG", quality=100, subsampling=0)
    return size


def smooth_jpeg(path: Path, size: tuple[int, int]) -> None:
    """A JPEG of smooth gradients: the same pixel count as a noise JPEG, a tiny file."""
    channels = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ]
    Image.merge("RGB", channels).save(path, "JPEG", quality=85)


# --- Django --------------------------------------------------------------------------------


def setup_django(
    tmp: Path, server: ImageKitServer, sqlite_options: str, database_url: str | None = None
) -> None:
    """config.settings on a temporary database and folders, ImageKit at ``server``."""
    query = f"?{sqlite_options}" if sqlite_options else ""
    start_django(
        tmp,
        migrate=True,
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'db.sqlite3'}{query}",
        IMAGEKIT_PRIVATE_KEY=server.private_key,
        IMAGEKIT_PUBLIC_KEY=server.public_key,
        IMAGEKIT_URL_ENDPOINT=server.url_endpoint,
        IMAGEKIT_API_BASE_URL=server.url,
        IMAGEKIT_FOLDER="catalog",
        # Show the real error (e.g. "database is locked") instead of "Unexpected error."
        GRAPHQL_MASK_ERRORS="false",
    )
    # Failed uploads are counted from the responses; strawberry would log each traceback.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)


@contextmanager
def temporary_postgres(url: str | None) -> Iterator[str | None]:
    """A new database next to the one ``url`` names, dropped at the end; its URL."""
    if not url:
        yield None
        return
    import psycopg

    parts = urlsplit(url)
    name = f"bench_uploads_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_token() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from accounts.models import ApiToken

    user = get_user_model().objects.create_user("bench-editor")
    user.user_permissions.add(
        Permission.objects.get(codename="add_image", content_type__app_label="catalog")
    )
    _token, raw = ApiToken.objects.create_token(user, name="bench")
    return raw


# --- client (runs in a separate process) ---------------------------------------------------


def multipart_body(content: bytes, filename: str) -> tuple[bytes, str]:
    """The GraphQL multipart request for ``uploadImage`` with one file at variables.file."""
    boundary = "bench" + uuid.uuid4().hex
    operations = json.dumps({"query": UPLOAD_MUTATION, "variables": {"file": None}})
    fields = [
        (f'Content-Disposition: form-data; name="operations"\r\n\r\n{operations}').encode(),
        (
            'Content-Disposition: form-data; name="map"\r\n\r\n'
            + json.dumps({"0": ["variables.file"]})
        ).encode(),
        (
            f'Content-Disposition: form-data; name="0"; filename="{filename}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + content,
    ]
    delimiter = f"--{boundary}\r\n".encode()
    body = (
        b"".join(delimiter + field + b"\r\n" for field in fields) + f"--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def post_uploads(port: int, token: str, files: list[tuple[str, str]], timeout: float) -> dict:
    """POST one upload per (path, filename), all at once (threads behind a barrier).

    Returns each request's status, start and end (perf_counter, this process), the
    ``uploadImage`` result or the errors, and the time the barrier released them.
    """
    requests = [multipart_body(Path(path).read_bytes(), name) for path, name in files]
    barrier = threading.Barrier(len(requests) + 1, timeout=timeout)

    def send(body: bytes, content_type: str) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        barrier.wait()
        start = time.perf_counter()
        try:
            connection.request(
                "POST",
                GRAPHQL_PATH,
                body,
                {"Content-Type": content_type, "Authorization": f"Bearer {token}"},
            )
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            data, status = repr(e).encode(), 0
        finally:
            connection.close()
        end = time.perf_counter()
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = {"errors": [{"message": data[:300].decode(errors="replace")}]}
        return {"status": status, "start": start, "end": end, "body": decoded}

    with ThreadPoolExecutor(len(requests)) as pool:
        futures = [pool.submit(send, body, content_type) for body, content_type in requests]
        barrier.wait()
        released = time.perf_counter()
        results = [future.result(timeout=timeout + 5) for future in futures]
    return {"released": released, "results": results}


# --- 1. latency and concurrency ------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    ok: bool
    seconds: float
    problem: str


def outcomes(batch: dict, labels: list[str]) -> list[Outcome]:
    found = []
    for label, result in zip(labels, batch["results"], strict=True):
        body = result["body"]
        data = (body.get("data") or {}).get("uploadImage") if isinstance(body, dict) else None
        problem = ""
        if result["status"] != 200:
            problem = f"HTTP {result['status']}"
        if isinstance(body, dict) and body.get("errors"):
            problem += " " + "; ".join(str(e.get("message")) for e in body["errors"])
        elif not data or data.get("__typename") != "Image":
            problem += f" {json.dumps(data)[:200]}"
        elif data.get("name") != label:
            problem += f" name {data.get('name')!r} != {label!r}"
        found.append(Outcome(label, not problem, result["end"] - result["start"], problem.strip()))
    return found


def run_batch(
    pool: ProcessPoolExecutor, port: int, token: str, uploads: list[Upload], timeout: float
):
    files = [(str(u.path), f"{u.label}.jpg") for u in uploads]
    batch = pool.submit(post_uploads, port, token, files, timeout).result(timeout=timeout + 30)
    found = outcomes(batch, [u.label for u in uploads])
    wall = max(r["end"] for r in batch["results"]) - batch["released"]
    return wall, found


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """WSGI middleware: CPU seconds spent inside ``app`` on the request threads."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        start = time.thread_time()
        try:
            return self.app(environ, start_response)
        finally:
            spent = time.thread_time() - start
            with self._lock:
                self._seconds += spent

    def take(self) -> float:
        """CPU seconds since the last take()."""
        with self._lock:
            seconds, self._seconds = self._seconds, 0.0
        return seconds


@dataclass
class Meters:
    django: CpuMeter
    imagekit: CpuMeter
    server: str = "werkzeug threaded server in this process"
    last_ms: float = 0.0  # CPU per upload in the last report()

    def start(self) -> float:
        self.django.take()
        self.imagekit.take()
        return process_cpu()

    def total_cpu(self) -> float:
        return process_cpu()

    def report(self, started: float, uploads: int) -> str:
        total = process_cpu() - started
        django, imagekit = self.django.take(), self.imagekit.take()
        per = 1e3 / uploads
        self.last_ms = total * per
        return (
            f"{total * per:.0f} ms CPU per upload in this process: Django request thread"
            f" {django * per:.0f}, ImageKit emulator {imagekit * per:.0f}, other threads"
            f" (SDK upload threads, HTTP servers) {(total - django - imagekit) * per:.0f}"
        )


@dataclass
class ServerMeters:
    """CPU of a gunicorn server in child processes (/proc) and of this process."""

    gunicorn: GunicornProcess
    imagekit: CpuMeter
    server: str = ""
    last_ms: float = 0.0  # CPU per upload in the served processes, in the last report()

    def start(self) -> tuple[float, dict[str, float]]:
        self.imagekit.take()
        return process_cpu(), self.gunicorn.cpu_by_process()

    def total_cpu(self) -> float:
        return process_cpu() + self.gunicorn.cpu_seconds()

    def report(self, started: tuple[float, dict[str, float]], uploads: int) -> str:
        here = process_cpu() - started[0]
        now = self.gunicorn.cpu_by_process()
        spent = {name: seconds - started[1].get(name, 0.0) for name, seconds in now.items()}
        served = sum(spent.values())
        imagekit = self.imagekit.take()
        per = 1e3 / uploads
        self.last_ms = served * per
        shares = ", ".join(f"{seconds:.2f}" for name, seconds in spent.items() if name != "master")
        return (
            f"{served * per:.0f} ms CPU per upload in the gunicorn processes (master and"
            f" workers, /proc; seconds per worker: {shares}); in this process"
            f" {here * per:.0f} ms (ImageKit emulator request threads {imagekit * per:.0f},"
            " the rest its HTTP server and the bench)"
        )


@dataclass
class Pairing:
    label: str
    original: Any  # LoggedRequest or None
    small: Any


def pair_requests(server: ImageKitServer, uploads: list[Upload]) -> list[Pairing]:
    """Each upload's two upstream requests, found in the request log by body size.

    An upload's bytes and its small variant's bytes are unique (make_photos), and the SDK's
    multipart overhead is the same for every original (and for every small variant), so
    body_size - file size is one constant per kind: the most common difference.
    """
    from catalog.models import Image as CatalogImage

    entries = [e for e in server.requests.entries("upload") if e.status == 200]
    images = {image.name: image for image in CatalogImage.objects.all()}
    records: dict[str, tuple[Any, Any]] = {}
    for upload in uploads:
        image = images.get(upload.label)
        if image is None:
            continue
        records[upload.label] = (
            server.store.get_by_path(f"/catalog/{image.image.name}"),
            server.store.get_by_path(f"/catalog/{image.image_xs.name}"),
        )

    def overhead(kind: int) -> int | None:
        diffs = Counter(
            e.body_size - pair[kind].size
            for e in entries
            for pair in records.values()
            if pair[kind] is not None and 0 < e.body_size - pair[kind].size < 4096
        )
        return diffs.most_common(1)[0][0] if diffs else None

    by_size: dict[int, list[Any]] = {}
    for entry in entries:
        by_size.setdefault(entry.body_size, []).append(entry)
    pairs = []
    extra = [overhead(0), overhead(1)]
    for label, pair in records.items():
        found = []
        for kind in (0, 1):
            record, more = pair[kind], extra[kind]
            candidates = by_size.get(record.size + more, []) if record and more else []
            found.append(candidates[0] if len(candidates) == 1 else None)
        pairs.append(Pairing(label, *found))
    return pairs


def overlap_report(pairs: list[Pairing]) -> tuple[int, int, list[float]]:
    """(uploads whose two requests overlapped, uploads paired, start gaps in seconds)."""
    overlapped = paired = 0
    gaps = []
    for pair in pairs:
        if pair.original is None or pair.small is None:
            continue
        paired += 1
        a, b = pair.original, pair.small
        shared = min(a.started_at + a.duration, b.started_at + b.duration) - max(
            a.started_at, b.started_at
        )
        overlapped += shared > 0
        gaps.append(abs(a.started_at - b.started_at))
    return overlapped, paired, gaps


def max_in_flight(entries: list[Any]) -> int:
    events = sorted(
        [(e.started_at, 1) for e in entries] + [(e.started_at + e.duration, -1) for e in entries]
    )
    current = best = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def bench_concurrency(
    server: ImageKitServer,
    port: int,
    token: str,
    photos: list[Upload],
    meters: Meters | ServerMeters,
    args: argparse.Namespace,
    latency: float = UPSTREAM_DELAY,
    diagnose: bool = True,
    warmup: list[Upload] | None = None,
    tree: str = "",
    tag: str = "",
) -> list[Row]:
    from django.conf import settings
    from django.db import connection

    from catalog.models import Image as CatalogImage

    served = f" ({tree})" if tree else ""
    section(
        f"1. Upload latency and {args.concurrency} simultaneous uploads (GraphQL multipart),"
        f" upstream +{ms(latency)} ms{served}"
    )
    # Each run has its own labels (hence Image names), request log and file count.
    prefix = f"{args.server[0]}{tag}-{ms(latency)}-"
    singles, batch = photos[: args.singles + 1], photos[args.singles + 1 :][: args.concurrency]
    for i, upload in enumerate(singles):
        upload.label = f"{prefix}single-{i:02d}"
    for i, upload in enumerate(batch):
        upload.label = f"{prefix}batch-{i:02d}"
    sizes = [u.size for u in photos]
    print(
        f"Image: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} photo-like JPEG q{PHOTO_QUALITY},"
        f" {min(sizes):,}-{max(sizes):,} bytes (each upload different, see docstring)."
    )
    print(
        f"Upstream: local ImageKit server in this process, faults.delay('upload',"
        f" {latency}) -> +{ms(latency)} ms per upload API call; ImageKitStorage"
        f" upload_concurrency={getattr(settings, 'IMAGEKIT_UPLOAD_CONCURRENCY', 4)},"
        f" max_retries={settings.IMAGEKIT_MAX_RETRIES}."
    )
    options = settings.DATABASES["default"].get("OPTIONS") or {}
    database = (
        f"SQLite {connection.Database.sqlite_version}"
        if connection.vendor == "sqlite"
        else f"PostgreSQL {connection.pg_version // 10000}"
    )
    print(
        f"Django: {meters.server} on 127.0.0.1:{port}; {database},"
        f" OPTIONS {options or '{} (Django defaults)'}; client: separate process, one new"
        " HTTP connection per upload, threads released by a barrier."
    )
    server.faults.delay("upload", latency)
    rows: list[Row] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(time.sleep, 0).result(timeout=60)  # start the client process first
        if warmup:
            # Several workers: each one's first requests (imports, clients) are slow, and a
            # single warm-up upload reaches one worker only.
            for i, upload in enumerate(warmup):
                upload.label = f"warmup-{prefix}{i:02d}"
            run_batch(pool, port, token, warmup, args.timeout)
            print(f"Warm-up: {len(warmup)} simultaneous uploads first (not counted).")
        server.requests.clear()
        files_before = len(server.store.files())
        single_times: list[float] = []
        failures: list[Outcome] = []
        for i, upload in enumerate(singles):
            if i == 1:  # the first one warms up (imports, connections)
                cpu = meters.start()
            wall, found = run_batch(pool, port, token, [upload], args.timeout)
            failures += [o for o in found if not o.ok]
            if i:
                single_times.append(wall)
        best, median = min(single_times), statistics.median(single_times)
        print(
            f"\nOne upload at a time: best {ms(best)} ms, median {ms(median)} ms, worst"
            f" {ms(max(single_times))} ms ({len(single_times)} runs after 1 warm-up)."
        )
        print(f"  {meters.report(cpu, len(single_times))}.")
        single_cpu = meters.last_ms

        cpu = meters.start()
        cpu_seconds = meters.total_cpu()
        machine = MachineCpu.now()
        wall, found = run_batch(pool, port, token, batch, args.timeout)
        machine = MachineCpu.now() - machine
        cpu_seconds = meters.total_cpu() - cpu_seconds
        cpu_report = meters.report(cpu, len(batch))
        failures += [o for o in found if not o.ok]
        latencies = sorted(o.seconds for o in found)
        ratio, ratio_best = wall / median, wall / best
        print(
            f"{len(batch)} simultaneous uploads: all done in {ms(wall)} ms wall"
            f" (per request: fastest {ms(latencies[0])}, median"
            f" {ms(statistics.median(latencies))}, slowest {ms(latencies[-1])} ms);"
            f" {sum(o.ok for o in found)}/{len(found)} returned an Image."
        )
        print(
            f"  ratio to one upload: {ratio:.2f}x the median single ({ratio_best:.2f}x the"
            f" best); goal <= {CONCURRENCY_GOAL:g}x."
        )
        cores = os.cpu_count() or 1
        print(
            f"  {cpu_report}; {cpu_seconds:.2f} s in all: at least {cpu_seconds / cores:.2f} s"
            f" of wall time on {cores} cores; {cpu_seconds / wall:.2f} cores busy on average."
        )
        # Whatever the scheduling, the batch cannot end before the machine has done all
        # its CPU work on its cores: a floor for the ratio, before any upstream wait.
        floor = machine.busy / cores / median
        print(
            f"  The whole machine (/proc/stat: server, emulator, client, database, kernel):"
            f" {machine.busy:.2f} s of CPU during the batch, {machine.busy / len(batch) * 1e3:.0f}"
            f" ms per upload ({machine.busy / wall:.2f} of {cores} cores busy on average,"
            f" {machine.steal:.2f} s stolen by the hypervisor); on {cores} cores that alone"
            f" takes {ms(machine.busy / cores)} ms, {floor:.2f}x one upload."
        )
        rows.append(
            Row(
                f"{len(batch)} simultaneous / one upload, +{ms(latency)} ms upstream{served}",
                f"{ratio:.2f}x ({ms(wall)} vs {ms(median)} ms)",
                f"<= {CONCURRENCY_GOAL:g}x",
                "PASS" if ratio <= CONCURRENCY_GOAL and not failures else "FAIL",
            )
        )
        rows.append(
            Row(
                f"  CPU per upload ({'server' if isinstance(meters, ServerMeters) else 'this'}"
                f" process), one / {len(batch)} at once",
                f"{single_cpu:.0f} / {meters.last_ms:.0f} ms",
                "info",
                "-",
            )
        )
        rows.append(
            Row(
                "  the machine's CPU in the batch / its cores, in single uploads",
                f"{floor:.2f}x ({machine.busy / len(batch) * 1e3:.0f} ms CPU per upload)",
                "info",
                "-",
            )
        )

        # Upstream log: original and small variant concurrently?
        uploads = singles + batch
        pairs = pair_requests(server, uploads)
        single_pairs = [p for p in pairs if p.label.startswith(f"{prefix}single")]
        batch_pairs = [p for p in pairs if p.label.startswith(f"{prefix}batch")]
        print("\nImageKit server request log (upload endpoint, status 200):")
        entries = [e for e in server.requests.entries("upload") if e.status == 200]
        retried = [e for e in server.requests.entries("upload") if e.retry_count]
        statuses = Counter(e.status for e in server.requests.entries("upload"))
        print(
            f"  {len(entries)} requests (statuses {dict(statuses)}; {len(retried)} SDK"
            f" retries), upstream duration median"
            f" {ms(statistics.median(e.duration for e in entries))} ms."
        )
        groups = (
            ("one at a time", single_pairs, len(singles)),
            ("simultaneous", batch_pairs, len(batch)),
        )
        for name, group, expected in groups:
            overlapped, paired, gaps = overlap_report(group)
            print(
                f"  {name}: {overlapped}/{expected} uploads had their original and small"
                f" variant requests overlapping ({expected - len(group)} without an Image row,"
                f" {len(group) - paired} not matched in the log); start gap median"
                f" {ms(statistics.median(gaps)) if gaps else '-'} ms,"
                f" max {ms(max(gaps)) if gaps else '-'} ms."
            )
            rows.append(
                Row(
                    f"original + small concurrently ({name}){served}",
                    f"{overlapped}/{len(group)} stored uploads",
                    "all",
                    "PASS" if group and overlapped == len(group) else "FAIL",
                )
            )
        # The singles ran one after another, so the batch's requests are all the later ones.
        batch_entries = sorted(entries, key=lambda e: e.started_at)[2 * len(singles) :]
        print(
            f"  most upstream requests in flight at once during the batch:"
            f" {max_in_flight(batch_entries)} (of {len(batch_entries)})."
        )

        # Everything stored?
        images = list(CatalogImage.objects.filter(name__startswith=prefix))
        stored = server.store.files()
        paths = {record.file_path for record in stored}
        complete = sum(
            f"/catalog/{i.image.name}" in paths and f"/catalog/{i.image_xs.name}" in paths
            for i in images
        )
        added = len(stored) - files_before
        print(
            f"\nStored: {len(images)} Image rows for {len(uploads)} uploads; the ImageKit"
            f" server holds {added} new files, both files present for {complete} images"
            f" (expected {2 * len(uploads)} files)."
        )
        ok = complete == len(uploads) == len(images) and added == 2 * len(uploads)
        rows.append(
            Row(
                f"every upload -> Image + 2 upstream files{served}",
                f"{complete}/{len(uploads)}, {added} files",
                "all",
                "PASS" if ok and not failures else "FAIL",
            )
        )
        if failures:
            reasons = Counter(o.problem[:160] for o in failures)
            print(f"FAILED uploads: {len(failures)}")
            for reason, count in reasons.most_common(5):
                print(f"  {count} x {reason}")
            if any("locked" in o.problem for o in failures):
                print(
                    "  SQLite 'database is locked': start write transactions at once and wait"
                    " for the lock: DATABASE_URL ...db.sqlite3?timeout=20&transaction_mode="
                    "IMMEDIATE (this bench's default --sqlite-options)."
                )

        if diagnose and not args.skip_zero_latency:
            server.requests.clear()
            server.faults.delay("upload", 0)
            extra = make_photos(args.concurrency + 4, Path(tempfile.mkdtemp(dir=args.tmp)))
            for i, upload in enumerate(extra):
                upload.label = f"{prefix}nolatency-{i:02d}"
            zero_single = [run_batch(pool, port, token, [u], args.timeout)[0] for u in extra[:4]]
            zero_wall, zero_found = run_batch(pool, port, token, extra[4:], args.timeout)
            print(
                f"\nDiagnostic, no upstream delay: one upload median"
                f" {ms(statistics.median(zero_single[1:]))} ms; {args.concurrency} simultaneous"
                f" {ms(zero_wall)} ms ({sum(o.ok for o in zero_found)}/{len(zero_found)} ok),"
                f" {ms(zero_wall / len(zero_found))} ms per upload: the part that does not"
                " overlap."
            )
            server.faults.delay("upload", latency)
    return rows


# --- 2. memory, storage alone ----------------------------------------------------------------


def serve_imagekit(root: str, max_file_size: int, queue: Any, stop: Any) -> None:
    """Child process: an ImageKit server until ``stop`` is set (at most 30 minutes)."""
    server = ImageKitServer(
        root, private_key=PRIVATE_KEY, public_key=PUBLIC_KEY, max_file_size=max_file_size
    )
    server.start()
    queue.put((server.url, server.url_endpoint))
    try:
        stop.wait(timeout=1800)
    finally:
        server.stop()


@contextmanager
def child_imagekit(root: Path, max_file_size: int) -> Iterator[tuple[str, str]]:
    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    process = context.Process(
        target=serve_imagekit, args=(str(root), max_file_size, queue, stop), daemon=True
    )
    process.start()
    try:
        yield queue.get(timeout=60)
    finally:
        stop.set()
        process.join(timeout=15)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


def bench_storage_memory(tmp: Path, sizes_mb: list[int]) -> list[Row]:
    from django.core.files.base import File

    from media_store.storage.imagekit import ImageKitStorage

    section("2. Memory: ImageKitStorage.save of large files (storage alone)")
    exact = exact_large_allocations()
    files = []
    for i, size_mb in enumerate(sizes_mb):
        path = tmp / f"large-{size_mb}mb.jpg"
        width, height = noise_jpeg(path, size_mb * 10**6, seed=i)
        files.append((size_mb, path, width, height))
    gc.collect()
    rows: list[Row] = []
    with child_imagekit(tmp / "imagekit-large", 64 * MiB) as (url, url_endpoint):
        storage = ImageKitStorage(
            private_key=PRIVATE_KEY,
            public_key=PUBLIC_KEY,
            url_endpoint=url_endpoint,
            api_base_url=url,
            max_retries=0,
        )
        print(
            "Method: a second ImageKit server in a child process (max_file_size 64 MiB), so"
            " this process is the client only. storage.save(name, File(open(path, 'rb'))):"
            " the file streams from disk, as a TemporaryUploadedFile does. After a warm-up save"
            " of a small file, per file: one run for RSS (VmHWM reset via"
            " /proc/self/clear_refs, then VmHWM - VmRSS before), one under tracemalloc (peak"
            " above the start); the stored size is checked against the file. glibc: freed"
            " memory trimmed before each run"
            + (
                ", every allocation >= 128 kB mmapped (mallopt), so reused heap cannot hide"
                " a large buffer."
                if exact
                else "; mallopt failed: RSS may read low."
            )
        )
        # Warm up the SDK client and connection on a small file, outside the measurement.
        storage.save("bench/warmup.jpg", File(io.BytesIO(b"\xff\xd8" + b"0" * 1000), "w.jpg"))
        print(
            f"\n{'file':<28} {'bytes':>12} {'RSS peak +MiB':>14} {'ru_maxrss +MiB':>15}"
            f" {'traced peak MiB':>16} {'seconds':>8}"
        )
        results = {}
        for size_mb, path, width, height in files:
            size = path.stat().st_size

            def save(path: Path = path, size_mb: int = size_mb, tag: str = "") -> None:
                with path.open("rb") as handle:
                    storage.save(f"bench/large-{size_mb}mb{tag}.jpg", File(handle, path.name))

            rss = measure_rss(save)
            rss.traced_peak = measure_traced(lambda save=save: save(tag="-traced"))
            for tag in ("", "-traced"):
                stored = storage.size(f"bench/large-{size_mb}mb{tag}.jpg")
                if stored != size:
                    raise SystemExit(f"ImageKit stored {stored} bytes of {size} ({path.name})")
            results[size_mb] = (size, rss)
            growth = "n/a" if rss.peak_growth is None else mib(rss.peak_growth)
            print(
                f"{f'{width}x{height} noise JPEG':<28} {size:>12,} {growth:>14}"
                f" {mib(rss.maxrss_growth):>15} {mib(rss.traced_peak):>16}"
                f" {rss.seconds:>8.2f}"
            )
        (small_size, small), (large_size, large) = results[sizes_mb[0]], results[sizes_mb[-1]]
        body_growth = large_size - small_size
        traced_delta = (large.traced_peak or 0) - (small.traced_peak or 0)
        rss_delta = (large.peak_growth or 0) - (small.peak_growth or 0)
        print(
            f"{sizes_mb[-1]} MB vs {sizes_mb[0]} MB: body +{mib(body_growth)} MiB; traced peak"
            f" {traced_delta / MiB:+.1f} MiB, RSS peak {rss_delta / MiB:+.1f} MiB."
        )
        fraction = max(traced_delta, rss_delta) / body_growth
        rows.append(
            Row(
                f"storage.save {sizes_mb[-1]} MB vs {sizes_mb[0]} MB: memory growth",
                f"{fraction:.1%} of the extra body",
                "not with the body",
                "PASS" if fraction < 0.1 else "FAIL",
            )
        )
    return rows


# --- 3. memory, whole request ------------------------------------------------------------------


def bench_request_memory(port: int, token: str, tmp: Path, args: argparse.Namespace) -> list[Row]:
    from django.conf import settings

    section(f"3. Memory: a {args.request_mb} MB upload through GraphQL (whole server process)")
    exact = exact_large_allocations()
    large = tmp / "request-large.jpg"
    width, height = noise_jpeg(large, args.request_mb * 10**6, seed=99)
    control = tmp / "request-control.jpg"
    smooth_jpeg(control, (width, height))
    files = {"control": control, "large": large}
    print(
        f"Files: {width}x{height} noise JPEG, {large.stat().st_size:,} bytes, and a smooth"
        f" JPEG of the same pixel size, {control.stat().st_size:,} bytes. Django spools"
        f" uploads over FILE_UPLOAD_MAX_MEMORY_SIZE ({settings.FILE_UPLOAD_MAX_MEMORY_SIZE:,}"
        " bytes) to a temporary file; validation decodes every pixel (Pillow keeps RGB as 4"
        f" bytes a pixel: {mib(width * height * 4)} MiB) whatever the file size. Measured: peak"
        " RSS growth of this process (Django and the first ImageKit server, upstream delay"
        " now 0) while one request runs, the client being another process; after one"
        " unmeasured upload of each, two runs each, alternating, then one each under"
        " tracemalloc (Python allocations: a bytes copy of the body would show there)."
        + ("" if exact else " mallopt failed: RSS may read low.")
    )
    context = multiprocessing.get_context("spawn")
    results: dict[str, list[MemoryUse]] = {kind: [] for kind in files}
    traced: dict[str, int] = {}
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(time.sleep, 0).result(timeout=60)

        def upload(path: Path, label: str) -> None:
            batch = pool.submit(
                post_uploads, port, token, [(str(path), f"{label}.jpg")], args.timeout
            ).result(timeout=args.timeout + 30)
            found = outcomes(batch, [label])[0]
            if not found.ok:
                raise SystemExit(f"{label} failed: {found.problem}")

        for kind, path in files.items():
            upload(path, f"request-{kind}-warmup")
        for round_ in range(2):
            for kind, path in files.items():
                label = f"request-{kind}-{round_}"
                results[kind].append(measure_rss(lambda p=path, n=label: upload(p, n)))
        for kind, path in files.items():
            label = f"request-{kind}-traced"
            traced[kind] = measure_traced(lambda p=path, n=label: upload(p, n))
    print(
        f"\n{'file':<10} {'bytes':>12} {'RSS peak +MiB (runs)':>22} {'traced peak MiB':>16}"
        f" {'seconds':>8}"
    )
    for kind, path in files.items():
        uses = results[kind]
        growth = ", ".join("n/a" if u.peak_growth is None else mib(u.peak_growth) for u in uses)
        print(
            f"{kind:<10} {path.stat().st_size:>12,} {growth:>22} {mib(traced[kind]):>16}"
            f" {min(u.seconds for u in uses):>8.2f}"
        )
    large_growth = min(u.peak_growth or 0 for u in results["large"])
    control_growth = min(u.peak_growth or 0 for u in results["control"])
    body = large.stat().st_size - control.stat().st_size
    extra = max(large_growth - control_growth, traced["large"] - traced["control"])
    fraction = extra / body
    print(
        "(The traced ~10 MiB is the same for both files: werkzeug's development server reads"
        " what is left of each request body with rfile.read(10_000_000) after responding,"
        " in the Django server and the ImageKit emulator alike; mostly untouched, so not RSS.)"
    )
    print(
        f"large - control: RSS {(large_growth - control_growth) / MiB:+.1f} MiB, traced"
        f" {(traced['large'] - traced['control']) / MiB:+.1f} MiB, for {mib(body)} MiB more"
        f" body ({fraction:.0%} at most)."
    )
    return [
        Row(
            f"GraphQL {args.request_mb} MB upload: growth beyond same-pixels file",
            f"{extra / MiB:+.1f} MiB ({fraction:.0%} of +{mib(body)} MiB body)",
            "not with the body",
            "PASS" if fraction < 0.1 else "FAIL",
        ),
        Row(
            f"GraphQL {args.request_mb} MB upload: RSS peak growth",
            f"{mib(large_growth)} MiB (pixels {mib(width * height * 4)} MiB)",
            "info",
            "-",
        ),
    ]


def checkout(revision: str, folder: Path) -> str:
    """``revision`` of this repository extracted into ``folder`` (git archive); its short hash."""

    def git(*command: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(BASE_DIR), *command], check=True, capture_output=True, timeout=120
        ).stdout

    short = git("rev-parse", "--short", revision).decode().strip()
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", revision))) as tar:
        tar.extractall(folder, filter="data")
    return short


def bench_gunicorn(
    server: ImageKitServer,
    token: str,
    photos: list[Upload],
    imagekit_meter: CpuMeter,
    args: argparse.Namespace,
    tmp: Path,
) -> list[Row]:
    """Section 1 on the production server: every latency, ``--rounds`` times; with
    ``--baseline``, on that revision's code too, the two servers taking turns."""
    trees = [("this tree", BASE_DIR)]
    if args.baseline:
        short = checkout(args.baseline, tmp / "baseline")
        trees.append((f"baseline {short}", tmp / "baseline"))
        print(f"Baseline: {args.baseline} ({short}) extracted with git archive; same database.")
    rows: list[Row] = []
    with ExitStack() as running:
        served = []
        for index, (label, root) in enumerate(trees):
            # The child processes get this process's settings (start_django set them in
            # os.environ) and log as in production, one line per request at INFO.
            gunicorn = running.enter_context(
                GunicornProcess(
                    {"LOG_LEVEL": "INFO"}, workers=args.workers, threads=args.threads, root=root
                )
            )
            meters = ServerMeters(
                gunicorn,
                imagekit_meter,
                f"gunicorn ({label}), {gunicorn.workers} gthread workers x"
                f" {gunicorn.threads} threads (config/gunicorn.py, child processes)",
            )
            served.append((index, label, gunicorn, meters))
        # Enough to reach every thread: each opens its own database connection.
        (tmp / "warmup").mkdir()
        threads = max(gunicorn.workers * gunicorn.threads for _, _, gunicorn, _ in served)
        warmup = make_photos(min(args.concurrency, threads), tmp / "warmup")
        turn = 0
        for round_ in range(args.rounds):
            for latency in args.latency:
                # Alternate which tree goes first, so neither always runs later.
                for index, label, gunicorn, meters in served[:: 1 if turn % 2 == 0 else -1]:
                    first = round_ == 0 and latency == args.latency[0]
                    name = label if args.rounds == 1 else f"{label}, round {round_ + 1}"
                    rows += bench_concurrency(
                        server,
                        gunicorn.port,
                        token,
                        photos,
                        meters,
                        args,
                        latency,
                        diagnose=first,
                        warmup=warmup if first else None,
                        tree=name if len(served) > 1 or args.rounds > 1 else "",
                        tag=f"{index}r{round_}",
                    )
                turn += 1
    return rows


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32, help="simultaneous uploads")
    parser.add_argument("--singles", type=int, default=5, help="timed one-at-a-time uploads")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per HTTP request")
    parser.add_argument(
        "--sqlite-options",
        default=SQLITE_OPTIONS,
        help=f"DATABASE_URL query string (default {SQLITE_OPTIONS!r}, the same as "
        "config.settings applies to SQLite when the URL sets neither)",
    )
    parser.add_argument(
        "--storage-mb", type=int, nargs=2, default=[4, 40], help="file sizes for section 2"
    )
    parser.add_argument("--request-mb", type=int, default=20, help="file size for section 3")
    parser.add_argument(
        "--skip-zero-latency",
        action="store_true",
        help="skip the diagnostic uploads with no upstream delay",
    )
    parser.add_argument("--skip-memory", action="store_true", help="section 1 only")
    parser.add_argument("--skip-concurrency", action="store_true", help="sections 2 and 3 only")
    parser.add_argument(
        "--server",
        choices=("werkzeug", "gunicorn"),
        default="werkzeug",
        help="werkzeug: a threaded server in this process (all sections); gunicorn: the"
        " production server, config/gunicorn.py, in child processes (section 1 only)."
        " Default: %(default)s",
    )
    parser.add_argument(
        "--latency",
        type=float,
        action="append",
        help="upstream delay in seconds added to every upload API call; repeat for several"
        f" runs of section 1 (default: {UPSTREAM_DELAY}, and 0.5 too with --server gunicorn)",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL: the run uses a new database on that server (dropped at the"
        " end) instead of a temporary SQLite file",
    )
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="with --server gunicorn: also serve this git revision (e.g. main), extracted to a"
        " temporary folder, and run section 1 on both, taking turns",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --server gunicorn: repeat section 1 this many times (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: config's)")
    parser.add_argument("--threads", type=int, help="gunicorn threads (default: config's)")
    args = parser.parse_args()
    if not args.latency:
        args.latency = [UPSTREAM_DELAY, 0.5] if args.server == "gunicorn" else [UPSTREAM_DELAY]
    if args.server == "gunicorn":
        args.skip_memory = True
    elif args.baseline or args.rounds != 1:
        parser.error("--baseline and --rounds need --server gunicorn")

    print(
        f"bench_uploads: Python {platform.python_version()}, {platform.machine()},"
        f" {os.cpu_count()} CPUs, {load_note()}; {others_busy()}"
    )
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    args.tmp = tmp
    server = ImageKitServer(tmp / "imagekit", private_key=PRIVATE_KEY, public_key=PUBLIC_KEY)
    rows: list[Row] = []
    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(temporary_postgres(args.database_url))
        rows = run_all(args, tmp, server, database_url)
    section("Summary")
    print(f"{'target':<64} {'measured':<34} {'goal':<18} result")
    for row in rows:
        print(f"{row.target:<64} {row.measured:<34} {row.goal:<18} {row.verdict}")
    print(
        f"\nTotal {time.perf_counter() - started:.0f} s; at the end: {load_note()}; {others_busy()}"
    )


def run_all(
    args: argparse.Namespace, tmp: Path, server: ImageKitServer, database_url: str | None
) -> list[Row]:
    rows: list[Row] = []
    try:
        server.start()
        setup_django(tmp, server, args.sqlite_options, database_url)
        from django.core.wsgi import get_wsgi_application

        token = make_token()
        photos = make_photos(args.singles + 1 + args.concurrency, tmp)
        # CPU time per request thread, for the where-does-it-go line. The emulator's
        # werkzeug server calls server._server.app (no public hook): wrap it there.
        imagekit_meter = CpuMeter(server.app)
        server._server.app = imagekit_meter
        if args.server == "gunicorn":
            rows += bench_gunicorn(server, token, photos, imagekit_meter, args, tmp)
        else:
            meters = Meters(CpuMeter(get_wsgi_application()), imagekit_meter)
            with serving(meters.django) as port:
                if not args.skip_concurrency:
                    for i, latency in enumerate(args.latency):
                        rows += bench_concurrency(
                            server, port, token, photos, meters, args, latency, diagnose=i == 0
                        )
                if not args.skip_memory:
                    rows += bench_storage_memory(tmp, args.storage_mb)
                    server.faults.delay("upload", 0)
                    rows += bench_request_memory(port, token, tmp, args)
    finally:
        if "django.db" in sys.modules:
            sys.modules["django.db"].connections.close_all()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
