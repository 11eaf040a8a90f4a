"""The render budget: costs estimated from a chain and a header, and the checks on them."""

from __future__ import annotations

import io
import math
import re
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest
from PIL import Image

from media_store.grammar import parse
from media_store.rendering import (
    ChainTooLongError,
    CropOutOfBoundsError,
    OutputTooLargeError,
    RenderBudgetExceededError,
    UnsupportedTransformationError,
    budget,
    render,
)
from media_store.rendering.budget import RenderCost, RenderLimits, check, estimate
from media_store.rendering.geometry import plan
from media_store.rendering.pipeline import draft_scale, drafted_size
from media_store.rendering.spec import compile_spec

MB = 2**20
LIMITS = RenderLimits(max_steps=5, max_work=1_000_000_000, max_memory=100 * MB)


def cost(chain: str, size=(4000, 3000), fmt="JPEG", mode="RGB", **kwargs) -> RenderCost:
    return estimate(
        parse(chain), size, source_format=fmt, source_mode=mode, orientation=1, **kwargs
    )


# --- estimates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "size", "fmt", "decoded", "output", "name", "work_ms", "memory_mb"),
    [
        # Thumbnails of a big JPEG decode at 1/8 but still read every coefficient.
        (
            "w-300,f-webp",
            (4000, 3000),
            "JPEG",
            (1000, 750),
            (300, 225),
            "webp",
            (100, 200),
            (2, 12),
        ),
        ("w-100", (4000, 3000), "JPEG", (500, 375), (100, 75), "jpeg", (100, 150), (2, 6)),
        # The zoom preset: no draft, a full decode dominates memory.
        ("w-1600", (4000, 3000), "JPEG", (4000, 3000), (1600, 1200), "jpeg", (250, 400), (60, 90)),
        (
            "w-1920,f-auto",
            (4000, 3000),
            "JPEG",
            (4000, 3000),
            (1920, 1440),
            "avif",
            (600, 1000),
            (70, 100),
        ),
        # No draft for PNG; the encoder dominates.
        ("w-1000", (2000, 1500), "PNG", (2000, 1500), (1000, 750), "png", (150, 400), (15, 40)),
        # Upscaling: the output, not the source, is what costs.
        (
            "w-4000,h-4000,c-force",
            (64, 64),
            "JPEG",
            (64, 64),
            (4000, 4000),
            "jpeg",
            (300, 700),
            (120, 160),
        ),
        # Blur costs the same per pixel whatever its radius (Pillow's box blurs).
        (
            "w-2000,bl-1",
            (4000, 3000),
            "JPEG",
            (4000, 3000),
            (2000, 1500),
            "jpeg",
            (400, 600),
            (70, 100),
        ),
        (
            "w-2000,bl-100",
            (4000, 3000),
            "JPEG",
            (4000, 3000),
            (2000, 1500),
            "jpeg",
            (400, 600),
            (70, 100),
        ),
        # orig-true costs nothing: the stored bytes are sent.
        ("orig-true", (4000, 3000), "JPEG", (0, 0), (4000, 3000), "original", (0, 0), (0, 0)),
    ],
)
def test_estimate_table(chain, size, fmt, decoded, output, name, work_ms, memory_mb):
    result = cost(chain, size, fmt, accept="image/avif,image/webp" if "auto" in chain else None)

    assert (result.decoded, result.output, result.format) == (decoded, output, name)
    assert work_ms[0] * 1e6 <= result.work <= work_ms[1] * 1e6
    assert memory_mb[0] * MB <= result.memory <= memory_mb[1] * MB


def test_estimate_blur_cost_does_not_depend_on_radius():
    assert cost("w-2000,bl-1").work == cost("w-2000,bl-100").work
    assert cost("w-2000,bl-50").work > cost("w-2000").work


def test_estimate_counts_steps_of_the_chain():
    assert cost("w-100:w-90:w-80").steps == 3


def test_estimate_grows_with_each_stage():
    one = cost("w-3000,h-3000,c-force,bl-50")
    two = cost("w-3000,h-3000,c-force,bl-50:w-2999,h-2999,c-force,bl-50")

    # The second stage costs all but the decoding again.
    assert two.work > 1.5 * one.work


def test_estimate_unknown_accept_costs_the_dearest_format():
    unknown = cost("w-1500,f-auto")
    webp = cost("w-1500,f-auto", accept="image/webp")
    legacy = cost("w-1500,f-auto", accept="*/*")

    assert unknown.work >= webp.work > legacy.work
    assert legacy.format == "jpeg"


def test_estimate_unknown_format_costs_the_dearest_decoder():
    assert cost("w-500", fmt=None, mode=None).work > cost("w-500", fmt="JPEG").work


def test_estimate_alpha_source_costs_more_than_opaque():
    assert (
        cost("w-1000", (2000, 1500), "PNG", "RGBA").work
        > cost("w-1000", (2000, 1500), "PNG", "RGB").work
    )


def test_estimate_trim_is_assumed_to_keep_the_whole_image():
    trimmed = cost("t-true:w-0.5")

    assert trimmed.output == (2000, 1500)
    assert trimmed.work > cost("w-0.5").work


def test_estimate_orientation_costs_a_copy_only_when_the_turn_cannot_wait():
    # A resize turns only its output upright; fo-auto needs upright pixels first.
    def turned(chain: str, orientation: int | None) -> RenderCost:
        return estimate(parse(chain), (3000, 4000), source_format="JPEG", orientation=orientation)

    resized = [turned("w-1600", orientation) for orientation in (1, 6, None)]
    focused = [turned("w-1600,h-1600,fo-auto", orientation) for orientation in (1, 6)]

    assert resized[1].memory - resized[0].memory < 10 * MB
    assert resized[2].memory == resized[1].memory
    assert focused[1].memory - focused[0].memory >= 10 * MB


def test_estimate_16_bit_greyscale_counts_its_conversion():
    eight = cost("w-500", (2000, 1500), "PNG", "L")
    sixteen = cost("w-500", (2000, 1500), "PNG", "I;16")

    assert sixteen.memory > eight.memory


@pytest.mark.parametrize(
    ("chain", "error"),
    [
        ("w-5000", OutputTooLargeError),
        ("w-300,h-300,cm-extract,x-5000", CropOutOfBoundsError),
        ("n-thumbnail", UnsupportedTransformationError),
    ],
)
def test_estimate_raises_what_planning_raises(chain, error):
    with pytest.raises(error):
        cost(chain)


# --- draft, as Pillow does it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "chain"),
    [
        ((4000, 3000), "w-100"),
        ((4000, 3000), "w-300"),
        ((4000, 3000), "w-700"),
        ((4000, 3000), "w-1000"),
        ((4000, 3000), "w-1600"),
        ((1001, 999), "w-120,h-120"),
        ((3000, 4000), "h-333"),
        ((640, 480), "w-2000"),
    ],
)
def test_drafted_size_is_what_pillow_decodes(size, chain):
    buffer = io.BytesIO()
    Image.new("RGB", size).save(buffer, "JPEG")
    geometry = plan(size, compile_spec(parse(chain)).stages[0].resizes, max_side=4096)
    image = Image.open(buffer)
    wanted = tuple(
        max(1, math.ceil(side * scale * 2))
        for side, scale in zip(size, geometry.scale, strict=True)
    )

    image.draft(image.mode, wanted)

    assert drafted_size(size, draft_scale(size, geometry)) == image.size


# --- checks ----------------------------------------------------------------------------------


def test_check_passes_a_cost_within_limits():
    check(cost("w-1600"), LIMITS)


@pytest.mark.parametrize(
    ("chain", "error", "option", "limit", "words"),
    [
        ("w-1:w-2:w-3:w-4:w-5:w-6", ChainTooLongError, "MAX_CHAIN_STEPS", 5, ("6 steps", "Fold")),
        (
            "w-4000,h-4000,c-force,bl-100",
            RenderBudgetExceededError,
            "MAX_RENDER_WORK",
            LIMITS.max_work,
            ("largest part is", "smaller output"),
        ),
        (
            "w-4000,h-4000,c-force",
            RenderBudgetExceededError,
            "MAX_RENDER_MEMORY",
            LIMITS.max_memory,
            ("MB", "4000x4000 px", "smaller output"),
        ),
    ],
)
def test_check_over_a_limit_raises_naming_option_limit_and_value(
    chain, error, option, limit, words
):
    estimated = cost(chain)

    with pytest.raises(error) as raised:
        check(estimated, LIMITS)

    assert isinstance(raised.value, ValueError)
    assert (raised.value.option, raised.value.limit) == (option, limit)
    assert raised.value.value > limit
    for word in (option, *words):
        assert word in str(raised.value)


def test_budget_module_imports_no_django():
    import subprocess
    import sys

    code = (
        "import sys, media_store.rendering.budget, media_store.rendering.modes\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'django')\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]

    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# --- calibration: the estimate against real renders ------------------------------------------


def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _measure(path: str, chain: str) -> tuple[float, int]:
    """In a fresh process: (CPU seconds, peak bytes above the RSS before) of one render."""
    warm = io.BytesIO()
    Image.new("RGB", (16, 16)).save(warm, "JPEG")
    render(warm, parse("w-8"))
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM
    started = time.process_time()
    render(path, parse(chain))
    return time.process_time() - started, (_status_kib("VmHWM") - before) * 1024


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_estimate_bounds_the_memory_of_real_renders(tmp_path):
    # Given a noisy 12 MP JPEG (noise defeats compression and flat-image shortcuts)
    noise = Image.effect_noise((1000, 750), 60).convert("RGB").resize((4000, 3000))
    path = tmp_path / "photo.jpg"
    noise.save(path, "JPEG", quality=90)
    chains = ["w-1600", "w-2000,bl-20", "t-true:w-1000", "w-600,h-600,c-force,f-png"]
    context = get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        for chain in chains:
            # When rendered alone in a fresh process
            seconds, peak = pool.submit(_measure, str(path), chain).result()
            estimated = cost(chain)

            # Then the estimate is an upper bound for memory, and not a gross one;
            # time is loosely bounded (machines and load vary; the bench measures it)
            assert peak <= estimated.memory, (chain, peak, estimated.memory)
            assert peak >= 0.5 * estimated.memory, (chain, peak, estimated.memory)
            assert seconds * 1e9 <= 3 * estimated.work, (chain, seconds, estimated.work)


def test_weights_cover_every_output_format():
    from media_store.rendering.formats import FORMATS

    assert set(FORMATS) <= set(budget.ENCODE) == set(budget.ENCODE_MEMORY)
