"""IM-003: an image pulled from a registry outside the configured allow-list."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules.base import RuleContext, RuleNotApplicable, Violation, container_rule
from stockade.rules.im._container import container_image, image_path
from stockade.rules.im._imageref import ImageRef, RegistryPattern, parse_registry_pattern


@lru_cache(maxsize=64)
def _allow_list(entries: tuple[str, ...]) -> tuple[RegistryPattern, ...]:
    return tuple(p for p in (parse_registry_pattern(e) for e in entries) if p is not None)


@container_rule(
    id="IM-003",
    name="image-registry-not-allowed",
    title="Container image comes from a registry outside the allow-list",
    severity=Severity.HIGH,
    area=Area.REGISTRIES,
    stage=Stage.RUN,
    frameworks={
        "cis-1.10": ["5.5.1"],
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02", "K04"],
        "owasp-k8s-2025": ["K04"],
        "mitre-attack": ["T1204.003", "T1525"],
    },
    remediation="Mirror the image into an allowed registry and reference it there.",
)
def image_registry_not_allowed(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container image comes from a registry outside the allow-list.

    ## What it does
    Compares every container image with the allow-list given by `--allowed-registries`. An entry
    is a registry host (`registry.example.com`, `localhost:5000`, `*.dkr.ecr.eu-west-1.amazonaws.com`)
    or a host and path prefix (`ghcr.io/acme/`, which allows `ghcr.io/acme/app` but not
    `ghcr.io/acmex/app`). Images without a registry come from `docker.io` (`nginx` is
    `docker.io/library/nginx`; `index.docker.io` is the same registry). An entry with a tag or a
    digest allows that one image: `registry.example.com/app:1.2` allows the image
    `registry.example.com/app:1.2` and no other tag, nor a reference with a digest (the digest, not
    the tag, is what gets pulled); `registry.example.com/app@sha256:…` allows that digest. Such an
    entry is read as the runtime reads an image reference (`nginx:1.27` is
    `docker.io/library/nginx:1.27`), and one that is not a valid reference is an error, never
    silently ignored. An image reference that cannot be parsed fails, because its registry is
    unknown. The rule is skipped when no allow-list is configured.

    ## Why is this bad?
    Every registry a cluster pulls from is part of its supply chain. An image from an arbitrary
    public repository can carry a miner or a backdoor; restricting pulls to registries you control
    (and scan and sign) is the run stage of trusted registries.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cache, namespace: shop}
    spec:
      selector: {matchLabels: {app: cache}}
      template:
        metadata: {labels: {app: cache}}
        spec:
          containers:
            - name: redis
              image: redis:7.4.1
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: cache, namespace: shop}
    spec:
      selector: {matchLabels: {app: cache}}
      template:
        metadata: {labels: {app: cache}}
        spec:
          containers:
            - name: redis
              image: registry.example.com/mirror/redis:7.4.1
    ```

    ## Remediation
    Mirror third-party images into your registry (`crane copy redis:7.4.1
    registry.example.com/mirror/redis:7.4.1`), scan them there, and enforce the same allow-list at
    admission so new workloads cannot bypass it.

    ## References
    - https://kubernetes.io/docs/concepts/containers/images/
    - https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#imagepolicywebhook
    """
    entries = ctx.config.allowed_registries
    if entries is None:
        raise RuleNotApplicable("no registry allow-list configured (--allowed-registries)")
    raw, image = container_image(container)
    if image is None:
        yield Violation(
            f'container "{container.name}" has image reference {raw!r}, which cannot be parsed;'
            " its registry is unknown",
            image_path(container),
        )
        return
    patterns = _allow_list(tuple(entries))
    if any(pattern.matches(image) for pattern in patterns):
        return
    allowed = ", ".join(str(p) for p in patterns) or "none"
    if any(p.is_image and p.matches(ImageRef(image.registry, image.repository, p.tag, p.digest)) for p in patterns):
        what = f"pulls {image}, which is not an allowed image of {image.name}"
    else:
        what = f"pulls {image.name} from {image.registry}, which is not an allowed registry"
    yield Violation(f'container "{container.name}" {what} (allowed: {allowed})', image_path(container))
