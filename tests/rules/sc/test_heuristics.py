"""The heuristics SC rules stand on: entropy, credential formats, names that hold or describe a secret."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.model.finding import Severity
from stockade.rules.sc._heuristics import classify, classify_file, looks_random, name_hint, shannon_entropy
from tests.rules.sc.planted import AWS_KEY, GITHUB, JWT, PASSWORD, PEM, RANDOM, SLACK, URL_PASSWORD

# -- entropy --------------------------------------------------------------------------------------


def test_entropy_known_values() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab") == pytest.approx(1.0)
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert shannon_entropy("0123456789abcdef") == pytest.approx(4.0)


@given(st.text(min_size=1, max_size=300))
def test_entropy_bounds(text: str) -> None:
    entropy = shannon_entropy(text)
    assert -1e-9 <= entropy <= math.log2(len(set(text))) + 1e-9


@given(st.text(min_size=1, max_size=100), st.randoms(use_true_random=False))
def test_entropy_ignores_order(text: str, rnd: Any) -> None:
    chars = list(text)
    rnd.shuffle(chars)
    assert shannon_entropy("".join(chars)) == pytest.approx(shannon_entropy(text))


@given(st.lists(st.characters(), min_size=1, max_size=60, unique=True))
def test_entropy_of_distinct_characters(chars: list[str]) -> None:
    assert shannon_entropy("".join(chars)) == pytest.approx(math.log2(len(chars)))


@given(st.text(max_size=300), st.text(max_size=300))
def test_classify_never_raises_and_never_echoes(name: str, value: str) -> None:
    hint = classify(name, value, 3.5)
    if hint is not None and len(value) >= 8:
        # The reason is built from fixed phrases; the value may only appear where a phrase already
        # holds it (e.g. the value "password" and the phrase "name looks like a password").
        template = hint.reason.replace(value, "") if value in _PHRASES else hint.reason
        assert value not in template
    classify_file(value)


# Every reason classify() can give, with its variable parts removed.
_PHRASES = [
    "name",
    "looks",
    "like",
    "a",
    "password",
    "secret",
    "token",
    "key",
    "credential",
    "private",
    "access",
    "api",
]


@given(st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True), st.text(alphabet=" =:\"'\n", max_size=3))
def test_aws_keys_are_found_wherever_they_sit(key: str, around: str) -> None:
    hint = classify("X", f"{around}{key}{around}", 3.5)
    assert hint is not None and hint.reason == "value matches an AWS access key pattern"


# -- heuristics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "reason", "severity"),
    [
        ("X", AWS_KEY, "value matches an AWS access key pattern", Severity.CRITICAL),
        ("X", GITHUB, "value matches a GitHub token pattern", Severity.CRITICAL),
        ("X", SLACK, "value matches a Slack token pattern", Severity.CRITICAL),
        ("X", PEM, "value matches a private key (PEM) pattern", Severity.CRITICAL),
        ("X", JWT, "value matches a JSON Web Token pattern", Severity.CRITICAL),
        ("DB_PASSWORD", PASSWORD, "name looks like a password", None),
        ("db-pwd", "hunter2", "name looks like a password", None),
        ("CLIENT_SECRET", "abc", "name looks like a secret", None),
        ("AWS_SECRET_ACCESS_KEY", RANDOM, "name looks like a secret", None),
        ("GITHUB_TOKEN", "not-random", "name looks like a token", None),
        ("apiKey", "k", "name looks like an API key", None),
        ("SERVICE_PRIVATE_KEY", "k", "name looks like a private key", None),
        ("GOOGLE_CREDENTIALS", "{}x", "name looks like credentials", None),
        ("DATABASE_URL", URL_PASSWORD, "value is a URL with an embedded password", None),
        ("WEBHOOK", "https://api.example.com/hook?api_key=abc123", "URL with an API key in its query string", None),
        ("SEED", RANDOM, "value has high entropy", Severity.MEDIUM),
    ],
)
def test_classify_fires(name: str, value: str, reason: str, severity: Severity | None) -> None:
    hint = classify(name, value, 3.5)
    assert hint is not None
    assert reason in hint.reason
    assert hint.severity is severity


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", ""),
        ("DB_PASSWORD", "   "),
        ("DB_PASSWORD", "$(DB_PASSWORD)"),
        ("DB_PASSWORD", "${DB_PASSWORD}"),
        ("DB_PASSWORD", "{{ .Values.password }}"),
        ("DB_PASSWORD", "<set-me>"),
        ("TOKEN_ENABLED", "true"),
        ("SECRET_REQUIRED", "no"),
        ("TOKEN_TTL", "3600"),
        ("TOKEN_TIMEOUT", "30s"),
        ("PASSWORD_FILE", "/etc/secret/password"),
        ("SECRET_NAME", "db-credentials"),
        ("TOKEN_URL", "https://auth.example.com/oauth/token"),
        ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/app"),
        ("DATABASE_URL", "postgres://db.shop:5432/app"),
        ("PWD", "/app"),
        ("AWS_ACCESS_KEY_ID_FILE", "/var/run/aws/id"),
        ("RELEASE", "my-release-postgresql-0"),
        ("APP_NAME", "MyApplicationName"),
        ("TENANT_ID", "550e8400-e29b-41d4-a716-446655440000"),
        ("GIT_SHA", "4f5e5d3c2b1a09876543210fedcba98765432101"),
        ("IMAGE_DIGEST", "sha256:4f5e5d3c2b1a09876543210fedcba98765432101"),
        ("HOSTNAME", "api-7d9c5b6f4-x2k8q.shop.svc.cluster.local"),
        ("JAVA_OPTS", "-Xmx512m -XX:+UseG1GC -Dfile.encoding=UTF-8"),
        ("LOG_LEVEL", "debug"),
        ("TZ", "Europe/Berlin"),
    ],
)
def test_classify_leaves_harmless_values(name: str, value: str) -> None:
    assert classify(name, value, 3.5) is None


def test_entropy_threshold_is_configurable() -> None:
    entropy = shannon_entropy(RANDOM)
    assert classify("SEED", RANDOM, entropy - 0.1) is not None
    assert classify("SEED", RANDOM, entropy + 0.1) is None


def test_looks_random() -> None:
    assert looks_random(RANDOM)
    assert looks_random("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert not looks_random("short1A")
    assert not looks_random("words-joined-by-dashes-only")
    assert not looks_random("has spaces in it 12345 abc")


def test_name_hint_ignores_descriptors() -> None:
    assert name_hint("DB_PASSWORD") == "a password"
    assert name_hint("db.password") == "a password"
    assert name_hint("PASSWORD_PATH") is None
    assert name_hint("BYPASS_CACHE") is None
    assert name_hint("") is None
