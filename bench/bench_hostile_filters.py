"""How long one anonymous request with the worst filters the API accepts can hold a worker.

Run from the project root: ``.venv/bin/python bench/bench_hostile_filters.py``
(``--database-url postgres://...`` for PostgreSQL; default a temporary SQLite file).
It loads a catalog of ``--products`` products (names 26–80 characters, a few made of
one repeated letter, as a backtracking regex would need), then sends each hostile
filter below as an anonymous GraphQL POST through the whole middleware stack, several
times, and prints the slowest time of each and the worst over all. Every request
must be answered (data or a coded refusal); a 5xx fails the run. Goal: under 0.5 s.

Regular-expression lookups no longer exist, so the classic `^(a+)+$` is refused at
validation; the cases here are what is left: long LIKE patterns, wide OR/AND trees and
IN lists at the limits of GRAPHQL's MAX_LIST_LENGTH, MAX_INPUT_DEPTH, MAX_INPUT_VALUES.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import load_note, others_busy, start_django

GOAL_SECONDS = 0.5
QUERY = """query($f: ProductFilter) {
  products(filters: $f, first: 100, order: {name: ASC}) { totalCount edges { node { name } } }
}"""


def cases() -> dict[str, dict]:
    """Filter variables, each as large as the limits allow."""
    long_names = [f"{'a' * 26}{i:06d}{'b' * 40}" for i in range(100)]
    return {
        "regex ^(a+)+$ (refused)": {"name": {"regex": "^(a+)+$"}},
        "iContains 10,000 × 'a'": {"name": {"iContains": "a" * 10_000}},
        "iContains 10,000 wildcard chars": {"name": {"iContains": "%_" * 5_000}},
        "endsWith 10,000 × 4-byte chars": {"name": {"endsWith": "𝄞" * 10_000}},
        "iContains 1 MB (refused)": {"name": {"iContains": "a" * 1_000_000}},
        "inList 100 long names": {"name": {"inList": long_names}},
        "OR chain of 4 × inList 100": _or_chain(4, {"name": {"inList": long_names}}),
        "OR chain of 4 × iContains 9,999": _or_chain(4, {"name": {"iContains": "a" * 9_999}}),
        "AND/OR/NOT nested to the limit": _nested(4),
        "AND/OR/NOT nested 9 deep (refused)": _nested(9),
        "hasImages + sku + category": {
            "hasImages": False,
            "sku": "x" * 64,
            "name": {"iStartsWith": "a" * 30},
        },
    }


def _or_chain(length: int, branch: dict) -> dict:
    value = dict(branch)
    for _ in range(length - 1):
        value = {**branch, "OR": value}
    return value


def _nested(depth: int) -> dict:
    value: dict = {"name": {"iContains": "aaaa"}}
    for level in range(depth - 1):
        key = ("AND", "OR", "NOT")[level % 3]
        value = {key: value, "name": {"iEndsWith": "b" * 30}}
    return value


def load_catalog(products: int) -> None:
    from catalog.models import Product

    Product.objects.bulk_create(
        Product(
            name=("a" * 26) if i % 50 == 0 else f"{'Product ' * (3 + i % 7)}{i:05d}"[:80],
            slug=f"p-{i}",
        )
        for i in range(products)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5000, help="(default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="per case (default: %(default)s)")
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-filters-"))
    try:
        env = {"DATABASE_URL": args.database_url} if args.database_url else {}
        start_django(tmp, migrate=True, LOG_LEVEL="ERROR", **env)
        from django.db import connection
        from django.test import Client

        if args.database_url:
            from catalog.models import Product

            Product.objects.all().delete()
        load_catalog(args.products)
        print(f"{connection.vendor}, {args.products} products; {load_note()}; {others_busy()}")
        client = Client()
        # Warm up: the first request builds the schema's caches.
        client.post("/graphql/", json.dumps({"query": QUERY}), content_type="application/json")
        worst = 0.0
        failed = False
        for name, variables in cases().items():
            body = json.dumps({"query": QUERY, "variables": {"f": variables}})
            times, outcome = [], ""
            for _ in range(args.rounds):
                started = time.perf_counter()
                response = client.post("/graphql/", body, content_type="application/json")
                times.append(time.perf_counter() - started)
            if response.status_code >= 500:
                failed = True
            payload = response.json()
            if payload.get("errors"):
                outcome = "refused: " + payload["errors"][0]["extensions"].get("code", "?")
            else:
                outcome = f"{payload['data']['products']['totalCount']} matches"
            worst = max(worst, max(times))
            print(
                f"  {name:32} {len(body) / 1024:8.0f} KB  slowest {max(times) * 1000:7.1f} ms"
                f"  ({response.status_code}, {outcome})"
            )
        verdict = "met" if worst < GOAL_SECONDS and not failed else "NOT met"
        print(f"worst: {worst * 1000:.1f} ms (goal < {GOAL_SECONDS * 1000:.0f} ms): {verdict}")
        return 0 if verdict == "met" else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
