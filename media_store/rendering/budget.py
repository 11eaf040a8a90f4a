"""What a render will cost, known from the chain and the source's header alone.

:func:`estimate` walks the pipeline without pixels, as ``pipeline`` plans it
(``plan_stages``, ``draft_scale``), and adds up two things:

* ``work``, in units of about one nanosecond of one core on the machine the
  weights below were measured on (2-core x86-64, Pillow 13, libjpeg-turbo,
  libwebp, libaom). Each operation costs its per-pixel weight times the pixels
  it really touches: the source's pixels for decoding, the resample's input and
  output, effects, the encoder. JPEG draft (where the pipeline drafts) shrinks
  the decoded image, not the decoding time: libjpeg-turbo still reads every
  coefficient, and its scaled IDCTs are slower than the full one (measured:
  1/2 and 1/4 take longer than a full decode, 1/8 about 0.75 of it).
* ``memory``, in bytes: the most image data alive at one time, the decoded
  source included. The pipeline frees each image as soon as the next one
  exists, so that is one operation's input, temporaries and output.

Trim makes later sizes unknown; it is assumed to keep the whole image, its
most expensive outcome. Where the output format is not known yet (``f-auto``
without an Accept header, a source of unknown format) the dearest candidate
is costed, so a URL the API checked is never refused by the CDN for it.

``bench/bench_render_budget.py --only calibrate`` renders a table of chains
and prints measured time and peak memory next to these estimates; the
weights were set so that the estimate is above what was measured. No Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from media_store.rendering import formats
from media_store.rendering.colour import Colour, is_opaque
from media_store.rendering.effects import (
    Blur,
    Border,
    Effect,
    Flatten,
    Grayscale,
    RoundCorners,
    Sharpen,
    Transpose,
)
from media_store.rendering.errors import ChainTooLongError, RenderBudgetExceededError
from media_store.rendering.geometry import Box, Focus, Geometry, Size
from media_store.rendering.pipeline import (
    DRAFT_FORMATS,
    RESIZE_GAP,
    _check_format_limit,
    draft_scale,
    drafted_size,
    plan_stages,
    turns_after_resample,
)
from media_store.rendering.spec import RenderSpec, compile_spec

if TYPE_CHECKING:
    from media_store.grammar import Transformation

# Pillow keeps RGB, RGBA, LA and I in 32-bit pixels (L and P in 8); after the
# first step every image is one of L, LA, RGB, RGBA, costed at 4 bytes.
PIXEL_BYTES = 4
# Source modes that are stored with fewer bytes per pixel than that.
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16B", "I;16L", "I;16N"})
# Every step allocates a little besides its images: Python objects, decoder and
# encoder state, the response bytes of a small output.
BASE_MEMORY = 2 * 2**20

# --- weights: work units per pixel -------------------------------------------------
# Decoding, per source pixel (drafted or not); with alpha where it differs.
# Unknown format: the dearest.
DECODE = {"JPEG": 10, "MPO": 10, "PNG": 35, "WEBP": 40, "AVIF": 50, "GIF": 10}
DECODE_ALPHA = {"PNG": 42, "WEBP": 80, "AVIF": 60}
DECODE_UNKNOWN = max(DECODE_ALPHA.values())
# Extra bytes per decoded pixel some decoders hold while decoding (WebP and AVIF
# hand Pillow a full RGBA buffer that is then copied into the image).
DECODE_BUFFER = {"WEBP": 13, "AVIF": 8}
DECODE_BUFFER_UNKNOWN = max(DECODE_BUFFER.values())
# Lanczos (support 3): per kernel tap-row, i.e. per input pixel of the horizontal
# pass (or output pixel when enlarging) and the same for the vertical pass.
LANCZOS = 10
REDUCE = 1.5  # Image.reduce(), per pixel read
PREMULTIPLY = 7  # RGBA <-> RGBa around a resample or filter, per pixel
COPY = 3  # crop, transpose, paste, mode conversion, per pixel
BLUR = 45  # GaussianBlur: three box blurs, whatever the radius (measured)
SHARPEN = 65  # UnsharpMask: a Gaussian blur plus the mask
TRIM = 16  # difference, per-band maximum, threshold, bounding box
FOCUS = 5  # fo-auto's bilinear analysis copy, per source pixel in the window
ROUND_MASK = 3  # r-: the mask is drawn at 4x4 the size, then reduced
COMPOSITE = 8  # bg and alpha flattening: new canvas, alpha_composite, convert
# Encoding, per output pixel. PNG and GIF depend most on content: these are
# for photographs, their worst case (flat artwork encodes several times faster).
ENCODE = {"jpeg": 14, "png": 150, "webp": 170, "avif": 200, "gif": 850}
ENCODE_ALPHA = {"png": 260, "webp": 210, "avif": 240}
# Bytes per output pixel an encoder holds besides the image: its own copy (libwebp,
# libavif), the coefficients of an optimised JPEG, the growing output buffer.
ENCODE_MEMORY = {"jpeg": 4, "png": 4, "webp": 14, "avif": 29, "gif": 26}
ENCODE_MEMORY_ALPHA = {"webp": 30, "avif": 32}


@dataclass(frozen=True, slots=True)
class RenderCost:
    """What one render is expected to cost (see the module docstring for units).

    ``output`` is the final size (trims assumed to keep everything) and
    ``format`` the output format costed; ``heaviest`` names the operation
    with the most work, for messages.
    """

    steps: int
    work: int
    memory: int
    decoded: Size
    output: Size
    format: str
    heaviest: str = ""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """The most a render may cost: steps in the chain, work units, bytes."""

    max_steps: int
    max_work: int
    max_memory: int


@dataclass
class _Tally:
    """Adds up work, and tracks the bytes of images alive through a render."""

    held: int = 0  # bytes of the current image
    peak: int = 0
    work: float = 0.0
    parts: list[tuple[float, str]] = field(default_factory=list)

    def step(self, label: str, work: float, *, temporary: int = 0, output: int) -> None:
        """An operation that replaces the current image by an ``output``-byte one."""
        self.work += work
        self.parts.append((work, label))
        self.peak = max(self.peak, self.held + temporary + output)
        self.held = output

    def peek(self, label: str, work: float, *, temporary: int) -> None:
        """An operation that reads the current image and keeps it."""
        self.work += work
        self.parts.append((work, label))
        self.peak = max(self.peak, self.held + temporary)


def _pixels(size: Size) -> int:
    return size[0] * size[1]


def _text(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def estimate(
    transformation: Transformation,
    source_size: Size,
    *,
    source_format: str | None = None,
    source_mode: str | None = None,
    orientation: int | None = None,
    accept: str | None = None,
    max_output_side: int = 4096,
) -> RenderCost:
    """The cost of rendering ``transformation`` (presets expanded) on a source.

    ``source_size`` is upright (EXIF orientation applied, as the catalog stores
    it); ``source_format`` is Pillow's name ("JPEG", "PNG"...) and
    ``source_mode`` its mode, both from the header. Unknown values (None) are
    costed at their worst, except the mode: any format, an orientation to
    apply, any Accept header, but the format's usual mode (RGB for JPEG, RGBA
    for the others). Rarer modes cost more (CMYK and 16-bit greyscale convert
    at full size), so only a caller that read the header gets an exact
    answer. Raises what planning raises: UnsupportedTransformationError,
    CropOutOfBoundsError, OutputTooLargeError.
    """
    spec = compile_spec(transformation)
    if source_mode is None:
        source_mode = "RGB" if source_format in DRAFT_FORMATS else "RGBA"
    steps = len(transformation.steps)
    if spec.original:
        # orig-true: the stored bytes, no decoding.
        return RenderCost(steps, 0, 0, (0, 0), source_size, "original", "")
    planned = plan_stages(source_size, spec.stages, max_output_side, through_trim=True)
    final = planned[-1].size if planned else source_size
    if len(planned) == len(spec.stages) and not any(s.trim for s in spec.stages):
        _check_format_limit(final, spec.format, accept or "", source_format)

    decoded = source_size
    if source_format in DRAFT_FORMATS and planned and spec.stages[0].trim is None:
        decoded = drafted_size(source_size, draft_scale(source_size, planned[0].geometry))

    # An EXIF orientation (unknown: assume one) turns the source, or only the first
    # resample's output when the pipeline can wait (pipeline.turns_after_resample).
    turns = orientation is None or orientation in range(2, 9)
    late_turn = (
        turns and bool(planned) and turns_after_resample(planned[0].stage, planned[0].geometry)
    )
    tally = _Tally()
    alpha = _decode(
        tally, source_size, decoded, source_format, source_mode, turns and not late_turn
    )
    size = decoded
    for index, stage in enumerate(planned):
        if stage.stage.trim is not None:
            # A difference image and a blank one are alive together, then the crop.
            image = PIXEL_BYTES * _pixels(size)
            tally.peek(f"trimming {_text(size)} px", TRIM * _pixels(size), temporary=image * 9 // 4)
            tally.step("cropping the trimmed image", COPY * _pixels(size), output=image)
        # The first stage is planned on the upright source; it may be decoded smaller.
        geometry = stage.geometry.rescaled(size) if index == 0 else stage.geometry
        if any(resize.focus is Focus.AUTO for resize in stage.stage.resizes):
            tally.work += FOCUS * _box_pixels(geometry)
        size, alpha = _resample(tally, geometry, alpha, stage.stage.padding)
        if index == 0 and late_turn:
            pixels = _pixels(geometry.content_size)
            tally.step(
                "turning the resampled image upright",
                COPY * pixels,
                output=PIXEL_BYTES * pixels,
            )
        for effect in stage.stage.effects:
            size, alpha = _effect(tally, effect, size, alpha)

    grey = source_mode in _GREY_MODES or _makes_grey(spec)
    name = _costliest_format(spec, accept, source_format, alpha, grey, size, tally)
    heaviest = max(tally.parts)[1] if tally.parts else ""
    return RenderCost(
        steps,
        math.ceil(tally.work),
        tally.peak + BASE_MEMORY,
        decoded,
        size,
        name,
        heaviest,
    )


def _decode(
    tally: _Tally,
    source: Size,
    decoded: Size,
    source_format: str | None,
    source_mode: str,
    turned: bool,
) -> bool:
    """Decode, turn upright and bring to 8 bits; returns whether the image may have alpha."""
    pixels = _pixels(decoded)
    stored = _STORED_BYTES.get(source_mode, PIXEL_BYTES) * pixels
    buffer = (
        DECODE_BUFFER.get(source_format, 0) if source_format is not None else DECODE_BUFFER_UNKNOWN
    )
    alpha = source_mode in _ALPHA_MODES or source_mode in ("P", "PA")
    weights = DECODE_ALPHA if alpha else DECODE
    weight = weights.get(source_format or "", DECODE.get(source_format or "", DECODE_UNKNOWN))
    tally.step(
        f"decoding the {_text(source)} px {source_format or 'source'}",
        weight * _pixels(source),
        temporary=buffer * pixels,
        output=stored,
    )
    if turned:
        tally.step("applying the EXIF orientation", COPY * pixels, output=stored)
    if source_mode not in ("L", "LA", "RGB", "RGBA"):
        # 16-bit greyscale goes through a 32-bit copy on its way to L.
        wide = PIXEL_BYTES * pixels if source_mode.startswith("I;16") else 0
        tally.step(
            f"converting {source_mode} to 8 bits",
            2 * COPY * pixels,
            temporary=wide,
            output=PIXEL_BYTES * pixels,
        )
    return alpha


def _box_pixels(geometry: Geometry) -> float:
    left, top, right, bottom = geometry.box
    return (right - left) * (bottom - top)


def _resample(tally: _Tally, geometry: Geometry, alpha: bool, padding: Colour) -> tuple[Size, bool]:
    """One stage's resample (and padding), as pipeline._resample does it."""
    if geometry.is_identity:
        return geometry.size, alpha
    left, top, right, bottom = geometry.box
    content = geometry.content_size
    out_bytes = PIXEL_BYTES * _pixels(content)
    box = (right - left, bottom - top)
    if all(float(edge).is_integer() for edge in geometry.box) and box == content:
        tally.step(f"cropping to {_text(content)} px", COPY * _pixels(content), output=out_bytes)
    else:
        _resize(tally, geometry.source, geometry.box, content, alpha)
    if geometry.placement is not None:
        canvas = PIXEL_BYTES * _pixels(geometry.size)
        tally.step(
            f"padding to {_text(geometry.size)} px",
            2 * COPY * _pixels(geometry.size),
            temporary=out_bytes,
            output=canvas,
        )
        alpha = alpha or not is_opaque(padding)
    return geometry.size, alpha


def _resize(tally: _Tally, source: Size, region: Box, size: Size, alpha: bool) -> None:
    """Image.resize(LANCZOS, box, reducing_gap): premultiply, reduce, two passes."""
    left_edge, top_edge = region[0], region[1]
    box = (region[2] - region[0], region[3] - region[1])
    source_bytes = PIXEL_BYTES * _pixels(source)
    work = 0.0
    temporary = 0
    if alpha:
        work += PREMULTIPLY * (_pixels(source) + _pixels(size))
        temporary += source_bytes
    # Image.resize reduces by whole factors first while they leave >= RESIZE_GAP.
    factors = [max(1, int(box[axis] / size[axis] / RESIZE_GAP)) for axis in (0, 1)]
    width, height = box
    if factors != [1, 1]:
        work += REDUCE * box[0] * box[1]
        width, height = box[0] / factors[0], box[1] / factors[1]
        temporary += PIXEL_BYTES * math.ceil(width) * math.ceil(height)
    # Horizontal pass: taps per output pixel grow with the reduction, so it reads
    # every input pixel of the rows it needs; then the vertical pass. Pillow skips
    # a pass whose axis keeps its size, and needs a temporary only for both.
    horizontal = (source[0], left_edge, box[0], factors[0]) != (size[0], 0, size[0], 1)
    vertical = (source[1], top_edge, box[1], factors[1]) != (size[1], 0, size[1], 1)
    if horizontal:
        work += LANCZOS * height * max(width, size[0])
    if vertical:
        work += LANCZOS * size[0] * max(height, size[1])
    if horizontal and vertical:
        temporary += PIXEL_BYTES * size[0] * math.ceil(height)
    if alpha:
        temporary += PIXEL_BYTES * _pixels(size)  # the premultiplied result
    tally.step(
        f"resizing {_text((round(box[0]), round(box[1])))} px to {_text(size)}",
        work,
        temporary=temporary,
        output=PIXEL_BYTES * _pixels(size),
    )


def _effect(tally: _Tally, effect: Effect, size: Size, alpha: bool) -> tuple[Size, bool]:
    pixels = _pixels(size)
    image = PIXEL_BYTES * pixels
    out_size = effect.output_size(size)
    out = PIXEL_BYTES * _pixels(out_size)
    premultiplied = image if alpha else 0
    if isinstance(effect, Blur):
        work = BLUR * pixels + (2 * PREMULTIPLY * pixels if alpha else 0)
        tally.step(f"bl on {_text(size)} px", work, temporary=image + premultiplied, output=out)
    elif isinstance(effect, Sharpen):
        work = SHARPEN * pixels + (2 * PREMULTIPLY * pixels if alpha else 0)
        tally.step(
            f"e-sharpen on {_text(size)} px", work, temporary=image + premultiplied, output=out
        )
    elif isinstance(effect, RoundCorners):
        # A 1-byte mask 4x4 times the size, drawn then reduced; an RGBA copy.
        mask = 16 * pixels
        tally.step(
            f"r on {_text(size)} px",
            ROUND_MASK * mask + 4 * COPY * pixels,
            temporary=mask + 3 * pixels,
            output=out,
        )
        alpha = True
    elif isinstance(effect, Flatten):
        if alpha:
            tally.step(
                f"bg on {_text(size)} px", COMPOSITE * pixels, temporary=2 * image, output=out
            )
            alpha = not is_opaque(effect.background)
    elif isinstance(effect, Border):
        tally.step(
            f"b on {_text(size)} px",
            2 * COPY * _pixels(out_size),
            temporary=image,
            output=out,
        )
        alpha = alpha or not is_opaque(effect.colour)
    elif isinstance(effect, Grayscale | Transpose):
        label = f"{type(effect).__name__.lower()} on {_text(size)} px"
        tally.step(label, COPY * pixels, output=out)
    else:  # a new effect must be costed here; until then, as dear as a blur
        tally.step(f"an effect on {_text(size)} px", BLUR * pixels, temporary=image, output=out)
    return out_size, alpha


def _makes_grey(spec: RenderSpec) -> bool:
    return any(isinstance(effect, Grayscale) for stage in spec.stages for effect in stage.effects)


def _candidates(
    spec: RenderSpec, accept: str | None, source_format: str | None, alpha: bool
) -> set[str]:
    """The output formats this render may end in; several when Accept or the source is unknown."""
    if spec.format == "auto" and accept is None:
        names = {"jpeg", "png", "webp"}
        if formats.is_supported("avif"):
            names.add("avif")
        return names
    if spec.format in (None, "orig") and source_format is None:
        return {"jpeg", "png", "webp", "gif", *({"avif"} if formats.is_supported("avif") else ())}
    alphas = (False, True) if alpha else (False,)
    return {
        formats.choose(spec.format, accept or "", source_format=source_format, alpha=value)
        for value in alphas
    }


def _costliest_format(
    spec: RenderSpec,
    accept: str | None,
    source_format: str | None,
    alpha: bool,
    grey: bool,
    size: Size,
    tally: _Tally,
) -> str:
    """Cost the encode with the dearest candidate format; returns its name."""
    pixels = _pixels(size)

    def cost(name: str) -> float:
        weights = ENCODE_ALPHA if alpha else ENCODE
        return weights.get(name, ENCODE[name]) * pixels

    name = max(sorted(_candidates(spec, accept, source_format, alpha)), key=cost)
    memory = (ENCODE_MEMORY_ALPHA if alpha else ENCODE_MEMORY).get(name, ENCODE_MEMORY[name])
    # Preparing may convert first: flatten alpha for JPEG, L/LA to RGB(A) for the others.
    converts = (name == "jpeg" and alpha) or (grey and name in ("webp", "avif", "gif"))
    tally.peek(
        f"encoding {_text(size)} px as {name.upper()}",
        cost(name) + (COPY * pixels if converts else 0),
        temporary=(memory + (PIXEL_BYTES if converts else 0)) * pixels,
    )
    return name


def check_steps(steps: int, limits: RenderLimits) -> None:
    """Raise ChainTooLongError if a chain of ``steps`` (presets expanded) is too long."""
    if steps > limits.max_steps:
        raise ChainTooLongError(
            f"The chain has {steps} steps (presets expanded); at most {limits.max_steps} are"
            " allowed (MAX_CHAIN_STEPS). Fold steps together: one step can resize, crop and"
            " apply effects at once.",
            option="MAX_CHAIN_STEPS",
            limit=limits.max_steps,
            value=steps,
        )


def check(cost: RenderCost, limits: RenderLimits) -> None:
    """Raise RenderBudgetExceededError (ChainTooLongError for steps) if ``cost`` is over ``limits``.

    Each message names the setting, its value and the estimate, and says what
    to change in the chain.
    """
    check_steps(cost.steps, limits)
    if cost.work > limits.max_work:
        raise RenderBudgetExceededError(
            f"This render would take about {_millions(cost.work)} work units, over the"
            f" {_millions(limits.max_work)} allowed (MAX_RENDER_WORK); the largest part is"
            f" {cost.heaviest}. Ask for a smaller output (w, h, dpr), fewer steps or effects"
            " (bl, e-sharpen, r, t), or a cheaper format (f-jpg).",
            option="MAX_RENDER_WORK",
            limit=limits.max_work,
            value=cost.work,
        )
    if cost.memory > limits.max_memory:
        raise RenderBudgetExceededError(
            f"This render would hold about {_megabytes(cost.memory)} of images at once, over"
            f" the {_megabytes(limits.max_memory)} allowed (MAX_RENDER_MEMORY); the source"
            f" decodes at {_text(cost.decoded)} px and the output is {_text(cost.output)} px."
            " Ask for a smaller output (w, h, dpr) or fewer effects (r, bl).",
            option="MAX_RENDER_MEMORY",
            limit=limits.max_memory,
            value=cost.memory,
        )


def _millions(value: int) -> str:
    return f"{value / 1e6:,.0f} M"


def _megabytes(value: int) -> str:
    return f"{value / 2**20:,.0f} MB"
