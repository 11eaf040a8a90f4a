"""ImageKit's URL transformation grammar: parse, format, and expand named steps.

``w-300,h-200:rt-90`` is a chain of steps separated by ``:``; each step is
``key-value`` parameters separated by ``,``. Parsing yields typed, validated,
immutable values; formatting gives the canonical string back. A named
transformation (``n-card``) stands for a whole chain; :func:`expand_named`
replaces it with its definition, from a mapping the caller gives (the
project's presets, or the ImageKit emulator's dashboard). This module imports
neither Django nor Pillow: the URL builder, the local CDN view, the renderer,
the GraphQL enums and the emulator all share it, and its value lists
(``CROPS``, ``FOCUSES``, ``FORMATS``...) are the only ones.

The grammar accepts canonical spellings only, so ``str(parse(s)) == s`` for
every ``s`` that parses and equal transformations have one string (a safe cache
key). ``w-300.0``, ``q-080`` and the alias ``f-jpeg`` are rejected with a hint
naming the canonical form, although ImageKit itself would serve them. Hex
colours keep the case they were given in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from media_store.exceptions import InvalidTransformationError, UnknownNamedTransformationError

Value = int | float | str | bool | tuple[int, int] | tuple[int, str]

# The values of ``f``, ``c``, ``cm``, ``fo`` and ``fl``: the renderer maps them to its
# operations and the GraphQL enums are built from them, in this order.
FORMATS = ("auto", "jpg", "png", "webp", "avif")
CROPS = ("maintain_ratio", "force", "at_least", "at_max", "at_max_enlarge")
CROP_MODES = ("pad_resize", "extract", "pad_extract")
_SIDES = ("center", "top", "left", "bottom", "right")
FOCUSES = (*_SIDES, "top_left", "top_right", "bottom_left", "bottom_right", "auto")
FLIPS = ("h", "v", "h_v", "v_h")
# The CSS named colours (also Pillow's ImageColor names, which the renderer uses).
_CSS_COLOURS = """
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet
brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue
darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange
darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise
darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen
fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred
indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen magenta
maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen mediumslateblue
mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin
navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen
paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red
rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue
slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white
whitesmoke yellow yellowgreen
"""
COLOUR_NAMES = frozenset(_CSS_COLOURS.split())

# ASCII digits only (``\d`` would take "²"); 9 integer digits keep int() bounded; 20 decimals
# fit repr() of any float >= 1e-4 (smaller ones repr with an exponent and are refused).
_NUMBER = re.compile(r"(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,20})?")
# RRGGBB, or RRGGBBAA where AA is an opacity 00-99 (decimal, not hex) per ImageKit's docs.
_HEX_COLOUR = re.compile(r"[0-9A-Fa-f]{6}(?:[0-9]{2})?")
_POSITIVE = r"([1-9][0-9]{0,8})"


def _invalid(key: str, raw: str, expected: str) -> InvalidTransformationError:
    return InvalidTransformationError(f"'{key}' must be {expected}, got {raw!r}", key=key)


def _number(key: str, raw: str, expected: str) -> int | float:
    """Read a plain decimal; whole values come back as int so each number has one spelling."""
    if not _NUMBER.fullmatch(raw):
        raise _invalid(key, raw, expected)
    if "." not in raw:
        return int(raw)
    number = float(raw)
    return int(number) if number.is_integer() else number


def _integer(low: int, high: int | None = None) -> Callable[[str, str], Value]:
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"

    def parse(key: str, raw: str) -> Value:
        number = _number(key, raw, expected)
        if type(number) is not int or number < low or (high is not None and number > high):
            raise _invalid(key, raw, expected)
        return number

    return parse


def _dimension(key: str, raw: str) -> Value:
    """A pixel size (integer >= 1) or a fraction of the original (0 < v < 1)."""
    expected = "a positive integer or a fraction between 0 and 1"
    number = _number(key, raw, expected)
    if number == 0 or (type(number) is float and number > 1):
        raise _invalid(key, raw, expected)
    return number


def _dpr(key: str, raw: str) -> Value:
    number = _number(key, raw, "a number from 0.1 to 5")
    if not 0.1 <= number <= 5:
        raise _invalid(key, raw, "a number from 0.1 to 5")
    return number


def _choice(*choices: str) -> Callable[[str, str], Value]:
    def parse(key: str, raw: str) -> Value:
        if raw not in choices:
            hint = " (write 'jpg')" if raw == "jpeg" else ""
            raise _invalid(key, raw, f"one of {', '.join(choices)}{hint}")
        return raw

    return parse


def _colour(key: str, raw: str) -> Value:
    if _HEX_COLOUR.fullmatch(raw) or raw in COLOUR_NAMES:
        return raw
    raise _invalid(key, raw, "RRGGBB, RRGGBBAA (AA 00-99) or a lowercase colour name")


def _matching(pattern: str, expected: str, convert: Callable[[re.Match[str]], Value]) -> Any:
    """A value that must match ``pattern`` whole, converted from the match."""
    compiled = re.compile(pattern)

    def parse(key: str, raw: str) -> Value:
        match = compiled.fullmatch(raw)
        if not match:
            raise _invalid(key, raw, expected)
        return convert(match)

    return parse


_named = _matching(r"[A-Za-z0-9_-]{1,100}", "letters, digits, _ and -", lambda m: m[0])
_radius = _matching(
    rf"max|{_POSITIVE}", "'max' or a positive integer", lambda m: int(m[1]) if m[1] else "max"
)
_trim = _matching(r"true|([1-9][0-9]?)", "'true' or 1 to 99", lambda m: int(m[1]) if m[1] else True)
_aspect_ratio = _matching(
    rf"{_POSITIVE}-{_POSITIVE}",
    "two positive integers W-H, as in ar-4-3",
    lambda m: (int(m[1]), int(m[2])),
)
_border = _matching(
    rf"{_POSITIVE}_({_HEX_COLOUR.pattern})",
    "<width>_<hex colour>, as in b-5_FFF000",
    lambda m: (int(m[1]), m[2]),
)
# Clockwise degrees; ``N90`` (counter-clockwise) is held as -90.
_rotation = _matching(
    r"(N?)(90|180|270|360)|0|auto",
    "0, 90, 180, 270, 360, N90, N180, N270, N360 or auto",
    lambda m: -int(m[2]) if m[1] else m[0] if m[0] == "auto" else int(m[0]),
)


def _flag(key: str, raw: str) -> Value:
    raise InvalidTransformationError(f"'{key}' takes no value, got {raw!r}", key=key)


def _format_rotation(value: int | str) -> str:
    return f"N{-value}" if isinstance(value, int) and value < 0 else str(value)


def _text(value: Value) -> str:
    """The URL spelling of a typed value (floats by repr, the shortest exact form)."""
    if value is True:
        return "true"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Param:
    """How one key's value is read from and written to a URL."""

    key: str
    # The snake_case name the ImageKit SDK and our GraphQL inputs use.
    name: str
    parse: Callable[[str, str], Value]
    format: Callable[[Any], str] = _text
    # Written as the bare key when its value is True (``e-grayscale``).
    bare: bool = False


# Keys in URL form (``w``), each mapped to its one parameter definition.
REGISTRY: dict[str, Param] = {
    p.key: p
    for p in (
        Param("w", "width", _dimension),
        Param("h", "height", _dimension),
        Param("ar", "aspect_ratio", _aspect_ratio, lambda v: f"{v[0]}-{v[1]}"),
        Param("c", "crop", _choice(*CROPS)),
        Param("cm", "crop_mode", _choice(*CROP_MODES)),
        Param("fo", "focus", _choice(*FOCUSES)),
        Param("x", "x", _integer(0)),
        Param("y", "y", _integer(0)),
        Param("xc", "x_center", _integer(0)),
        Param("yc", "y_center", _integer(0)),
        Param("q", "quality", _integer(1, 100)),
        Param("f", "format", _choice(*FORMATS)),
        Param("bl", "blur", _integer(1, 100)),
        Param("dpr", "dpr", _dpr),
        Param("rt", "rotation", _rotation, _format_rotation),
        Param("r", "radius", _radius),
        Param("bg", "background", _colour),
        Param("b", "border", _border, lambda v: f"{v[0]}_{v[1]}"),
        Param("e-grayscale", "grayscale", _flag, bare=True),
        # UNVERIFIED: ImageKit documents no range for the sharpen amount; 1-100 bounds the work.
        Param("e-sharpen", "sharpen", _integer(1, 100), bare=True),
        Param("t", "trim", _trim),
        Param("fl", "flip", _choice(*FLIPS)),
        Param("orig", "original", _matching("true", "'true'", lambda m: True)),
        Param("n", "named", _named),
    )
}

# The SDK's snake_case names (``transformation=[{"width": 300}]``) to URL keys.
SDK_NAMES: dict[str, str] = {p.name: p.key for p in REGISTRY.values()}


def _param(key: str) -> Param:
    param = REGISTRY.get(key)
    if param is None:
        raise InvalidTransformationError(f"unknown transformation key '{key}'", key=key)
    return param


def _value(param: Param, raw: str | None) -> Value:
    """Parse one raw value (None: the key was bare) and insist on its canonical spelling."""
    if raw is None:
        if not param.bare:
            raise InvalidTransformationError(
                f"'{param.key}' needs a value, as in {param.key}-<value>", key=param.key
            )
        return True
    value = param.parse(param.key, raw)
    canonical = param.format(value)
    if canonical != raw:
        raise InvalidTransformationError(
            f"'{param.key}' value {raw!r} is not canonical, write {canonical!r}", key=param.key
        )
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a chain: typed parameters in the order they were given.

    Construction validates every key and value, so a Step always formats to a
    string that parses back to an equal Step.
    """

    params: tuple[tuple[str, Value], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        seen = set()
        for key, value in self.params:
            param = _param(key)
            if key in seen:
                raise InvalidTransformationError(f"'{key}' is given twice in one step", key=key)
            seen.add(key)
            if value is True and param.bare:
                continue
            try:
                parsed = _value(param, param.format(value))
            except (TypeError, ValueError, IndexError):
                # ValueError covers InvalidTransformationError; re-raise with the typed value.
                parsed = None
            # type() too: 2 == 2.0 == True, but they are spelled differently.
            if type(parsed) is not type(value) or parsed != value:
                raise InvalidTransformationError(f"'{key}' has an invalid value {value!r}", key=key)

    def get(self, key: str, default: Any = None) -> Any:
        for name, value in self.params:
            if name == key:
                return value
        return default

    def __str__(self) -> str:
        return ",".join(
            key if value is True and REGISTRY[key].bare else f"{key}-{REGISTRY[key].format(value)}"
            for key, value in self.params
        )


@dataclass(frozen=True, slots=True)
class Transformation:
    """An immutable chain of steps, applied in order.

    ``canonical`` is the URL string, computed once: URL building reads it on
    every call, and it is the cache key of a rendition.
    """

    steps: tuple[Step, ...]
    canonical: str = field(init=False, repr=False, compare=False)
    # Whether some step is ``n-<name>``: URL building asks on every call.
    has_named: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, Step) or not step.params:
                raise InvalidTransformationError(f"not a non-empty Step: {step!r}")
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "canonical", ":".join(str(step) for step in steps))
        object.__setattr__(self, "has_named", any(step.get("n") is not None for step in steps))

    def __str__(self) -> str:
        return self.canonical

    def __bool__(self) -> bool:
        return bool(self.steps)

    @classmethod
    def from_steps(cls, steps: Iterable[Mapping[str, Any]]) -> Transformation:
        """Build from mappings of URL key to value (``{"w": 300, "e-grayscale": True}``).

        Values convert as the SDK converts them: None and False drop the key, True
        is ``true`` or the bare flag, ``300.0`` is ``300``; strings are parsed.
        Steps left empty are dropped. Raises InvalidTransformationError.
        """
        built = []
        for mapping in steps:
            params = []
            for key, value in mapping.items():
                if value is None or value is False:
                    continue
                params.append((key, _value(_param(key), _raw(_param(key), value))))
            if params:
                built.append(Step(tuple(params)))
        return cls(tuple(built))

    @classmethod
    def from_sdk(cls, steps: Iterable[Mapping[str, Any]]) -> Transformation:
        """Build from the SDK's snake_case form (``[{"width": 300, "crop": "force"}]``)."""
        return cls.from_steps({_sdk_key(name): v for name, v in step.items()} for step in steps)

    def to_sdk(self) -> list[dict[str, Any]]:
        """The SDK's ``transformation=`` argument producing exactly ``self.canonical``."""
        result = []
        for step in self.steps:
            sdk_step: dict[str, Any] = {}
            for key, value in step.params:
                param = REGISTRY[key]
                text = param.format(value)
                keep = value is True or (isinstance(value, int | float) and text == str(value))
                sdk_step[param.name] = value if keep else text
            result.append(sdk_step)
        return result


def _raw(param: Param, value: Any) -> str | None:
    """A Python value as the SDK would write it into the URL (None: bare key)."""
    if value is True:
        return None if param.bare else "true"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    try:
        return param.format(value)
    except (TypeError, IndexError):
        raise InvalidTransformationError(
            f"'{param.key}' has an invalid value {value!r}", key=param.key
        ) from None


def _sdk_key(name: str) -> str:
    key = SDK_NAMES.get(name)
    if key is None:
        raise InvalidTransformationError(f"unknown transformation name '{name}'", key=name)
    return key


def _split(part: str) -> tuple[str, str | None]:
    """``w-300`` → (w, "300"); ``e-sharpen-10`` → (e-sharpen, "10"); ``e-grayscale`` → (…, None)."""
    key, sep, raw = part.partition("-")
    if key == "e" and sep:
        # Effect keys contain a dash themselves: the value starts after the second one.
        name, sep, raw = raw.partition("-")
        key = f"e-{name}"
    if not key:
        raise InvalidTransformationError(f"transformation parameter {part!r} has no key")
    return key, raw if sep else None


def parse(spec: str) -> Transformation:
    """Parse ``w-300,h-200:f-webp``; raises InvalidTransformationError."""
    if not spec:
        return Transformation(())
    steps = []
    for chunk in spec.split(":"):
        params = []
        for part in chunk.split(","):
            key, raw = _split(part)
            params.append((key, _value(_param(key), raw)))
        # Step rejects a key given twice.
        steps.append(Step(tuple(params)))
    return Transformation(tuple(steps))


def named_step(name: str) -> Step:
    """The step ``n-<name>``; raises InvalidTransformationError for a name no URL can carry."""
    if not isinstance(name, str):
        raise InvalidTransformationError(f"a name must be a string, got {name!r}", key="n")
    return Step((("n", _value(REGISTRY["n"], name)),))


def parse_definition(name: str, chain: str) -> Transformation:
    """Parse a named transformation (a preset): a name ``n-<name>`` can carry, and
    the chain it stands for, which names no other.

    Raises InvalidTransformationError saying what is wrong: the name, or a step
    by its position and text (``step 2 'w-abc': 'w' must be ...``).
    """
    try:
        named_step(name)
    except InvalidTransformationError as e:
        raise InvalidTransformationError(
            f"the name cannot be written as n-<name>: {e}", key="n"
        ) from e
    if not isinstance(chain, str) or not chain:
        raise InvalidTransformationError(
            f"must be a non-empty chain such as 'w-400,h-300', got {chain!r}"
        )
    steps = []
    for position, text in enumerate(chain.split(":"), 1):
        try:
            parsed = parse(text)
        except InvalidTransformationError as e:
            raise InvalidTransformationError(f"step {position} {text!r}: {e}", key=e.key) from e
        if not parsed:
            raise InvalidTransformationError(f"step {position} is empty; remove the extra ':'")
        (step,) = parsed.steps
        if step.get("n") is not None:
            raise InvalidTransformationError(
                f"step {position} {text!r} names another named transformation; "
                "write out its steps instead",
                key="n",
            )
        steps.append(step)
    return Transformation(tuple(steps))


def expand_named(
    transformation: Transformation,
    definitions: Mapping[str, Transformation],
    *,
    keep: Collection[str] = (),
) -> Transformation:
    """Replace each ``n-<name>`` step by the steps of ``definitions[name]``.

    Names in ``keep`` stay as ``n-<name>`` (for a server that knows them). A
    named step must be alone in its step, as ImageKit requires: a step's
    parameters apply together, and a name is a whole chain. Raises
    InvalidTransformationError, UnknownNamedTransformationError for a name
    neither defined nor kept.
    """
    if not transformation.has_named:
        return transformation
    steps: list[Step] = []
    for step in transformation.steps:
        name = step.get("n")
        if name is None:
            steps.append(step)
            continue
        if len(step.params) > 1:
            raise InvalidTransformationError(
                "'n' (a named transformation) must be alone in its step; "
                "chain other parameters with ':'",
                key="n",
            )
        if name in keep:
            steps.append(step)
        elif name in definitions:
            steps.extend(definitions[name].steps)
        else:
            raise UnknownNamedTransformationError(name)
    return Transformation(tuple(steps))
