"""The fast block-YAML line scanner agrees with libyaml wherever it answers, and refuses the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.sources.blockindex import index_block_document
from stockade.sources.documents import split_documents
from stockade.sources.locate import index_events
from tests.vendored import vendored

ROOT = Path(__file__).resolve().parents[2]
CORPORA = [vendored("corpus", "real-world"), ROOT / "examples"]


def documents() -> list[tuple[str, str]]:
    out = []
    for corpus in CORPORA:
        for path in sorted(corpus.rglob("*.y*ml")):
            text = path.read_text(errors="replace")
            for number, segment in enumerate(split_documents(text)):
                if not segment.empty:
                    out.append((f"{path.relative_to(corpus.parent)}#{number}", text[segment.start : segment.end]))
    return out


DOCUMENTS = documents()


def test_the_scanner_answers_for_most_real_documents() -> None:
    answered = sum(1 for _, text in DOCUMENTS if index_block_document(text) is not None)
    assert answered / len(DOCUMENTS) > 0.9, (answered, len(DOCUMENTS))


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_agrees_with_libyaml_on_real_documents(name: str, text: str) -> None:
    fast = index_block_document(text)
    if fast is None:
        return  # refused: the caller falls back to libyaml
    exact = index_events(text)
    assert exact is not None, "the scanner answered for a document libyaml cannot read"
    assert fast[:2] == exact[:2]


keys = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_./-]{0,12}", fullmatch=True)
scalars = st.one_of(
    st.integers(),
    st.booleans(),
    st.none(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
    st.text(alphabet="ab \n:#-'\"", max_size=30),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300)
@given(st.dictionaries(keys, trees, min_size=1, max_size=5), st.integers(min_value=1, max_value=4), st.booleans())
def test_agrees_with_libyaml_on_generated_documents(data: dict[str, object], indent: int, flow: bool) -> None:
    text = yaml.dump(
        data, default_flow_style=None if flow else False, indent=max(indent, 2), width=60, allow_unicode=True
    )
    fast = index_block_document(text)
    if fast is None:
        return
    exact = index_events(text)
    assert exact is not None
    assert fast[:2] == exact[:2], text


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",
        "a: !!str 1\n",
        "base: &b {x: 1}\nd:\n  <<: *b\n",
        'a: "multi\n  line"\n',
        "a: [1,\n  2]\n",
        "{a: 1}\n",
        "a:\tb\n",
        "? complex\n: value\n",
        "a: 1\na: 2\n",
    ],
)
def test_refuses_what_it_does_not_understand(text: str) -> None:
    assert index_block_document(text) is None


def test_compact_sequences_block_scalars_and_comments() -> None:
    text = """\
# leading comment
spec:
  containers:
  - name: a            # trailing
    command: |
      echo: not a key
      - not an item
    args:
    - x
  - name: b
    env: [{name: K, value: v}]
  volumes: []
metadata:
  name: >-
    folded
    text
  labels: {app: web}
"""
    fast = index_block_document(text)
    assert fast is not None and fast[:2] == index_events(text)[:2]  # type: ignore[index]
