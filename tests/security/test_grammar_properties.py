"""Hostile strings against the transformation grammar and the CDN's chain parser.

tests/media_store/test_grammar.py covers canonical specs and typed values with a small
alphabet; these go further: any unicode, grammar tokens glued in any order, very long
strings. A string either parses (and then formats back to itself) or raises
InvalidTransformationError; the CDN turns every chain into a Chain or a CdnError.
Examples are bounded so the suite stays fast.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from media_store.cdn.errors import CdnError
from media_store.cdn.request import _chain
from media_store.exceptions import ErrorCode, InvalidTransformationError
from media_store.grammar import COLOUR_NAMES, FOCUSES, REGISTRY, parse

_KEYS = sorted(REGISTRY)
_VALUES = [
    "0",
    "1",
    "01",
    "0.5",
    "1.0",
    "-1",
    "100",
    "999999999",
    "9999999999",
    "1e3",
    "true",
    "max",
    "auto",
    "N90",
    "4-3",
    "5_FFF000",
    "FFF00099",
    "jpg",
    "jpeg",
    "webp",
    "avif",
    "force",
    "pad_resize",
    "extract",
    *FOCUSES[:3],
    *sorted(COLOUR_NAMES)[:3],
    "",
    "²",
    "٣",
]
_SEPARATORS = [":", ",", "-", "_", "."]

# Grammar tokens glued together: mostly near-misses of valid chains.
_TOKENS = st.lists(
    st.one_of(st.sampled_from(_KEYS), st.sampled_from(_VALUES), st.sampled_from(_SEPARATORS)),
    max_size=40,
).map("".join)
_GRAMMAR_ALPHABET = st.text(alphabet="abcdefghilmnoqrstuwxyzABCDEFN0123456789-_.,:", max_size=60)
_ANY_TEXT = st.text(max_size=80)
_LONG = st.text(alphabet="w-0123456789,:", min_size=1000, max_size=5000)

_FUZZ = settings(max_examples=300, deadline=None)


def _parses_or_refuses(spec: str) -> None:
    try:
        transformation = parse(spec)
    except InvalidTransformationError as e:
        refusal = str(e)
    else:
        refusal = None
    if refusal is not None:
        assert refusal  # says what is wrong
        return
    # What parses is canonical: it formats back to the very same string.
    assert str(transformation) == spec
    assert parse(str(transformation)) == transformation


@_FUZZ
@given(st.one_of(_TOKENS, _GRAMMAR_ALPHABET, _ANY_TEXT))
@example("w-300,h-200:rt-90")
@example("w-300,,h-200")
@example(":" * 50)
@example("e-sharpen-" + "9" * 400)
@example("w-" + "9" * 5000)
@example("bg-\x00")
def test_parse_any_string_parses_canonically_or_raises_invalid(spec: str) -> None:
    _parses_or_refuses(spec)


@settings(max_examples=20, deadline=None)
@given(_LONG)
def test_parse_very_long_string_parses_canonically_or_raises_invalid(spec: str) -> None:
    _parses_or_refuses(spec)


@_FUZZ
@given(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=6), st.data())
def test_parse_of_glued_key_value_pairs_round_trips(keys: list[str], data: st.DataObject) -> None:
    spec = ",".join(f"{key}-{data.draw(st.sampled_from(_VALUES))}" for key in keys)

    _parses_or_refuses(spec)


@pytest.fixture
def fresh_chains():
    """The CDN's chain cache is per process; each example parses anew."""
    _chain.cache_clear()
    yield
    _chain.cache_clear()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.one_of(_TOKENS, _ANY_TEXT, st.just("w-1:" * 10)))
def test_cdn_chain_is_a_chain_or_a_400(fresh_chains, spec: str) -> None:
    try:
        chain = _chain(spec)
    except CdnError as e:
        refusal = e
    else:
        refusal = None
    if refusal is not None:
        assert refusal.status == 400
        assert refusal.code in {
            ErrorCode.INVALID_TRANSFORMATION,
            ErrorCode.UNSUPPORTED_TRANSFORMATION,
            ErrorCode.CHAIN_TOO_LONG,
        }
        assert refusal.message
        return
    assert str(chain.requested) == spec
    assert len(chain.transformation.steps) <= 5
