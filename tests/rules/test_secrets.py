"""SC rules and their heuristics. Planted credentials must never come back in any finding."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Finding, Severity, Status
from stockade.model.result import ScanResult
from stockade.rules import load_rules
from stockade.rules._secrets import classify, classify_file, looks_random, name_hint, shannon_entropy
from stockade.rules.base import RuleConfig
from tests.helpers import inventory_from_raw

RULES = load_rules()
IMAGE = "registry.example.com/shop/api:2.3.1"

# Planted credentials. All are fake: documented example keys or random strings made for this test.
AWS_KEY = "AKIAZ7Q3EXAMPLE4KXW2"
GITHUB = "ghp_" + "x7Kq2Lm9Nb4Vc8Zt1Rw5Ys3Pd6Hf0Jg2Ae4U"
SLACK = "xoxb-1234567890-abcdefghijkl"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxkq\n-----END RSA PRIVATE KEY-----\n"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLW5vdC1yZWFs"
RANDOM = "q8Zr2Xk9Lw4Vb7Nm1Pt6Yc3Hd5Jf0Gs"
PASSWORD = "Tr0ub4dor&3-horse"
URL_PASSWORD = "postgres://app:Hx92-kLq7@db.shop:5432/app"
PLANTED = {
    "AWS_KEY": AWS_KEY,
    "GITHUB": GITHUB,
    "SLACK": SLACK,
    "PEM": PEM,
    "JWT": JWT,
    "RANDOM": RANDOM,
    "PASSWORD": PASSWORD,
    "URL": URL_PASSWORD,
}
# Fragments of the planted values that must not leak either (a truncated secret is still a leak).
FRAGMENTS = ("Z7Q3EXAMPLE", "x7Kq2Lm9", "abcdefghijkl", "MIIEowIBAAKCAQEAxkq", "c2lnbmF0dXJl", "q8Zr2Xk9", "Tr0ub4dor",
             "Hx92-kLq7")  # fmt: skip


def pod(env: object = None, env_from: object = None, name: str = "api") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "api", "image": IMAGE}
    if env is not None:
        container["env"] = env
    if env_from is not None:
        container["envFrom"] = env_from
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [container]},
    }


def configmap(data: object = None, binary: object = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}
    if data is not None:
        obj["data"] = data
    if binary is not None:
        obj["binaryData"] = binary
    return obj


def scan(rule_ids: tuple[str, ...], *objects: dict[str, Any], config: RuleConfig | None = None) -> ScanResult:
    result = evaluate(inventory_from_raw(objects), [RULES[r] for r in rule_ids], config=config)
    assert not [f for f in result.findings if f.status is Status.ERROR], result.findings
    return result


def failures(rule_id: str, *objects: dict[str, Any], config: RuleConfig | None = None) -> list[Finding]:
    return scan((rule_id,), *objects, config=config).failed


def assert_no_leak(findings: list[Finding]) -> None:
    for finding in findings:
        text = " ".join((finding.message, finding.remediation, finding.path, finding.fingerprint))
        for value in (*PLANTED.values(), *FRAGMENTS):
            assert value not in text, (value, finding)


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


# -- SC-001 ---------------------------------------------------------------------------------------


def test_env_values_fire_with_reasons_and_without_values() -> None:
    env = [{"name": f"VAR_{key}", "value": value} for key, value in PLANTED.items()]
    env[-2]["name"] = "DB_PASSWORD"  # the plain password is only recognisable by its name
    env.append({"name": "LOG_LEVEL", "value": "info"})
    found = failures("SC-001", pod(env))
    assert len(found) == len(PLANTED)
    by_path = {f.path: f for f in found}
    assert "AWS access key" in by_path["spec.containers[0].env[0].value"].message
    assert by_path["spec.containers[0].env[0].value"].severity is Severity.CRITICAL
    password = by_path["spec.containers[0].env[6].value"]
    assert (
        password.message == 'env var "DB_PASSWORD" of container "api" holds a literal value: name looks like a password'
    )
    assert password.severity is Severity.HIGH
    assert "high entropy" in by_path["spec.containers[0].env[5].value"].message
    assert_no_leak(found)


def test_no_rule_leaks_a_planted_value() -> None:
    env = [{"name": f"{key}_PASSWORD", "value": value} for key, value in PLANTED.items()]
    objects = [pod(env), configmap({f"{k.lower()}-token": v for k, v in PLANTED.items()})]
    result = evaluate(inventory_from_raw(objects), list(RULES.values()), include_passed=True)
    assert result.failed
    assert_no_leak(result.findings)


def test_value_from_and_references_are_not_literals() -> None:
    env = [
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "DSN", "value": "postgres://app:$(DB_PASSWORD)@db:5432/app"},
    ]
    assert failures("SC-001", pod(env)) == []


@pytest.mark.parametrize(
    "env",
    ["DB_PASSWORD=x", {"DB_PASSWORD": "x"}, [None, "x", 3], [{"name": "DB_PASSWORD", "value": 12345}]],
)
def test_malformed_env_does_not_error(env: object) -> None:
    assert failures("SC-001", pod(env)) == []


def test_env_entry_without_a_name() -> None:
    [finding] = failures("SC-001", pod([{"value": AWS_KEY}]))
    assert 'env var "env[0]"' in finding.message
    assert_no_leak([finding])


def test_entropy_threshold_comes_from_config() -> None:
    env = [{"name": "SEED", "value": RANDOM}]
    assert len(failures("SC-001", pod(env))) == 1
    assert failures("SC-001", pod(env), config=RuleConfig(secret_entropy_threshold=6.0)) == []


# -- SC-002 ---------------------------------------------------------------------------------------


def test_configmap_keys() -> None:
    data = {"db-password": PASSWORD, "LOG_LEVEL": "info", "aws": AWS_KEY, "enabled": "true"}
    found = failures("SC-002", configmap(data))
    assert sorted(f.path for f in found) == ["data.aws", "data.db-password"]
    assert_no_leak(found)
    messages = " ".join(f.message for f in found)
    assert 'ConfigMap key "db-password" (data) looks like a credential: name looks like a password' in messages


def test_configmap_files_name_the_line() -> None:
    properties = f"server.port=8080\nspring.datasource.username=app\nspring.datasource.password={PASSWORD}\n"
    [finding] = failures("SC-002", configmap({"application.properties": properties}))
    assert "line 3 sets 'spring.datasource.password', which looks like a password" in finding.message
    assert_no_leak([finding])


def test_configmap_yaml_file_with_placeholders_passes() -> None:
    config = 'database:\n  host: db\n  password: "${DB_PASSWORD}"\n  token: ""\nfeatures:\n  auth: true\n'
    assert failures("SC-002", configmap({"config.yaml": config})) == []


def test_configmap_file_with_embedded_key() -> None:
    [finding] = failures("SC-002", configmap({"bundle.pem": "# cert bundle\n" + PEM}))
    assert finding.severity is Severity.CRITICAL
    assert "private key (PEM)" in finding.message
    assert_no_leak([finding])


def test_configmap_binary_data() -> None:
    encoded = base64.b64encode(PEM.encode()).decode()
    harmless = base64.b64encode(bytes(range(256))).decode()
    found = failures("SC-002", configmap(binary={"key.der": encoded, "blob": harmless, "bad": "%%%not base64"}))
    assert [f.path for f in found] == ["binaryData.key.der"]
    assert found[0].severity is Severity.CRITICAL
    assert encoded not in found[0].message


@pytest.mark.parametrize("data", [["a", "b"], "password=x", {"n": 1, "m": None, 3: "x"}])
def test_malformed_configmap_does_not_error(data: object) -> None:
    assert failures("SC-002", configmap(data, binary=data)) == []


# -- SC-003 ---------------------------------------------------------------------------------------


def test_secret_references_in_env() -> None:
    env = [
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "PLAIN", "value": "x"},
    ]
    env_from = [{"secretRef": {"name": "api-keys"}}, {"configMapRef": {"name": "cfg"}}]
    found = failures("SC-003", pod(env, env_from))
    assert {(f.path, f.message) for f in found} == {
        (
            "spec.containers[0].env[0].valueFrom.secretKeyRef",
            'container "api" reads key "password" of Secret "db" into env var "DB_PASSWORD"',
        ),
        (
            "spec.containers[0].envFrom[0].secretRef",
            'container "api" loads every key of Secret "api-keys" as environment variables (envFrom)',
        ),
    }
    assert len(found) == 2


def test_volume_mounted_secret_passes() -> None:
    obj = pod([{"name": "DB_PASSWORD_FILE", "value": "/etc/db/password"}])
    obj["spec"]["volumes"] = [{"name": "db", "secret": {"secretName": "db"}}]
    assert failures("SC-003", obj) == []


@pytest.mark.parametrize(
    ("env", "env_from"),
    [("x", "y"), ([{"valueFrom": "secretKeyRef"}], [{"secretRef": "api-keys"}]), ([3], [None])],
)
def test_malformed_references_do_not_error(env: object, env_from: object) -> None:
    assert failures("SC-003", pod(env, env_from)) == []
