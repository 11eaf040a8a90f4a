"""media_store against the references, in one run: URL building, first render, cached delivery.

Run from the project root: ``.venv/bin/python bench/bench_media.py`` (``--help`` for options).
Needs ``pyvips[binary]`` for section 2 (``bench/requirements.txt``); ``wrk`` is used in
section 3 when ``/usr/bin/wrk`` exists. Everything runs on 127.0.0.1 in temporary folders;
every loop is bounded by a count and a time budget.

1. URL build, µs per URL: media_store's UrlBuilder vs ``ImageKit().helper.build_url``, with
   the timeit statements of ``bench/bench_urls.py`` (best of R runs of N calls).
2. First render, ms: the same 1920x1080 photo-like JPEG (in memory) to a 300 px wide WebP at
   quality 80, effort 4: ``render()`` vs ``pyvips.Image.thumbnail_buffer`` + ``webpsave_buffer``.
   Calls alternate; best and median of N. Then where our time goes.
3. Cached hit, requests/s: the CDN view's signed ``tr:w-300,f-webp`` URL once its rendition
   is cached vs the same bytes as a static file, served (a) by ``whitenoise.WhiteNoise``
   wrapped around the Django WSGI app and (b) from the app's own ``/static/`` (its
   WhiteNoiseMiddleware), over HTTP from one threaded werkzeug server in this process. The
   client (keep-alive http.client connections on threads) runs in a separate process so it
   does not share the server's GIL; then wrk if installed; then in-process WSGI calls.
"""

from __future__ import annotations

import argparse
import http.client
import io
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Run as a script, so the project root is not on sys.path yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_urls, also when imported

import bench_urls
from benchkit import Row, load_note, others_busy, section, start_django
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat, features

from media_store.grammar import parse
from media_store.rendering import formats, pipeline, render

CHAIN = "w-300,f-webp"
SOURCE_SIZE = (1920, 1080)
SOURCE_QUALITY = 90
WIDTH = 300
QUALITY = 80  # media_store's DEFAULT_QUALITY; pyvips gets the same Q
# libwebp's "method"/"effort" (0-6). Read from the renderer so a change there shows here.
WEBP_METHOD = getattr(formats, "WEBP_METHOD", 4)
# Limits passed to render(), as the view passes media_store's defaults.
MAX_OUTPUT_SIDE = 4096
MAX_SOURCE_PIXELS = 40_000_000

RENDER_GOAL = 1.2  # ours / pyvips, at most
CACHED_GOAL = 0.8  # cached hit req/s / static req/s, at least
WRK = Path("/usr/bin/wrk")
STATIC_PREFIX = "/bench-static/"
SECTIONS = ("urls", "render", "http")
CACHED = "cached hit (CDN view, signed tr: URL)"
WRAPPER_STATIC = "static, WhiteNoise wrapper (outside Django)"
DJANGO_STATIC = "static, /static/ (WhiteNoiseMiddleware)"
SHORT = {WRAPPER_STATIC: "static (wrapper)", DJANGO_STATIC: "static (/static/)"}


# --- helpers -------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def timed_runs(
    calls: dict[str, Callable[[], Any]], runs: int, budget_s: float
) -> dict[str, list[float]]:
    """Seconds per call for each callable, alternating them, after one warm-up call each.

    Alternating spreads any background load evenly over the contenders. Stops after
    ``runs`` rounds or once ``budget_s`` has passed (at least 3 rounds).
    """
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + budget_s
    for done in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
        if done >= 2 and time.perf_counter() > deadline:
            break
    return times


# --- 1. URL build --------------------------------------------------------------------------


def bench_url_build(number: int, repeat: int) -> list[Row]:
    section("1. URL build: UrlBuilder.build vs ImageKit().helper.build_url (path position)")
    print(
        f"Method: bench_urls.statements()/best_us(): timeit, best of {repeat} runs of {number}"
        f" calls (SDK: {max(number // 10, 1)} calls); both produce the identical URL"
        " (asserted)."
    )
    print(f"{'case':<40} {'ours µs':>8} {'SDK µs':>8} {'speed-up':>9}")
    rows = []
    for name, options in bench_urls.CASES:
        if options.get("position", "path") != "path":
            continue
        ours, theirs, namespace = bench_urls.statements(options)
        ours_us = bench_urls.best_us(ours, namespace, number, repeat)
        sdk_us = bench_urls.best_us(theirs, namespace, max(number // 10, 1), repeat)
        print(f"{name:<40} {ours_us:>8.2f} {sdk_us:>8.2f} {sdk_us / ours_us:>8.1f}x")
        rows.append(
            Row(
                f"URL build, {name}",
                f"{ours_us:.2f} vs {sdk_us:.2f} µs",
                "info: < SDK",
                "PASS" if ours_us < sdk_us else "FAIL",
            )
        )
    return rows


# --- 2. First render -----------------------------------------------------------------------


def photo_like_jpeg(size: tuple[int, int] = SOURCE_SIZE, quality: int = SOURCE_QUALITY) -> bytes:
    """A deterministic photo-like JPEG: smooth gradients, soft and hard shapes, sensor grain.

    Flat synthetic images compress and resize unrealistically fast; this one has the
    broad-band content of a noisy photograph (about 0.64 bytes per pixel at quality 90).
    """
    rng = random.Random(20_240_1080)
    width, height = size
    vertical = Image.linear_gradient("L").resize(size, Image.Resampling.BICUBIC)
    radial = Image.radial_gradient("L").resize(size, Image.Resampling.BICUBIC)
    diagonal = Image.linear_gradient("L").rotate(45, expand=True).resize(size)
    image = Image.merge("RGB", (radial, vertical, diagonal))

    # Out-of-focus background blobs.
    soft = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(soft)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(40, 320)
        colour = (*(rng.randrange(256) for _ in range(3)), rng.randrange(60, 200))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image.paste(
        soft.filter(ImageFilter.GaussianBlur(18)), mask=soft.filter(ImageFilter.GaussianBlur(18))
    )

    # In-focus subjects: polygons and rings with sharp, slightly softened edges.
    sharp = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(sharp)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        points = [
            (x + rng.randrange(-180, 180), y + rng.randrange(-180, 180))
            for _ in range(rng.randrange(3, 7))
        ]
        colour = (*(rng.randrange(256) for _ in range(3)), 255)
        if rng.random() < 0.6:
            draw.polygon(points, fill=colour)
        else:
            r = rng.randrange(20, 140)
            draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=rng.randrange(2, 14))
    sharp = sharp.filter(ImageFilter.GaussianBlur(0.8))
    image.paste(sharp, mask=sharp)

    # Texture and sensor grain: per-channel noise, slightly correlated, at ~±8 levels.
    pixels = width * height
    grain = Image.merge(
        "RGB",
        [
            Image.frombytes("L", size, rng.randbytes(pixels)).filter(ImageFilter.GaussianBlur(0.7))
            for _ in range(3)
        ],
    )
    image = ImageChops.add(image, grain, scale=1.0, offset=-128)
    image = Image.blend(image, ImageChops.add(image, grain, scale=2.0, offset=-64), 0.15)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def psnr(candidate: Image.Image, reference: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB over RGB (higher is closer), without numpy."""
    squared = ImageStat.Stat(ImageChops.difference(candidate, reference)).sum2
    mse = sum(squared) / (reference.width * reference.height * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def ours_render(jpeg: bytes) -> bytes:
    transformation = parse(CHAIN)
    return render(
        io.BytesIO(jpeg),
        transformation,
        accept="",
        max_output_side=MAX_OUTPUT_SIDE,
        max_source_pixels=MAX_SOURCE_PIXELS,
        default_quality=QUALITY,
    ).data


def bench_render(jpeg: bytes, runs: int, budget_s: float) -> list[Row]:
    section(f"2. First render: {SOURCE_SIZE[0]}x{SOURCE_SIZE[1]} JPEG -> {WIDTH} px wide WebP")
    source = Image.open(io.BytesIO(jpeg))
    print(
        f"Source: {source.width}x{source.height} JPEG q{SOURCE_QUALITY}, {len(jpeg):,} bytes,"
        " photo-like (gradients, blurred and sharp shapes, grain), same bytes in memory for both."
    )
    print(
        f"Ours:   render(BytesIO(jpeg), parse({CHAIN!r}), default_quality={QUALITY}) -> Pillow"
        f" {Image.__version__}, libwebp {features.version('webp')}, libjpeg-turbo"
        f" {features.version('libjpeg_turbo')}; media_store WebP method={WEBP_METHOD}"
        " (formats.WEBP_METHOD), quality 80."
    )
    try:
        import pyvips
    except (ImportError, OSError) as e:
        print(
            f"pyvips is not available ({e}). Install it with\n"
            "  .venv/bin/pip install -r bench/requirements.txt\n"
            "to compare against libvips. Timing ours only."
        )
        times = timed_runs({"ours": lambda: ours_render(jpeg)}, runs, budget_s)["ours"]
        print(f"ours: best {ms(min(times))} ms, median {ms(statistics.median(times))} ms")
        breakdown(jpeg)
        return [Row("First render ours/pyvips", "pyvips missing", f"≤ {RENDER_GOAL}x", "SKIP")]

    # libvips caches operations by their arguments; every call must do the work.
    pyvips.cache_set_max(0)
    threads = pyvips.concurrency_get()

    def vips_render() -> bytes:
        return pyvips.Image.thumbnail_buffer(jpeg, WIDTH).webpsave_buffer(
            Q=QUALITY, effort=WEBP_METHOD
        )

    print(
        f"pyvips: Image.thumbnail_buffer(jpeg, {WIDTH}).webpsave_buffer(Q={QUALITY},"
        f" effort={WEBP_METHOD}) -> libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)} (pyvips {pyvips.__version__}), {threads} worker threads"
        " (its default: one per core); operation cache off."
    )
    print(
        f"Method: one warm-up call each, then up to {runs} alternating rounds"
        f" (budget {budget_s:.0f} s); per-call wall time with perf_counter."
    )
    times = timed_runs({"ours": lambda: ours_render(jpeg), "pyvips": vips_render}, runs, budget_s)
    pyvips.concurrency_set(1)
    try:
        single = timed_runs({"pyvips 1 thread": vips_render}, runs, budget_s / 2)
    finally:
        pyvips.concurrency_set(threads)
    times.update(single)

    outputs = {"ours": ours_render(jpeg), "pyvips": vips_render()}
    decoded = {name: Image.open(io.BytesIO(data)) for name, data in outputs.items()}
    # Quality yardstick: full decode, one Lanczos pass, no encode.
    reference = Image.open(io.BytesIO(jpeg)).convert("RGB")
    print(
        f"\n{'':<16} {'best ms':>8} {'median ms':>10} {'runs':>5} {'bytes':>7} {'size':>8}  PSNR*"
    )
    for name, samples in times.items():
        kind = name.split()[0]
        image = decoded[kind]
        target = reference.resize(image.size, Image.Resampling.LANCZOS)
        print(
            f"{name:<16} {ms(min(samples)):>8} {ms(statistics.median(samples)):>10}"
            f" {len(samples):>5} {len(outputs[kind]):>7,} {image.width:>4}x{image.height:<4}"
            f" {psnr(image.convert('RGB'), target):5.1f} dB"
        )
    print(
        "* PSNR of the decoded WebP against the source fully decoded and Lanczos-resized to the"
        " same size (higher = closer); same Q and effort, so similar bytes and PSNR mean a fair"
        " comparison."
    )
    best = min(times["ours"]) / min(times["pyvips"])
    median = statistics.median(times["ours"]) / statistics.median(times["pyvips"])
    single_ratio = min(times["ours"]) / min(times["pyvips 1 thread"])
    print(
        f"ours/pyvips: {best:.2f}x best, {median:.2f}x median"
        f" ({single_ratio:.2f}x best against pyvips on 1 thread; Pillow renders on 1 thread)"
    )
    breakdown(jpeg, pyvips)
    return [
        Row(
            f"First render ours/pyvips ({threads} thr), best",
            f"{best:.2f}x ({ms(min(times['ours']))} vs {ms(min(times['pyvips']))} ms)",
            f"≤ {RENDER_GOAL}x",
            "PASS" if best <= RENDER_GOAL else "FAIL",
        ),
        Row(
            "First render ours/pyvips, median",
            f"{median:.2f}x",
            f"≤ {RENDER_GOAL}x",
            "PASS" if median <= RENDER_GOAL else "FAIL",
        ),
    ]


def breakdown(jpeg: bytes, pyvips: Any = None, runs: int = 15) -> None:
    """Where render() spends its time, by replaying its steps with Pillow's public API.

    Uses the pipeline's own constants (draft gap, resize reducing_gap, WebP method) and
    checks that the replay produces render()'s exact bytes.
    """
    gap = getattr(pipeline, "REDUCING_GAP", 2.0)
    resize_gap = getattr(pipeline, "RESIZE_GAP", None)
    probe = Image.open(io.BytesIO(jpeg))
    out_size = (WIDTH, round(probe.height * WIDTH / probe.width))
    wanted = tuple(math.ceil(side * WIDTH / probe.width * gap) for side in probe.size)

    state: dict[str, Any] = {}

    def decode() -> None:
        image = Image.open(io.BytesIO(jpeg))
        image.draft(image.mode, wanted)
        image.load()
        state["decoded"] = image

    def decode_full() -> None:
        Image.open(io.BytesIO(jpeg)).load()

    def decode_quarter() -> None:
        image = Image.open(io.BytesIO(jpeg))
        image.draft(image.mode, (probe.width // 4, probe.height // 4))
        image.load()

    def resize() -> None:
        image = state["decoded"]
        # render() passes the (float) source box explicitly; the whole image here.
        box = (0.0, 0.0, float(image.width), float(image.height))
        state["resized"] = image.resize(
            out_size, Image.Resampling.LANCZOS, box=box, reducing_gap=resize_gap
        )

    def encode() -> None:
        buffer = io.BytesIO()
        state["resized"].save(buffer, "WEBP", quality=QUALITY, method=WEBP_METHOD)
        state["webp"] = buffer.getvalue()

    decode()
    resize()
    encode()
    steps: dict[str, Callable[[], Any]] = {
        "total render()": lambda: ours_render(jpeg),
        f"decode, draft -> {state['decoded'].width}x{state['decoded'].height}": decode,
        f"resize Lanczos -> {out_size[0]}x{out_size[1]}": resize,
        f"encode WebP q{QUALITY} m{WEBP_METHOD}": encode,
        f"(decode full {probe.width}x{probe.height})": decode_full,
        f"(decode at 1/4, {probe.width // 4}x{probe.height // 4})": decode_quarter,
    }
    if pyvips is not None:
        resized = state["resized"]
        memory = resized.tobytes()

        def vips_encode() -> None:
            pyvips.Image.new_from_memory(
                memory, resized.width, resized.height, 3, "uchar"
            ).webpsave_buffer(Q=QUALITY, effort=WEBP_METHOD)

        steps["(pyvips encode of the same pixels)"] = vips_encode
    times = timed_runs(steps, runs, budget_s=10)
    print(
        f"\nWhere our time goes (replay of render() with Pillow: draft gap {gap}, resize"
        f" reducing_gap {resize_gap}; best of {len(times['total render()'])}):"
    )
    same = state["webp"] == ours_render(jpeg)
    for name, samples in times.items():
        print(f"  {name:<40} {ms(min(samples)):>7} ms")
    parts = sum(min(times[name]) for name in list(steps)[1:4])
    print(
        f"  {'sum of decode+resize+encode':<40} {ms(parts):>7} ms"
        f"  (replay output identical to render(): {'yes' if same else 'no'})"
    )


# --- 3. Cached hit vs static ---------------------------------------------------------------


def setup_django(tmp: Path) -> None:
    start_django(tmp)


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """A threaded werkzeug server for ``app`` on 127.0.0.1, a free port; yields the port."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        # Small header and body writes must not wait on Nagle + delayed ACK.
        disable_nagle_algorithm = True

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def http_get(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def client_loop(
    port: int, target: str, count: int, connections: int, budget_s: float
) -> dict[str, Any]:
    """GET ``target`` ``count`` times over ``connections`` keep-alive connections.

    Runs in the client process. Each thread owns one HTTPConnection and stops at its share
    of ``count`` or at the deadline. Returns completed requests, errors, bytes and seconds.
    """
    deadline = time.perf_counter() + budget_s
    shares = [count // connections + (i < count % connections) for i in range(connections)]
    barrier = threading.Barrier(connections + 1)

    def worker(share: int) -> tuple[int, int, int]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done = errors = received = 0
        barrier.wait()
        try:
            while done + errors < share and time.perf_counter() < deadline:
                try:
                    connection.request("GET", target)
                    response = connection.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    connection.close()
                    continue
                if response.status == 200:
                    done += 1
                    received += len(body)
                else:
                    errors += 1
        finally:
            connection.close()
        return done, errors, received

    with ThreadPoolExecutor(connections) as pool:
        futures = [pool.submit(worker, share) for share in shares]
        barrier.wait()
        start = time.perf_counter()
        results = [future.result() for future in futures]
        elapsed = time.perf_counter() - start
    return {
        "requests": sum(r[0] for r in results),
        "errors": sum(r[1] for r in results),
        "bytes": sum(r[2] for r in results),
        "seconds": elapsed,
    }


def run_wrk(port: int, target: str, seconds: int, connections: int) -> float | None:
    """Requests/s from one wrk run (1 thread: the server needs the other core), or None."""
    command = [
        str(WRK),
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        f"http://127.0.0.1:{port}{target}",
    ]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  wrk failed: {e}")
        return None
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if bad or match is None:
        print(f"  wrk: unexpected output or non-2xx responses:\n{result.stdout}{result.stderr}")
        return None
    return float(match.group(1))


def wsgi_call(app: Any, target: str) -> bytes:
    """One in-process WSGI request (no sockets): the app's own cost."""
    from wsgiref.util import setup_testing_defaults

    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
    }
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    if not status[0].startswith("200"):
        raise RuntimeError(f"{target}: {status[0]}")
    return data


def per_second(call: Callable[[], Any], count: int, budget_s: float) -> float:
    """Calls per second over up to ``count`` calls or ``budget_s`` seconds."""
    call()
    deadline = time.perf_counter() + budget_s
    start = time.perf_counter()
    done = 0
    while done < count and time.perf_counter() < deadline:
        call()
        done += 1
    return done / (time.perf_counter() - start)


def bench_cached(jpeg: bytes, args: argparse.Namespace) -> list[Row]:
    section("3. Cached hit vs static file, requests/s")
    tmp = Path(tempfile.mkdtemp(prefix="bench-media-"))
    try:
        return _bench_cached(jpeg, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench_cached(jpeg: bytes, args: argparse.Namespace, tmp: Path) -> list[Row]:
    setup_django(tmp)
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.test import Client, override_settings

    name = default_storage.save("bench/photo.jpg", ContentFile(jpeg))
    url = urlsplit(default_storage.transformed_url(name, parse(CHAIN)))
    cdn_target = f"{url.path}?{url.query}"

    # Warm the rendition cache with one request through the view (a cache miss: renders).
    client = Client()
    start = time.perf_counter()
    miss = client.get(cdn_target)
    miss_s = time.perf_counter() - start
    if miss.status_code != 200:
        raise SystemExit(f"Warm-up request failed: {miss.status_code} {miss.content[:200]!r}")
    rendered = miss.content
    static_dir = tmp / "static"
    (static_dir / "bench").mkdir(parents=True)
    (static_dir / "bench" / "photo-w300.webp").write_bytes(rendered)
    print(
        f"Setup: config.settings (DEBUG off) on temp MEDIA_ROOT and rendition cache; signed"
        f" URL {cdn_target[:60]}...; warm-up miss (render + cache write) through the view"
        f" {ms(miss_s)} ms, {len(rendered):,} bytes {miss['Content-Type']}."
    )
    # The app's own static path too: WhiteNoiseMiddleware finds the folder through
    # STATICFILES_DIRS (WHITENOISE_USE_FINDERS) when the WSGI app is created.
    with override_settings(STATICFILES_DIRS=[*settings.STATICFILES_DIRS, static_dir]):
        return _serve_and_measure(args, client, cdn_target, rendered, static_dir)


def _serve_and_measure(
    args: argparse.Namespace, client: Any, cdn_target: str, rendered: bytes, static_dir: Path
) -> list[Row]:
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from whitenoise import WhiteNoise

    # What config.wsgi does; created here so WhiteNoiseMiddleware sees the bench folder.
    application = get_wsgi_application()
    # WhiteNoise scans ``root`` now, so the file must exist first.
    app = WhiteNoise(application, root=static_dir, prefix=STATIC_PREFIX)
    targets = {
        CACHED: cdn_target,
        DJANGO_STATIC: f"/{settings.STATIC_URL.strip('/')}/bench/photo-w300.webp",
        WRAPPER_STATIC: f"{STATIC_PREFIX}bench/photo-w300.webp",
    }
    print(
        f"Static, two ways, same bytes: {targets[WRAPPER_STATIC]} from whitenoise.WhiteNoise("
        "root=...) wrapped around the Django WSGI app (never reaches Django), and"
        f" {targets[DJANGO_STATIC]} from the app's own WhiteNoiseMiddleware (Django's request"
        " handling + SecurityMiddleware, then WhiteNoise)."
    )

    rows: list[Row] = []
    with serving(app) as port:
        for target in targets.values():
            status, _headers, body = http_get(port, target)
            if status != 200 or body != rendered:
                raise SystemExit(f"GET {target}: {status}, {len(body)} bytes (not the rendition)")
        print(
            f"Server: werkzeug make_server(threaded=True), HTTP/1.1 keep-alive, 127.0.0.1:{port};"
            " all three URLs checked to return the identical bytes with 200."
        )
        print(
            f"Client: separate process, {args.connections} threads x 1 keep-alive http.client"
            f" connection, {args.requests} GETs per run, {args.rounds} alternating rounds per URL"
            f" (budget {args.http_budget:.0f} s per run); best and median req/s."
        )
        context = multiprocessing.get_context("spawn")
        samples: dict[str, list[float]] = {label: [] for label in targets}
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            # Start the client process (imports) before timing anything.
            pool.submit(time.sleep, 0).result()
            for _ in range(args.rounds):
                for label, target in targets.items():
                    result = pool.submit(
                        client_loop, port, target, args.requests, args.connections, args.http_budget
                    ).result(timeout=args.http_budget + 30)
                    if result["errors"]:
                        print(f"  {label}: {result['errors']} failed requests")
                    samples[label].append(result["requests"] / result["seconds"])
        rows += _report("python client", samples)

        if WRK.exists() and not args.no_wrk:
            print(
                f"\nwrk: -t1 -c{args.connections} -d{args.wrk_seconds}s per URL, alternating,"
                f" {args.rounds} rounds."
            )
            results: dict[str, list[float]] = {label: [] for label in targets}
            for _ in range(args.rounds):
                for label, target in targets.items():
                    value = run_wrk(port, target, args.wrk_seconds, args.connections)
                    if value is not None:
                        results[label].append(value)
            if all(results.values()):
                rows += _report("wrk", results)
        else:
            print(f"\nwrk: skipped ({WRK} not found; Debian package 'wrk').")

    # In-process: no sockets, no server, just the WSGI apps' own cost per request.
    count = args.inprocess_requests
    print(
        f"\nIn-process, no HTTP and no server (direct WSGI calls; {count} requests or"
        f" {args.http_budget:.0f} s each):"
    )
    direct = {
        label: per_second(lambda target=target: wsgi_call(app, target), count, args.http_budget)
        for label, target in targets.items()
    }
    direct["django.test.Client, cached hit"] = per_second(
        lambda: client.get(cdn_target).getvalue(), count, args.http_budget
    )
    for label, value in direct.items():
        print(f"  {label:<44} {value:>8.0f} req/s  {1e6 / value:>6.0f} µs/request")
    for static in (WRAPPER_STATIC, DJANGO_STATIC):
        ratio = direct[CACHED] / direct[static]
        rows.append(Row(f"in-process: cached / {SHORT[static]}", f"{ratio:.0%}", "info", "-"))
    return rows


def _report(client: str, samples: dict[str, list[float]]) -> list[Row]:
    """Print req/s per URL and return the cached/static summary rows (from the best runs)."""
    print(f"\n{client:<44} {'best req/s':>10} {'median req/s':>13}")
    for label, values in samples.items():
        print(f"{label:<44} {max(values):>10.0f} {statistics.median(values):>13.0f}")
    rows = []
    cached = max(samples[CACHED])
    for static in (WRAPPER_STATIC, DJANGO_STATIC):
        ratio = cached / max(samples[static])
        median = statistics.median(samples[CACHED]) / statistics.median(samples[static])
        print(f"cached / {SHORT[static]}: {ratio:.0%} best, {median:.0%} median")
        rows.append(
            Row(
                f"HTTP ({client}): cached / {SHORT[static]}",
                f"{ratio:.0%} ({cached:.0f} vs {max(samples[static]):.0f} req/s)",
                f"≥ {CACHED_GOAL:.0%}",
                "PASS" if ratio >= CACHED_GOAL else "FAIL",
            )
        )
    return rows


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url-number", type=int, default=20_000, help="calls per URL run")
    parser.add_argument("--url-repeat", type=int, default=5, help="URL runs, best kept")
    parser.add_argument("--render-runs", type=int, default=25, help="render rounds")
    parser.add_argument("--render-budget", type=float, default=30, help="seconds for renders")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP GETs per run")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP runs per URL")
    parser.add_argument("--http-budget", type=float, default=30, help="seconds per HTTP run")
    parser.add_argument("--wrk-seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even if installed")
    parser.add_argument("--inprocess-requests", type=int, default=2000, help="in-process calls")
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this section (repeatable); default: all",
    )
    args = parser.parse_args()
    only = set(args.only or SECTIONS)

    print(
        f"bench_media: Python {platform.python_version()}, {platform.machine()},"
        f" {os.cpu_count()} CPUs, {load_note()}; {others_busy()}"
    )
    started = time.perf_counter()
    rows: list[Row] = []
    if "urls" in only:
        rows += bench_url_build(args.url_number, args.url_repeat)
    jpeg = photo_like_jpeg()
    if "render" in only:
        rows += bench_render(jpeg, args.render_runs, args.render_budget)
    if "http" in only:
        rows += bench_cached(jpeg, args)

    section("Summary")
    print(f"{'target':<50} {'measured':<32} {'goal':<12} result")
    for row in rows:
        print(f"{row.target:<50} {row.measured:<32} {row.goal:<12} {row.verdict}")
    print(
        f"\nTotal {time.perf_counter() - started:.0f} s; at the end: {load_note()}; {others_busy()}"
    )


if __name__ == "__main__":
    main()
