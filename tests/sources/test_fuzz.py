"""Whatever bytes arrive, loading ends in objects, skipped inputs or errors: never an exception."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.sources.base import SourceResult
from stockade.sources.files import collect_paths
from stockade.sources.limits import ParseLimits

_YAMLISH = st.text(alphabet=" \n\t-:?[]{},'\"&*!|>#%@`ab01<.~\x07\r\ufeff\u00e9", max_size=300)
_LIMITS = ParseLimits(max_depth=8, max_alias_events=200, max_documents=20)


def _check(result: SourceResult) -> None:
    for error in result.errors:
        assert error.source == "<stdin>"
        assert error.message and len(error.message) < 400
        assert error.line is None or error.line >= 1
    for skipped in result.skipped:
        assert skipped.reason
    for resource in result.resources:
        assert resource.origin.file == "<stdin>"


@settings(max_examples=400, deadline=None)
@given(_YAMLISH)
def test_yaml_like_text_never_raises(text: str) -> None:
    _check(collect_paths(["-"], stdin=io.BytesIO(text.encode("utf-8", "surrogatepass")), limits=_LIMITS))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _check(collect_paths(["-"], stdin=io.BytesIO(data), limits=_LIMITS))


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
        max_leaves=30,
    )
)
def test_json_values_never_raise(value: object) -> None:
    _check(collect_paths(["-"], stdin=io.BytesIO(json.dumps(value).encode()), limits=_LIMITS))
