"""IM rules and the image reference parser they stand on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Finding, Severity, Status
from stockade.model.result import ScanResult
from stockade.rules import load_rules
from stockade.rules._imageref import ImageRef, parse_image, parse_registry_pattern
from stockade.rules.base import RuleConfig
from tests.helpers import inventory_from_raw

RULES = load_rules()
DIGEST = "sha256:" + "ab" * 32


def scan(rule_id: str, *containers: dict[str, Any], config: RuleConfig | None = None) -> ScanResult:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"containers": list(containers)},
    }
    result = evaluate(inventory_from_raw([pod]), [RULES[rule_id]], config=config)
    assert not [f for f in result.findings if f.status is Status.ERROR], result.findings
    return result


def failures(rule_id: str, *containers: dict[str, Any], config: RuleConfig | None = None) -> list[Finding]:
    return [f for f in scan(rule_id, *containers, config=config).findings if f.status is Status.FAIL]


def container(image: object, **fields: object) -> dict[str, Any]:
    return {"name": "c", "image": image, **fields}


# -- parser ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("library/nginx:latest", "docker.io", "library/nginx", "latest", None),
        ("bitnami/redis:7.4", "docker.io", "bitnami/redis", "7.4", None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("localhost:5000/app:1.0", "localhost:5000", "app", "1.0", None),
        ("localhost/app", "localhost", "app", None, None),
        ("Registry.Example.com/team/app:v1", "registry.example.com", "team/app", "v1", None),
        (
            "registry.example.com:443/team/sub/app:v1@" + DIGEST,
            "registry.example.com:443",
            "team/sub/app",
            "v1",
            DIGEST,
        ),
        ("ghcr.io/acme/app@" + DIGEST, "ghcr.io", "acme/app", None, DIGEST),
        ("[::1]:5000/app:tag", "[::1]:5000", "app", "tag", None),
        ("quay.io/org/my_app-x:1.0-rc.1", "quay.io", "org/my_app-x", "1.0-rc.1", None),
    ],
)
def test_parse_image(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    assert parse_image(text) == ImageRef(registry, repository, tag, digest)


@pytest.mark.parametrize(
    "text",
    ["", " nginx", "Nginx", "app:", "app@sha256:abc", "app:bad/tag", "${IMAGE}", "{{ .Values.image }}",
     "a//b", "registry.example.com/", "app:-x", 42, None, ["nginx"]],
)  # fmt: skip
def test_parse_image_rejects(text: object) -> None:
    assert parse_image(text) is None


_component = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
# Without a registry, a first component with a dot would be read as a registry host (as Docker does).
_first_component = st.from_regex(r"[a-z0-9]{1,8}(?:[_-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_host = st.from_regex(r"[a-z0-9]{1,10}\.[a-z]{2,5}", fullmatch=True)
_port = st.none() | st.integers(min_value=1, max_value=65535)
_tag = st.none() | st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_digest = st.none() | st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True)


@given(
    host=st.none() | _host,
    port=_port,
    first=_first_component,
    rest=st.lists(_component, max_size=3),
    tag=_tag,
    digest=_digest,
)
def test_parse_image_recovers_the_parts(
    host: str | None, port: int | None, first: str, rest: list[str], tag: str | None, digest: str | None
) -> None:
    path = [first, *rest]
    registry = None if host is None else host + (f":{port}" if port is not None else "")
    text = "/".join(([registry] if registry else []) + path)
    text += f":{tag}" if tag is not None else ""
    text += f"@{digest}" if digest is not None else ""
    image = parse_image(text)
    assert image is not None
    expected_repository = "/".join(path)
    if registry is None or registry == "docker.io":
        assert image.registry == "docker.io"
        if len(path) == 1:
            expected_repository = f"library/{path[0]}"
    else:
        assert image.registry == registry
    assert image.repository == expected_repository
    assert image.tag == tag
    assert image.digest == digest
    assert image.pinned is (digest is not None)
    assert parse_image(str(image)) == image  # the canonical form reads back the same


@given(st.text(max_size=200))
def test_parse_image_never_raises(text: str) -> None:
    image = parse_image(text)
    assert image is None or parse_image(str(image)) == image


# -- allow-list entries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "image", "allowed"),
    [
        ("registry.example.com", "registry.example.com/a/b:1", True),
        ("registry.example.com", "registry.example.com.evil.io/a:1", False),
        ("REGISTRY.example.com", "registry.example.com/a:1", True),
        ("https://registry.example.com/", "registry.example.com/a:1", True),
        ("ghcr.io/acme/", "ghcr.io/acme/app:1", True),
        ("ghcr.io/acme", "ghcr.io/acme/team/app:1", True),
        ("ghcr.io/acme/", "ghcr.io/acmex/app:1", False),
        ("ghcr.io/acme/", "ghcr.io/other/acme:1", False),
        ("docker.io", "nginx", True),
        ("index.docker.io", "nginx:1.27", True),
        ("docker.io/library/", "nginx", True),
        ("docker.io/library/", "bitnami/redis", False),
        ("localhost:5000", "localhost:5000/app", True),
        ("localhost:5000", "localhost:5001/app", False),
        ("*.dkr.ecr.eu-west-1.amazonaws.com", "1234.dkr.ecr.eu-west-1.amazonaws.com/app:1", True),
        ("*.dkr.ecr.eu-west-1.amazonaws.com", "dkr.ecr.eu-west-1.amazonaws.com/app:1", False),
    ],
)
def test_registry_pattern(entry: str, image: str, allowed: bool) -> None:
    pattern = parse_registry_pattern(entry)
    ref = parse_image(image)
    assert pattern is not None and ref is not None
    assert pattern.matches(ref) is allowed


def test_registry_pattern_ignores_empty_entries() -> None:
    assert parse_registry_pattern("  ") is None
    assert parse_registry_pattern("/path") is None


# -- IM-001 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("image", ["nginx", "nginx:latest", "localhost:5000/app", "registry.example.com/a:latest"])
def test_latest_fires(image: str) -> None:
    [finding] = failures("IM-001", container(image))
    assert finding.path == "spec.containers[0].image"
    assert image in finding.message
    assert finding.severity is Severity.MEDIUM


@pytest.mark.parametrize("image", ["nginx:1.27", "localhost:5000/app:1.0", "nginx@" + DIGEST, "nginx:latest@" + DIGEST])
def test_latest_passes(image: str) -> None:
    assert failures("IM-001", container(image)) == []


def test_latest_message_tells_no_tag_from_latest() -> None:
    [untagged] = failures("IM-001", container("nginx"))
    [latest] = failures("IM-001", container("nginx:latest"))
    assert "no tag" in untagged.message
    assert "latest tag" in latest.message


@pytest.mark.parametrize("image", ["${IMAGE}", "Not A Ref", 42, ["nginx"], {"name": "nginx"}])
def test_unparseable_image_is_reported_low(image: object) -> None:
    [finding] = failures("IM-001", container(image))
    assert finding.severity is Severity.LOW
    assert "cannot be parsed" in finding.message


def test_missing_image_is_not_judged() -> None:
    assert failures("IM-001", {"name": "c"}) == []
    assert failures("IM-002", {"name": "c"}) == []
    assert failures("IM-004", {"name": "c"}) == []


def test_init_and_ephemeral_containers_are_checked() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {
            "initContainers": [container("busybox")],
            "containers": [container("nginx:1.27")],
            "ephemeralContainers": [container("debug:latest")],
        },
    }
    result = evaluate(inventory_from_raw([pod]), [RULES["IM-001"]])
    assert sorted(f.path for f in result.failed) == [
        "spec.ephemeralContainers[0].image",
        "spec.initContainers[0].image",
    ]


def test_malformed_container_lists_do_not_error() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app"},
        "spec": {"containers": "nginx", "initContainers": ["nginx", 3]},
    }
    result = evaluate(inventory_from_raw([pod]), [RULES[r] for r in ("IM-001", "IM-002", "IM-004")])
    assert result.findings == []


# -- IM-002 -----------------------------------------------------------------------------------------


def test_digest_rule() -> None:
    assert len(failures("IM-002", container("nginx:1.27"))) == 1
    assert len(failures("IM-002", container("nginx"))) == 1
    assert failures("IM-002", container("nginx@" + DIGEST)) == []
    assert failures("IM-002", container("registry.example.com/a:1.0@" + DIGEST)) == []
    assert failures("IM-002", container("${IMAGE}")) == [], "unparseable images are left to IM-001"


# -- IM-003 -----------------------------------------------------------------------------------------


def test_allow_list_absent_skips_the_rule() -> None:
    result = scan("IM-003", container("nginx"))
    assert result.findings == []
    assert result.skipped_rules == {"IM-003": "no registry allow-list configured (--allowed-registries)"}


def test_allow_list() -> None:
    config = RuleConfig(allowed_registries=("registry.example.com", "ghcr.io/acme/"))
    assert failures("IM-003", container("registry.example.com/a/b:1"), config=config) == []
    assert failures("IM-003", container("ghcr.io/acme/app:1"), config=config) == []
    [finding] = failures("IM-003", container("ghcr.io/acmex/app:1"), config=config)
    assert "ghcr.io/acmex/app" in finding.message
    assert "registry.example.com, ghcr.io/acme/" in finding.message
    [hub] = failures("IM-003", container("nginx"), config=config)
    assert "docker.io/library/nginx" in hub.message


def test_allow_list_docker_hub_spellings() -> None:
    config = RuleConfig(allowed_registries=("index.docker.io",))
    assert failures("IM-003", container("nginx"), config=config) == []
    assert failures("IM-003", container("docker.io/bitnami/redis:7"), config=config) == []
    assert len(failures("IM-003", container("quay.io/x/y:1"), config=config)) == 1


def test_empty_allow_list_allows_nothing() -> None:
    [finding] = failures("IM-003", container("registry.example.com/a:1"), config=RuleConfig(allowed_registries=()))
    assert "allowed: none" in finding.message


def test_unparseable_image_fails_the_allow_list() -> None:
    config = RuleConfig(allowed_registries=("registry.example.com",))
    [finding] = failures("IM-003", container("registry.example.com/${APP}"), config=config)
    assert "registry is unknown" in finding.message


# -- IM-004 -----------------------------------------------------------------------------------------


def test_pull_policy_defaults() -> None:
    [tagged] = failures("IM-004", container("registry.example.com/a:1.0"))
    assert "IfNotPresent (the default" in tagged.message
    assert tagged.path == "spec.containers[0].image"
    assert '"imagePullPolicy":"Always"' in tagged.remediation
    assert failures("IM-004", container("registry.example.com/a:latest")) == [], "latest defaults to Always"
    assert failures("IM-004", container("registry.example.com/a")) == [], "no tag defaults to Always"


@pytest.mark.parametrize(("policy", "fires"), [("Always", False), ("IfNotPresent", True), ("Never", True)])
def test_pull_policy_explicit(policy: str, fires: bool) -> None:
    found = failures("IM-004", container("registry.example.com/a:latest", imagePullPolicy=policy))
    assert bool(found) is fires
    if found:
        assert found[0].path == "spec.containers[0].imagePullPolicy"


def test_pull_policy_digest_is_immutable() -> None:
    image = container("registry.example.com/a:1.0@" + DIGEST, imagePullPolicy="IfNotPresent")
    assert failures("IM-004", image) == []


def test_pull_policy_of_wrong_type_is_reported_not_raised() -> None:
    [finding] = failures("IM-004", container("registry.example.com/a:1.0", imagePullPolicy=["Always"]))
    assert "['Always']" in finding.message
