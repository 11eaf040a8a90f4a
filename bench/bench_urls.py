"""Microseconds per URL: media_store's UrlBuilder against the imagekitio SDK's build_url.

Run from the project root: ``.venv/bin/python bench/bench_urls.py [--number N] [--repeat R]``.
Each figure is the best of R runs of N calls (the minimum is the least noisy estimate
of the cost; the rest is scheduler interference). Needs no Django settings.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path
from typing import Any

# Run as a script, so the project root is not on sys.path yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imagekitio import ImageKit

from media_store.grammar import parse
from media_store.urlbuilder import UrlBuilder

ENDPOINT = "https://ik.imagekit.io/demo"
PRIVATE_KEY = "private_key_test"
SRC = "/img/a.jpg"

Case = tuple[str, dict[str, Any]]
CASES: list[Case] = [
    ("unsigned, path, w-300,h-200", {"spec": "w-300,h-200"}),
    ("unsigned, path, w-300,h-200,f-webp", {"spec": "w-300,h-200,f-webp"}),
    ("unsigned, query, w-300,h-200", {"spec": "w-300,h-200", "position": "query"}),
    ("signed, path, w-300,h-200", {"spec": "w-300,h-200", "signed": True}),
    (
        "signed, query, expires_in=600",
        {"spec": "w-300,h-200", "position": "query", "expires_in": 600},
    ),
]


def statements(options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Our call and the SDK's as timeit statements (no wrapper call to skew the figures)."""
    options = dict(options)
    transformation = parse(options.pop("spec"))
    position = options.pop("position", "path")
    extra = "".join(f", {name}={value!r}" for name, value in options.items())
    namespace = {
        "builder": UrlBuilder(ENDPOINT, PRIVATE_KEY),
        "sdk": ImageKit(private_key=PRIVATE_KEY),
        "t": transformation,
        "steps": transformation.to_sdk(),
    }
    ours = f"builder.build({SRC!r}, t, position={position!r}{extra})"
    theirs = (
        f"sdk.helper.build_url(src={SRC!r}, url_endpoint={ENDPOINT!r}, transformation=steps,"
        f" transformation_position={position!r}{extra})"
    )
    # Same URL, or the comparison means nothing.
    assert eval(ours, namespace) == eval(theirs, namespace)
    return ours, theirs, namespace


def best_us(statement: str, namespace: dict[str, Any], number: int, repeat: int) -> float:
    runs = timeit.repeat(statement, number=number, repeat=repeat, globals=namespace)
    return min(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=50_000, help="calls per run (%(default)s)")
    parser.add_argument("--repeat", type=int, default=7, help="runs, best kept (%(default)s)")
    args = parser.parse_args()

    print(f"src={SRC!r} endpoint={ENDPOINT!r}; best of {args.repeat} runs of {args.number} calls")
    print(f"{'case':<36} {'ours µs':>8} {'SDK µs':>8} {'speed-up':>9}")
    for name, options in CASES:
        ours, theirs, namespace = statements(options)
        ours_us = best_us(ours, namespace, args.number, args.repeat)
        # The SDK is ~10x slower: fewer calls keep its runs to a similar wall time.
        sdk_us = best_us(theirs, namespace, max(args.number // 10, 1), args.repeat)
        print(f"{name:<36} {ours_us:>8.2f} {sdk_us:>8.2f} {sdk_us / ours_us:>8.1f}x")


if __name__ == "__main__":
    main()
