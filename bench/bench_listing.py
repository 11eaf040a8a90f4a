"""A product listing through GraphQL against a hand-written ORM + JSON view doing the same work.

Run from the project root: ``.venv/bin/python bench/bench_listing.py`` (``--help`` for
options). Everything runs in this process on a temporary SQLite database and MEDIA_ROOT:
50 products × 4 images (rows only: building URLs never opens a file), 2 variants each
with an image, one category.

Two listings, each measured three ways, all through ``django.test.Client`` and the
whole middleware stack: GraphQL (the JSON POST of ``QUERY`` at ``/graphql/``) executed
from query plans (``query_plans``) and by graphql-core's executor (the schema's
execution context switched per call), and a hand-written view, mounted only by this
script, returning the same JSON for a GET. The plans' response must be byte-identical
to graphql-core's and the same JSON as the view's (asserted), so the comparison is like
for like. ``QUERY`` is the storefront listing (50 products, goal plans ≤ 1.5× the view);
``SMALL_QUERY`` 20 products with one URL each (goal ≤ 1.3×). Calls alternate after one
warm-up each; best and median ms per request, wall and CPU time of this thread, the
ratios and each side's SQL query count, then the plan cache's hit rate. For reference,
the time graphql-core alone takes to execute ``QUERY`` over the finished response
(default resolvers): the executor's own cost for this shape.
``--profile N`` prints where N GraphQL requests spend their time (cProfile).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Run as a script, so the project root is not on sys.path yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import load_note, others_busy, start_django

PRODUCTS = 50
IMAGES_PER_PRODUCT = 4
VARIANTS_PER_PRODUCT = 2
RATIO_GOAL = 1.5  # GraphQL / hand-written, at most
SMALL_RATIO_GOAL = 1.3  # the small listing's

QUERY = """
{
  products(first: 50) {
    totalCount
    edges { node {
      id name slug
      category { name }
      thumbnail { url(transform: {width: 200}) }
      images {
        id altText width height
        small: url(transform: {width: 100, format: WEBP})
        medium: url(transform: {width: 400})
        large: url(transform: {width: 1200, height: 800, crop: AT_MAX})
        srcset(widths: [320, 640])
        placeholder { blurhash dominantColor }
        createdBy { username }
      }
      variants { sku price image { id url(transform: {width: 60}) } }
    } }
  }
}
"""

# A small listing: 20 products, one URL each.
SMALL_QUERY = """
{
  products(first: 20) {
    edges { node { id name slug thumbnail { url(transform: {width: 400}) } } }
  }
}
"""
SMALL_THUMBNAIL = "w-400"

# The same sizes as QUERY, in the grammar; the hand-written view parses them once.
SIZES = {
    "small": "w-100,f-webp",
    "medium": "w-400",
    "large": "w-1200,h-800,c-at_max",
}
THUMBNAIL = "w-200"
VARIANT_IMAGE = "w-60"
SRCSET_WIDTHS = (320, 640)

LISTING_PATH = "/bench/listing/"
SMALL_PATH = "/bench/small/"

# Filled by setup_django(): the bench-only urlconf is this module.
urlpatterns: list[Any] = []


# --- setup -----------------------------------------------------------------------------


def setup_django(tmp: Path) -> None:
    """Configure config.settings on temporary folders, start Django, migrate."""
    start_django(tmp, migrate=True)
    from django.urls import path

    from config.urls import urlpatterns as project_urls

    urlpatterns[:] = [
        *project_urls,
        path(LISTING_PATH.strip("/") + "/", listing_view),
        path(SMALL_PATH.strip("/") + "/", small_view),
    ]


def make_catalog() -> None:
    """50 products × 4 images, 2 variants each with an image, one category; rows only."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from catalog.models import Category, Image, Product, ProductImage, ProductVariant

    owner = get_user_model().objects.create_user("photographer")
    category = Category.objects.create(name="Lamps", slug="lamps")
    products = Product.objects.bulk_create(
        Product(name=f"Product {i:03d}", slug=f"product-{i}", category=category)
        for i in range(PRODUCTS)
    )
    images, links, variants = [], [], []
    for product in products:
        made = []
        for position in range(IMAGES_PER_PRODUCT):
            image = Image(
                name=f"{product.slug}-{position}",
                alt_text=f"{product.name}, view {position + 1}",
                width=1600,
                height=1200,
                size=245_000,
                mime_type="image/jpeg",
                blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                dominant_color="#3366cc",
                created_by=owner,
            )
            image.image = image.storage_name("photo.jpg", variant="")
            image.image_xs = image.storage_name("photo.jpg", variant="xs")
            made.append(image)
            links.append(ProductImage(product=product, image=image, sort_order=position))
        images += made
        variants += [
            ProductVariant(
                product=product,
                name=f"Size {size}",
                sku=f"{product.slug}-{size}",
                price=Decimal("19.90") + size,
                image=made[size],
            )
            for size in range(VARIANTS_PER_PRODUCT)
        ]
    Image.objects.bulk_create(images)
    ProductImage.objects.bulk_create(links)
    ProductVariant.objects.bulk_create(variants)


# --- the hand-written view ----------------------------------------------------------------


def _global_id(type_name: str, pk: Any) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def listing_view(request: Any) -> Any:
    """What a hand-written listing endpoint does: one queryset, plain loops, JsonResponse."""
    from django.db.models import Prefetch
    from django.http import JsonResponse

    from catalog.models import Image, Product, ProductVariant
    from media_store.grammar import parse

    # Parsed once per request, outside the loops, as one would write it by hand.
    sizes = {alias: parse(spec) for alias, spec in SIZES.items()}
    thumbnail = parse(THUMBNAIL)
    variant_url = parse(VARIANT_IMAGE)
    srcset = [(width, parse(f"w-{width}")) for width in SRCSET_WIDTHS]
    storage = Image._meta.get_field("image").storage
    build = storage.transformed_url

    images = (
        Image.objects.filter(is_private=False)
        .select_related("created_by")
        .order_by("product_links__sort_order", "product_links__pk")
    )
    products = Product.objects.select_related("category").prefetch_related(
        Prefetch("images", queryset=images, to_attr="ordered_images"),
        Prefetch("variants", queryset=ProductVariant.objects.select_related("image")),
    )[:50]

    def image_json(image: Image) -> dict[str, Any]:
        name = image.image.name
        # Widths beyond the image are left out; a narrow image gets its own width.
        usable = [(w, t) for w, t in srcset if w <= image.width] or [
            (image.width, parse(f"w-{image.width}"))
        ]
        return {
            "id": _global_id("Image", image.pk),
            "altText": image.alt_text,
            "width": image.width,
            "height": image.height,
            **{alias: build(name, chain) for alias, chain in sizes.items()},
            "srcset": ", ".join(f"{build(name, chain)} {w}w" for w, chain in usable),
            "placeholder": (
                {"blurhash": image.blurhash, "dominantColor": image.dominant_color}
                if image.blurhash
                else None
            ),
            "createdBy": image.created_by and {"username": image.created_by.username},
        }

    def variant_json(variant: ProductVariant) -> dict[str, Any]:
        image = variant.image
        if image is not None and image.is_private:
            image = None
        return {
            "sku": variant.sku,
            "price": str(variant.price),
            "image": image
            and {"id": _global_id("Image", image.pk), "url": build(image.image.name, variant_url)},
        }

    edges = []
    for product in products:
        ordered = product.ordered_images
        edges.append(
            {
                "node": {
                    "id": _global_id("Product", product.pk),
                    "name": product.name,
                    "slug": product.slug,
                    "category": product.category and {"name": product.category.name},
                    "thumbnail": (
                        {"url": build(ordered[0].image.name, thumbnail)} if ordered else None
                    ),
                    "images": [image_json(image) for image in ordered],
                    "variants": [variant_json(v) for v in product.variants.all()],
                }
            }
        )
    total = Product.objects.count()
    return JsonResponse({"data": {"products": {"totalCount": total, "edges": edges}}})


def small_view(request: Any) -> Any:
    """The small listing by hand: 20 products with their first image's URL."""
    from django.db.models import Prefetch
    from django.http import JsonResponse

    from catalog.models import Image, Product
    from media_store.grammar import parse

    thumbnail = parse(SMALL_THUMBNAIL)
    build = Image._meta.get_field("image").storage.transformed_url
    images = Image.objects.filter(is_private=False).order_by(
        "product_links__sort_order", "product_links__pk"
    )
    products = Product.objects.prefetch_related(
        Prefetch("images", queryset=images, to_attr="ordered_images")
    )[:20]
    edges = []
    for product in products:
        ordered = product.ordered_images
        edges.append(
            {
                "node": {
                    "id": _global_id("Product", product.pk),
                    "name": product.name,
                    "slug": product.slug,
                    "thumbnail": (
                        {"url": build(ordered[0].image.name, thumbnail)} if ordered else None
                    ),
                }
            }
        )
    return JsonResponse({"data": {"products": {"edges": edges}}})


# --- measuring ----------------------------------------------------------------------------


def urls_in(value: Any) -> Iterator[str]:
    """Every URL in a decoded response, srcset entries one by one."""
    if isinstance(value, dict):
        for item in value.values():
            yield from urls_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls_in(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        for entry in value.split(", "):
            yield entry.rsplit(" ", 1)[0] if entry.endswith("w") else entry


def timed_runs(
    calls: dict[str, Callable[[], Any]], runs: int, budget_s: float
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per call for each callable, alternating, after one warm-up each.

    Alternating spreads any background load evenly over the contenders; the CPU time
    of this thread is less disturbed by other processes than the wall time. Stops
    after ``runs`` rounds or once ``budget_s`` has passed (at least 3 rounds).
    """
    for call in calls.values():
        call()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    deadline = time.perf_counter() + budget_s
    for done in range(runs):
        for name, call in calls.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            call()
            times[name].append((time.perf_counter() - start, time.thread_time() - start_cpu))
        if done >= 2 and time.perf_counter() > deadline:
            break
    return times


def graphql_core_floor(handwritten_body: dict[str, Any], runs: int) -> float:
    """Best ms for graphql-core alone to execute QUERY over the finished dicts.

    Default resolvers read the hand-written view's output, so this is the executor's
    own cost for this response shape, with no ORM, URL building or strawberry.
    """
    from graphql import build_schema, execute, parse
    from strawberry.printer import print_schema

    from config.schema import schema

    root = json.loads(json.dumps(handwritten_body["data"]))
    for edge in root["products"]["edges"]:
        for image in edge["node"]["images"]:
            # Aliases are resolved by field name: every size reads `url`.
            image["url"] = image["small"]
    executable = build_schema(print_schema(schema))
    document = parse(QUERY)
    result = execute(executable, document, root_value=root)
    assert not result.errors, result.errors
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        execute(executable, document, root_value=root)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def profile(call: Callable[[], Any], count: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"\ncProfile of {count} GraphQL requests, by own time (tottime):")
    stats.sort_stats("tottime").print_stats(top)
    print("... by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="rounds (%(default)s)")
    parser.add_argument("--budget", type=float, default=40, help="seconds at most (%(default)s)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N GraphQL requests"
    )
    parser.add_argument("--top", type=int, default=30, help="profile rows (%(default)s)")
    args = parser.parse_args()

    print(
        f"bench_listing: Python {platform.python_version()}, {platform.machine()},"
        f" {os.cpu_count()} CPUs, {load_note()}; {others_busy()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-listing-"))
    try:
        setup_django(tmp)
        run(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    import django
    import strawberry
    import strawberry_django

    from query_plans import clear_plans, plan_cache_info

    make_catalog()
    clear_plans()
    print(
        f"Django {django.get_version()}, strawberry {strawberry_version(strawberry)}, "
        f"strawberry-django {strawberry_version(strawberry_django)}; "
        f"{PRODUCTS} products × {IMAGES_PER_PRODUCT} images, {VARIANTS_PER_PRODUCT} variants each"
    )
    listing = compare(args, "Listing", QUERY, LISTING_PATH, RATIO_GOAL, check_listing)
    compare(args, "Small listing", SMALL_QUERY, SMALL_PATH, SMALL_RATIO_GOAL, None)
    info = plan_cache_info()
    print(
        f"\nPlan cache: {info.hits} hits, {info.misses} misses ({info.hit_rate:.1%} hit rate), "
        f"{info.size} plans, {info.unsupported} unsupported"
    )
    floor = graphql_core_floor(listing, 10)
    print(
        f"For reference, graphql-core alone executing QUERY over the finished dicts: "
        f"{floor:.2f} ms best"
    )
    print(f"At the end: {load_note()}; {others_busy()}")


def check_listing(decoded: dict[str, Any]) -> str:
    """The listing's URLs: the same on both sides, as many as the query asks for."""
    ours, theirs = (set(urls_in(decoded[name])) for name in ("plans", "hand-written"))
    assert ours == theirs, (sorted(ours - theirs)[:3], sorted(theirs - ours)[:3])
    # Per product: the thumbnail, every size of every image, each variant's image.
    per_product = 1 + IMAGES_PER_PRODUCT * (len(SIZES) + len(SRCSET_WIDTHS))
    assert len(ours) == PRODUCTS * (per_product + VARIANTS_PER_PRODUCT), len(ours)
    return f"{len(ours)} distinct URLs"


def compare(
    args: argparse.Namespace,
    title: str,
    query: str,
    path: str,
    goal: float,
    check: Callable[[dict[str, Any]], str] | None,
) -> dict[str, Any]:
    """Plans, graphql-core's executor and the hand-written view, alternating."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from config.schema import schema
    from query_plans import PlanExecutionContext, compat

    client = Client()
    body = json.dumps({"query": query})

    def graphql(executor: type) -> Callable[[], Any]:
        def call() -> Any:
            schema.execution_context_class = executor
            return client.post("/graphql/", data=body, content_type="application/json")

        return call

    calls = {
        "plans": graphql(PlanExecutionContext),
        "graphql-core": graphql(compat.BaseExecutionContext),
        "hand-written": lambda: client.get(path),
    }
    with override_settings(ROOT_URLCONF=__name__):
        decoded, raw, queries = {}, {}, {}
        for name, call in calls.items():
            with CaptureQueriesContext(connection) as captured:
                response = call()
            assert response.status_code == 200, response.content[:500]
            raw[name], decoded[name], queries[name] = (
                response.content,
                response.json(),
                len(captured),
            )
        assert "errors" not in decoded["plans"], decoded["plans"]["errors"]
        assert raw["plans"] == raw["graphql-core"], "plans and graphql-core differ"
        assert decoded["plans"] == decoded["hand-written"], "responses differ"
        note = check(decoded) if check else "same JSON"
        print(
            f"\n== {title}: {note} ({len(raw['plans']):,} bytes); plans' JSON byte-identical "
            "to graphql-core's, and the same JSON as the hand-written view"
        )
        times = timed_runs(calls, args.runs, args.budget)
        if args.profile:
            profile(calls["plans"], args.profile, args.top)
    schema.execution_context_class = PlanExecutionContext
    rounds = len(times["plans"])
    print(f"{rounds} alternating rounds after one warm-up each ({load_note()})")
    print(
        f"{'':<14} {'best ms':>8} {'median ms':>10} {'CPU best':>9} {'CPU median':>11} {'SQL':>4}"
    )
    for name, samples in times.items():
        wall, cpu = ([sample[i] * 1e3 for sample in samples] for i in (0, 1))
        print(
            f"{name:<14} {min(wall):>8.2f} {statistics.median(wall):>10.2f}"
            f" {min(cpu):>9.2f} {statistics.median(cpu):>11.2f} {queries[name]:>4}"
        )
    for contender in ("plans", "graphql-core"):
        for index, what in ((0, "wall"), (1, "CPU")):
            ours, theirs = ([s[index] for s in times[name]] for name in (contender, "hand-written"))
            best = min(ours) / min(theirs)
            median = statistics.median(ours) / statistics.median(theirs)
            verdict = ""
            if contender == "plans" and what == "wall":
                verdict = "pass" if best <= goal and median <= goal else "fail"
                verdict = f"  (goal ≤ {goal}× best and median: {verdict})"
            print(
                f"{contender} / hand-written ({what}): {best:.2f}× best, "
                f"{median:.2f}× median{verdict}"
            )
    return decoded["hand-written"]


def strawberry_version(module: Any) -> str:
    from importlib.metadata import version

    name = {"strawberry": "strawberry-graphql", "strawberry_django": "strawberry-graphql-django"}
    return version(name[module.__name__])


if __name__ == "__main__":
    main()
