"""The image reference parser and the allow-list entries IM rules stand on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockade.rules.im._imageref import AllowListEntryError, ImageRef, parse_image, parse_registry_pattern

DIGEST = "sha256:" + "ab" * 32


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
        # Entries with a tag or digest name one image.
        ("registry.example.com/app:1.2", "registry.example.com/app:1.2", True),
        ("registry.example.com/app:1.2", "registry.example.com/app:1.3", False),
        ("registry.example.com/app:1.2", "registry.example.com/app", False),
        ("registry.example.com/app:1.2", "registry.example.com/app/sub:1.2", False),
        ("registry.example.com/app:1.2", f"registry.example.com/app:1.2@sha256:{'a' * 64}", False),
        (f"registry.example.com/app@sha256:{'a' * 64}", f"registry.example.com/app:9@sha256:{'a' * 64}", True),
        (f"registry.example.com/app@sha256:{'a' * 64}", f"registry.example.com/app@sha256:{'b' * 64}", False),
        ("nginx:1.27", "docker.io/library/nginx:1.27", True),
        ("index.docker.io/library/nginx:1.27", "nginx:1.27", True),
        ("localhost:5000/app:1", "localhost:5000/app:1", True),
        ("*.dkr.ecr.eu-west-1.amazonaws.com/app:1", "1234.dkr.ecr.eu-west-1.amazonaws.com/app:1", True),
        ("*.dkr.ecr.eu-west-1.amazonaws.com/app:1", "1234.dkr.ecr.eu-west-1.amazonaws.com/app:2", False),
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


@pytest.mark.parametrize(
    "entry", ["registry.example.com/App:1", "registry.example.com/app:", "ghcr.io/acme/app@md5:12", "nginx:bad tag"]
)
def test_an_invalid_image_entry_is_an_error_not_an_entry_that_allows_nothing(entry: str) -> None:
    with pytest.raises(AllowListEntryError, match="not a valid image reference"):
        parse_registry_pattern(entry)


def test_image_entries_print_as_the_image_they_allow() -> None:
    assert str(parse_registry_pattern("nginx:1.27")) == "docker.io/library/nginx:1.27"
    assert str(parse_registry_pattern("localhost:5000")) == "localhost:5000"
