"""No input can stall a scan: every regular expression in the package, and the hand-written
scanners that replace the dangerous ones, run in linear time on 1 MB adversarial strings.

A super-linear pattern on these inputs takes seconds to hours; a linear one takes milliseconds.
CPU time (best of three) is measured, so other load on the machine does not make this flaky.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import time
from collections.abc import Callable

import pytest

import stockade

MB = 1_000_000
BUDGET_S = 0.05

# Shapes that make backtracking engines explode: long runs a quantifier can split many ways,
# followed by the one character that makes the match fail.
ADVERSARIAL: dict[str, str] = {
    "asterisks-then-x": "*" * MB + "x",
    "letters-then-scheme": "a" * MB + "://",
    "schemes": "a://" * (MB // 4),
    "zeros-then-x": "a: " + "0" * MB + "x",
    "key-spaces-colon": "- x" + " " * MB + ":y",
    "password-spaces": "password: a" + " " * MB + "b",
    "braces": "{{" * (MB // 2),
    "angles": "<" * MB,
    "dollar-parens": "$(" * (MB // 2),
    "jwt-starts": "eyJ" * (MB // 3),
    "slack-starts": "xoxa-" * (MB // 5),
    "pem-words": "-----BEGIN " + "A " * (MB // 2),
    "spaces": " " * MB,
    "digits": "1" * MB,
    "dots": "." * MB,
    "dashes": "-" * MB,
    "userinfo": "a://" + "b" * MB + "@",
    "colons": ":" * MB,
    "tabs-newlines": "\t\n" * (MB // 2),
}


_UNANCHORED = ("search", "finditer", "findall", "sub", "subn", "split")


def _nested_patterns(value: object, depth: int = 0) -> list[re.Pattern[str]]:
    if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
        return [value]
    if depth < 2 and isinstance(value, tuple | list):
        return [p for item in value for p in _nested_patterns(item, depth + 1)]
    return []


def _patterns() -> list[tuple[str, re.Pattern[str], bool]]:
    """Every compiled pattern of the package, and whether it is ever used unanchored (searched
    from every position) rather than only matched at a given position."""
    found: dict[int, tuple[str, re.Pattern[str], bool]] = {}
    for info in pkgutil.walk_packages(stockade.__path__, prefix="stockade."):
        module = importlib.import_module(info.name)
        source = inspect.getsource(module)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                unanchored = any(f"{name}.{method}(" in source for method in _UNANCHORED)
                found.setdefault(id(value), (f"{info.name}.{name}", value, unanchored))
            elif isinstance(value, tuple | list):
                # Tables of patterns (credential formats, name hints): judged as searched.
                for index, item in enumerate(_nested_patterns(value)):
                    found.setdefault(id(item), (f"{info.name}.{name}[{index}]", item, True))
    return sorted(found.values(), key=lambda item: item[0])


PATTERNS = _patterns()


def _cpu_seconds(call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def test_the_package_has_patterns_to_check() -> None:
    assert len(PATTERNS) >= 30
    names = {name for name, _, _ in PATTERNS}
    assert any(unanchored for _, _, unanchored in PATTERNS)
    assert "stockade.sources.compat._CANDIDATE" in names


@pytest.mark.parametrize(("name", "pattern", "unanchored"), PATTERNS, ids=[name for name, _, _ in PATTERNS])
def test_pattern_is_linear_on_adversarial_input(name: str, pattern: re.Pattern[str], unanchored: bool) -> None:
    slow = {}
    for label, text in ADVERSARIAL.items():
        if unanchored:
            # A full scan: every start position is tried. Each match found costs Python time of its
            # own (about a microsecond), which is not backtracking.
            matches = sum(1 for _ in pattern.finditer(text))
            budget = BUDGET_S * 2 + matches * 1e-6
            spent = _cpu_seconds(lambda text=text: (pattern.search(text), sum(1 for _ in pattern.finditer(text))))
        else:
            budget = BUDGET_S * 2
            spent = _cpu_seconds(lambda text=text: (pattern.match(text), pattern.fullmatch(text)))
        if spent > budget and _grows_faster_than_linear(pattern, unanchored, text):
            slow[label] = round(spent, 3)
    assert slow == {}, f"{name} is slow on {slow}"


def _grows_faster_than_linear(pattern: re.Pattern[str], unanchored: bool, text: str) -> bool:
    """Over budget on a loaded machine, or really super-linear? A quarter of the input takes a
    quarter of the time when the scan is linear and a sixteenth of it or less when quadratic."""
    quarter = text[: len(text) // 4] + text[-8:]

    def run(sample: str) -> object:
        if unanchored:
            return pattern.search(sample), sum(1 for _ in pattern.finditer(sample))
        return pattern.match(sample), pattern.fullmatch(sample)

    # Judged twice: one slow measurement on a busy machine must not fail a linear pattern, and a
    # quadratic one is over the line every time.
    for _ in range(2):
        full, part = _cpu_seconds(lambda: run(text)), _cpu_seconds(lambda: run(quarter))
        if full <= 8 * max(part, 1e-3):
            return False
    return True


def test_secret_heuristics_are_linear() -> None:
    from stockade.rules.sc._heuristics import _is_reference, classify, classify_file, url_credentials

    calls: dict[str, Callable[[str], object]] = {
        "is_reference": _is_reference,
        "url_credentials": url_credentials,
        "classify": lambda text: classify("PASSWORD", text, 3.5),
        "classify_file": classify_file,
    }
    slow = {}
    for call_name, call in calls.items():
        for label, text in ADVERSARIAL.items():
            spent = _cpu_seconds(lambda call=call, text=text: call(text))  # type: ignore[misc]
            if spent > BUDGET_S * 4:
                quarter = text[: len(text) // 4] + text[-8:]
                part = _cpu_seconds(lambda call=call, quarter=quarter: call(quarter))  # type: ignore[misc]
                if spent > 8 * max(part, 1e-3):
                    slow[f"{call_name}/{label}"] = round(spent, 3)
    assert slow == {}


def test_the_reported_stalls_are_gone() -> None:
    """The issue's reproductions, each once, with the verdicts they must still give."""
    from stockade.rules.sc._heuristics import _is_reference, classify_file, url_credentials
    from stockade.sources.compat import has_octal_candidate

    assert not _is_reference("*" * 60 + "x")
    assert _is_reference("*** ${A} $(B) {{ .Values.c }} <d> %(e)s")
    assert classify_file("password: a" + " " * 2000 + "b") is not None
    assert url_credentials("a" * 100_000 + "://") is None
    assert url_credentials("see https://user:hunter2@db.example.com/x") == "value is a URL with an embedded password"
    assert not has_octal_candidate("a: " + "0" * 10_000 + "x")
    assert has_octal_candidate("mode: 0644\n")
