"""The render budget, measured: the cost model against real renders, then a server under attack.

Run from the project root: ``.venv/bin/python bench/bench_render_budget.py`` (``--help``).

1. calibrate: renders a table of chains on generated sources (photo-like JPEG, PNG with
   and without alpha, WebP, AVIF, GIF, 16-bit PNG), each in a fresh process, and prints
   the wall time, CPU time and peak memory (VmHWM after resetting it through
   /proc/self/clear_refs, minus the RSS before) next to ``budget.estimate``. The model's
   work unit is meant to be about 1 ns of one core here, and its memory an upper bound.
2. server: starts ``manage.py runserver --noreload`` (a subprocess, threaded, DEBUG off) on
   a demo catalog in a temporary folder, signs the most expensive chains the budget lets
   through (and, for comparison, the attack chains of the brief), and sends them 8 at a
   time as an anonymous client. Reports the worst response time, the status codes and the
   server's peak RSS (VmHWM of its process). Run twice: with the budget and limiter as
   configured, and "unlimited" (limits raised through MEDIA_* environment variables so
   nothing is refused: the behaviour before the budget existed).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image

from media_store.grammar import parse
from media_store.rendering import budget

SECTIONS = ("calibrate", "server")
MAX_OUTPUT_SIDE = 4096
AVIF_ACCEPT = "image/avif,image/webp,*/*"


# --- sources ---------------------------------------------------------------------------------


def photo(size: tuple[int, int]) -> Image.Image:
    from bench_media import photo_like_jpeg

    image = Image.open(io.BytesIO(photo_like_jpeg(size)))
    image.load()
    return image


def sixteen_bit(size: tuple[int, int]) -> Image.Image:
    """A 16-bit greyscale photo: the 8-bit one scaled to 0-65535 (values v * 257)."""
    grey = photo(size).convert("L")
    wide = grey.convert("I").point(lambda value: value * 257)
    return wide.convert("I;16")


def write_sources(folder: Path) -> dict[str, Path]:
    """The calibration sources, written once per run."""
    big = photo((4000, 3000))
    medium = big.resize((2000, 1500), Image.Resampling.LANCZOS)
    rgba = medium.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(medium.size))
    sources = {
        "jpeg-12mp": (big, "JPEG", {"quality": 90}),
        "jpeg-3mp": (medium, "JPEG", {"quality": 90}),
        "png-3mp": (medium, "PNG", {}),
        "png-rgba-3mp": (rgba, "PNG", {}),
        "webp-3mp": (medium, "WEBP", {"quality": 90}),
        "gif-1mp": (medium.resize((1000, 750)), "GIF", {}),
        "png16-3mp": (sixteen_bit((2000, 1500)), "PNG", {}),
    }
    from PIL import features

    if features.check("avif"):
        sources["avif-3mp"] = (medium, "AVIF", {"quality": 80, "speed": 8})
    paths = {}
    for name, (image, fmt, options) in sources.items():
        path = folder / f"{name}.{fmt.lower()}"
        image.save(path, fmt, **options)
        paths[name] = path
    return paths


# Source, chain, Accept header. Chosen to cover every costed operation at small and
# large sizes, and the chains the budget is there to stop.
CASES: list[tuple[str, str, str]] = [
    ("jpeg-12mp", "w-300,f-webp", ""),
    ("jpeg-12mp", "w-1600", ""),
    ("jpeg-12mp", "w-1600,f-webp", ""),
    ("jpeg-12mp", "w-1920,f-auto", AVIF_ACCEPT),
    ("jpeg-12mp", "w-1000,f-png", ""),
    ("jpeg-12mp", "w-4000,h-4000,c-force", ""),
    ("jpeg-12mp", "w-4000,h-4000,c-force,bl-50", ""),
    ("jpeg-12mp", "w-4000,h-4000,c-force,bl-50:w-3999,h-3999,c-force,bl-50", ""),
    ("jpeg-12mp", "w-2000,e-sharpen-100", ""),
    ("jpeg-12mp", "w-2000,r-max", ""),
    ("jpeg-12mp", "w-2000,rt-90:b-40_FF0000", ""),
    ("jpeg-12mp", "t-true:w-1000", ""),
    ("jpeg-12mp", "w-1500,h-1500,cm-pad_resize,bg-FF000050,f-png", ""),
    ("jpeg-12mp", "w-1200,h-1200,fo-auto", ""),
    ("jpeg-12mp", "w-600,h-600,cm-extract,x-100,y-100", ""),
    ("jpeg-3mp", "w-4096,h-4096,c-force,f-webp", ""),
    ("jpeg-3mp", "w-100:w-4000,h-4000,c-force", ""),
    ("jpeg-3mp", "w-1000,e-grayscale", ""),
    ("png-3mp", "w-1000", ""),
    ("png-3mp", "w-2000,f-webp", ""),
    ("png-rgba-3mp", "w-1000", ""),
    ("png-rgba-3mp", "w-1500,bl-20", ""),
    ("png-rgba-3mp", "w-1500,f-webp", ""),
    ("png-rgba-3mp", "w-1500,r-100,bg-FFFFFF,f-jpg", ""),
    ("webp-3mp", "w-800", ""),
    ("gif-1mp", "w-500", ""),
    ("png16-3mp", "w-1000", ""),
    ("avif-3mp", "w-1000", ""),
    ("avif-3mp", "w-1500,f-auto", AVIF_ACCEPT),
]


# --- 1. calibrate ----------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def measure_render(path: str, chain: str, accept: str) -> dict[str, float]:
    """In a fresh process: one warm-up render, then the measured one."""
    from media_store.rendering import render

    transformation = parse(chain)
    # Warm-up on a tiny image of the same format: plugin imports and codec set-up.
    with Image.open(path) as opened:
        fmt = opened.format
    warm = io.BytesIO()
    Image.new("RGB", (16, 16)).save(warm, fmt)
    warm.seek(0)
    render(warm, parse("w-8"), accept=accept)

    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    wall, cpu = time.perf_counter(), time.process_time()
    rendered = render(path, transformation, accept=accept, max_output_side=MAX_OUTPUT_SIDE)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = (_status_kib("VmHWM") - before) * 1024
    return {
        "wall": wall,
        "cpu": cpu,
        "peak": peak,
        "format": rendered.format,
        "width": rendered.width,
        "height": rendered.height,
    }


@dataclass
class Calibration:
    case: str
    estimate: budget.RenderCost
    wall: float
    cpu: float
    peak: int


def calibrate(runs: int) -> list[Calibration]:
    print("\n== 1. Cost model against real renders " + "=" * 50)
    folder = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    sources = write_sources(folder)
    context = get_context("spawn")
    results = []
    print(
        f"{'source':<13} {'chain':<52} {'est ms':>7} {'wall':>6} {'cpu':>6} {'c/e':>5}"
        f" {'est MB':>7} {'peak':>6} {'p/e':>5}"
    )
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        for source, chain, accept in CASES:
            if source not in sources:
                continue
            path = sources[source]
            with Image.open(path) as opened:
                header = (opened.size, opened.format, opened.mode)
            cost = budget.estimate(
                parse(chain),
                header[0],
                source_format=header[1],
                source_mode=header[2],
                orientation=1,
                accept=accept,
                max_output_side=MAX_OUTPUT_SIDE,
            )
            samples = [
                pool.submit(measure_render, str(path), chain, accept).result() for _ in range(runs)
            ]
            wall = min(s["wall"] for s in samples)
            cpu = min(s["cpu"] for s in samples)
            peak = int(statistics.median(s["peak"] for s in samples))
            results.append(Calibration(f"{source} {chain}", cost, wall, cpu, peak))
            print(
                f"{source:<13} {chain[:52]:<52} {cost.work / 1e6:>7.0f} {wall * 1e3:>6.0f}"
                f" {cpu * 1e3:>6.0f} {cpu * 1e9 / cost.work:>5.2f} {cost.memory / 2**20:>7.1f}"
                f" {peak / 2**20:>6.1f} {peak / cost.memory:>5.2f}"
            )
    ratios_time = [r.cpu * 1e9 / r.estimate.work for r in results]
    ratios_memory = [r.peak / r.estimate.memory for r in results]
    print(
        f"\nCPU time / estimate: max {max(ratios_time):.2f},"
        f" median {statistics.median(ratios_time):.2f};"
        f" peak / estimate: max {max(ratios_memory):.2f},"
        f" median {statistics.median(ratios_memory):.2f} (want max <= 1 for both)"
    )
    return results


# --- 2. server -------------------------------------------------------------------------------

# Chains whose cost grows with one size; the bench finds, per source, the largest size the
# budget allows: "the most expensive chains an anonymous client can get rendered".
TEMPLATES = [
    "w-{n},f-png",
    "w-{n},f-avif",
    "w-{n},f-webp",
    "w-{n},h-{n},c-force,bl-100",
    "w-{n},h-{n},c-force,e-sharpen-100:bl-100",
    "w-{n},r-max,f-png",
    "t-true:w-{n},h-{n},c-force",
]
# The brief's measurements, before the budget: 12 steps of 4000x4000 resizes with blur
# (13-15 s), and 3-step chains 8 at a time (79 MB -> 2 GB).
ATTACK_12 = ":".join(f"w-{4000 - i},h-{4000 - i},c-force,bl-50" for i in range(12))
ATTACK_3 = ":".join(f"w-{4000 - i},h-{4000 - i},c-force,bl-50" for i in range(3))
UNLIMITED = {
    "MEDIA_MAX_CHAIN_STEPS": "1000",
    "MEDIA_MAX_RENDER_WORK": str(10**15),
    "MEDIA_MAX_RENDER_MEMORY": str(10**12),
    "MEDIA_MAX_CONCURRENT_RENDERS": "64",
    "MEDIA_RENDER_QUEUE_TIMEOUT": "60",
}


def server_env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(tmp / "media"),
        "MEDIA_RENDITION_CACHE_DIR": str(tmp / "renditions"),
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "IMAGEKIT_PRIVATE_KEY": "",
        "IMAGEKIT_PUBLIC_KEY": "",
        "IMAGEKIT_URL_ENDPOINT": "",
        "LOG_LEVEL": "ERROR",
        **extra,
    }


def prepare_catalog(tmp: Path) -> dict[str, str]:
    """Migrate, load the demo catalog, and store the large sources; returns their names."""
    import subprocess

    env = server_env(tmp, {})
    root = Path(__file__).resolve().parent.parent
    manage = [sys.executable, str(root / "manage.py")]
    for command in (["migrate", "--verbosity", "0"], ["load_demo_data"]):
        subprocess.run([*manage, *command], env=env, cwd=root, check=True, capture_output=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    big = photo((4000, 3000))
    names = {}
    for label, image, fmt in (
        ("jpeg-12mp", big, "JPEG"),
        ("png-3mp", big.resize((2000, 1500)), "PNG"),
        ("portrait-12mp", big.rotate(90, expand=True), "JPEG"),
    ):
        buffer = io.BytesIO()
        image.save(buffer, fmt, quality=90)
        names[label] = default_storage.save(
            f"bench/{label}.{fmt.lower()}", ContentFile(buffer.getvalue())
        )
    return names


def heaviest_allowed(name: str) -> list[tuple[str, int]]:
    """(template, size) per template: the largest size the budget allows on ``name``."""
    from django.core.files.storage import default_storage

    from media_store.budget import check_render_budget
    from media_store.rendering import probe

    header = probe(default_storage.path(name))
    found = []
    for template in TEMPLATES:
        low, high, best = 16, 4096, None
        while low <= high:
            size = (low + high) // 2
            try:
                check_render_budget(
                    parse(template.format(n=size)),
                    header.size,
                    header.format,
                    source_mode=header.mode,
                    orientation=header.orientation,
                    accept=AVIF_ACCEPT,
                )
            except ValueError:
                high = size - 1
            else:
                best, low = size, size + 1
        if best is not None:
            found.append((template, best))
    return found


@dataclass
class Burst:
    label: str
    statuses: dict[int, int]
    worst: float
    median: float


def run_server(tmp: Path, extra: dict[str, str]):
    """runserver --noreload (threaded) on a free port; returns (process, port)."""
    import subprocess

    from ops.local_servers import free_port

    port = free_port()
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(root / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=server_env(tmp, extra),
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    import http.client

    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/media/")
            connection.getresponse().read()
            connection.close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("runserver did not start")


def vm_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def burst(port: int, label: str, urls: list[str], accept: str = AVIF_ACCEPT) -> Burst:
    """GET every URL at once, one connection each; statuses and response times."""
    import http.client
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(len(urls))

    def fetch(url: str) -> tuple[int, float]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        barrier.wait()
        started = time.perf_counter()
        try:
            connection.request("GET", url, headers={"Accept": accept})
            response = connection.getresponse()
            response.read()
            return response.status, time.perf_counter() - started
        finally:
            connection.close()

    with ThreadPoolExecutor(len(urls)) as pool:
        results = list(pool.map(fetch, urls))
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    times = [seconds for _, seconds in results]
    return Burst(label, statuses, max(times), statuses and statistics.median(times))


def signed(name: str, chain: str) -> str:
    """The URL the API would give for ``chain`` on ``name`` (path and query)."""
    from urllib.parse import urlsplit

    from django.core.files.storage import default_storage

    url = urlsplit(default_storage.transformed_url(name, parse(chain)))
    return f"{url.path}?{url.query}"


def server(args: argparse.Namespace) -> None:
    print("\n== 2. Anonymous client against runserver, 8 requests at a time " + "=" * 24)
    import shutil

    tmp = Path(tempfile.mkdtemp(prefix="bench-budget-server-"))
    try:
        names = prepare_catalog(tmp)
        plans: list[tuple[str, list[str]]] = []
        for label in ("jpeg-12mp", "png-3mp", "portrait-12mp"):
            for template, size in heaviest_allowed(names[label]):
                # 8 distinct renditions: the size steps down by one per request.
                urls = [signed(names[label], template.format(n=size - index)) for index in range(8)]
                plans.append((f"{label} {template.format(n=size)}", urls))
        attacks = {}
        for label, chain in (("12-step blur chain", ATTACK_12), ("3-step blur chain", ATTACK_3)):
            attacks[label] = [
                signed(names["jpeg-12mp"], chain.replace("w-4000,", f"w-{4000 - 20 * i},", 1))
                for i in range(8)
            ]

        configs = [("budget (defaults)", {}), ("unlimited", UNLIMITED)]
        if args.budget_only:
            configs = configs[:1]
        for config, extra in configs:
            shutil.rmtree(tmp / "renditions", ignore_errors=True)
            process, port = run_server(tmp, extra)
            try:
                base = vm_kib(process.pid, "VmRSS")
                print(f"\n-- {config}: runserver pid {process.pid}, idle RSS {base / 1024:.0f} MB")
                print(f"{'burst (8 at once)':<64} {'statuses':<22} {'worst s':>8} {'median s':>9}")
                results = [burst(port, label, urls) for label, urls in plans]
                sent = dict(attacks)
                if config == "unlimited" and not args.full_attacks:
                    # The 12-step chain takes ~15 s a render: once, alone, unless asked.
                    sent["12-step blur chain"] = sent["12-step blur chain"][:1]
                for label, urls in sent.items():
                    results.append(burst(port, f"{label} x{len(urls)}", urls))
                for result in results:
                    statuses = " ".join(f"{k}x{v}" for k, v in sorted(result.statuses.items()))
                    print(
                        f"{result.label[:64]:<64} {statuses:<22} {result.worst:>8.2f}"
                        f" {result.median:>9.2f}"
                    )
                ok = [r.worst for r in results if 200 in r.statuses]
                print(
                    f"worst response with a 200 in its burst: {max(ok):.2f} s;"
                    f" server peak RSS (VmHWM) {vm_kib(process.pid, 'VmHWM') / 1024:.0f} MB,"
                    f" RSS now {vm_kib(process.pid, 'VmRSS') / 1024:.0f} MB"
                )
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section")
    parser.add_argument("--runs", type=int, default=2, help="calibration renders per case")
    parser.add_argument(
        "--full-attacks",
        action="store_true",
        help="unlimited run: send the 12-step chain 8 at a time too (minutes, GBs)",
    )
    parser.add_argument(
        "--budget-only", action="store_true", help="server: skip the unlimited comparison"
    )
    args = parser.parse_args()
    only = set(args.only or SECTIONS)
    if "calibrate" in only:
        calibrate(args.runs)
    if "server" in only:
        server(args)


if __name__ == "__main__":
    main()
