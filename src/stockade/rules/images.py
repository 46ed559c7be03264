"""IM: trusted registries — where images come from and whether what runs is what was reviewed."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from stockade.model.finding import Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._imageref import ImageRef, RegistryPattern, parse_image, parse_registry_pattern
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, RuleNotApplicable, Scope, Violation, rule

REGISTRIES = "registries"


def _image(container: ContainerRef) -> tuple[object, ImageRef | None]:
    raw = container.spec.get("image")
    return raw, parse_image(raw)


def _image_path(container: ContainerRef) -> tuple[str | int, ...]:
    return (*container.path, "image")


@rule(
    id="IM-001",
    name="image-tag-latest",
    title="Container image uses the latest tag or no tag",
    severity=Severity.MEDIUM,
    area=REGISTRIES,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525"],
    },
    remediation="Reference a versioned tag (and preferably a digest): image: registry/app:1.4.2@sha256:…",
)
def image_tag_latest(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container image uses the latest tag or no tag.

    ## What it does
    Flags containers whose image has the tag `latest`, or no tag at all (which the runtime reads as
    `latest`), and no digest. An image reference that cannot be parsed is reported too (low
    severity), since nothing can be said about its version. A registry port is not a tag:
    `localhost:5000/app` has no tag.

    ## Why is this bad?
    `latest` names whatever was pushed last. Two nodes can run different code under the same spec,
    a rollback has nothing to roll back to, and anyone who can push to the repository changes what
    runs in the cluster on the next pod start. Knowing what runs is the first step of trusting it.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: nginx
            - name: metrics
              image: registry.example.com/ops/exporter:latest
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: registry.example.com/mirror/nginx:1.27.3
            - name: metrics
              image: registry.example.com/ops/exporter@sha256:0a6c3b2f1e4d5c6b7a8990a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5
    ```

    ## Remediation
    Build images with a version tag (a release number or the commit) and deploy that tag, ideally
    together with its digest (`app:1.4.2@sha256:…`) so the tag stays readable and the content fixed.

    ## References
    - https://kubernetes.io/docs/concepts/containers/images/#image-names
    - https://kubernetes.io/docs/concepts/configuration/overview/#container-images
    """
    raw, image = _image(container)
    if raw is None or raw == "":
        return
    if image is None:
        yield Violation(
            f'container "{container.name}" has image reference {raw!r}, which cannot be parsed;'
            " its version cannot be checked",
            _image_path(container),
            severity=Severity.LOW,
        )
        return
    if image.mutable_latest:
        how = "uses the latest tag" if image.tag == "latest" else "has no tag (the runtime pulls latest)"
        yield Violation(f'container "{container.name}" image {raw} {how}', _image_path(container))


@rule(
    id="IM-002",
    name="image-not-pinned-by-digest",
    title="Container image is not pinned by digest",
    severity=Severity.LOW,
    area=REGISTRIES,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.5.1"],
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525", "T1204.003"],
    },
    remediation="Append the image digest: image: registry/app:1.4.2@sha256:<digest> (crane digest / docker buildx imagetools).",
)
def image_not_pinned_by_digest(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container image is not pinned by digest.

    ## What it does
    Flags containers whose image reference has no `@sha256:…` digest, whatever its tag. Image
    references that cannot be parsed are left to IM-001.

    ## Why is this bad?
    Tags are mutable pointers: a registry compromise, a careless re-push or a typo-squatted mirror
    changes the bytes behind `app:1.4.2` without any change to the manifest. A digest names the
    content itself, and it is what signature verification (the walk stage of trusted registries)
    actually signs and checks.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1@sha256:9b2a6f0c7d4e3a1b5c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b
    ```

    ## Remediation
    Resolve the tag to its digest at build or release time (`crane digest`, `docker buildx
    imagetools inspect`) and write both into the manifest; let a bot (Renovate, Dependabot) bump
    them together.

    ## References
    - https://kubernetes.io/docs/concepts/containers/images/#image-names
    - https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
    """
    raw, image = _image(container)
    if image is not None and not image.pinned:
        yield Violation(f'container "{container.name}" image {raw} is not pinned by digest', _image_path(container))


@lru_cache(maxsize=64)
def _allow_list(entries: tuple[str, ...]) -> tuple[RegistryPattern, ...]:
    return tuple(p for p in (parse_registry_pattern(e) for e in entries) if p is not None)


@rule(
    id="IM-003",
    name="image-registry-not-allowed",
    title="Container image comes from a registry outside the allow-list",
    severity=Severity.HIGH,
    area=REGISTRIES,
    stage=Stage.RUN,
    scope=Scope.CONTAINER,
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
    `docker.io/library/nginx`; `index.docker.io` is the same registry). An image reference that
    cannot be parsed fails, because its registry is unknown. The rule is skipped when no allow-list
    is configured.

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
    raw, image = _image(container)
    if raw is None or raw == "":
        return
    if image is None:
        yield Violation(
            f'container "{container.name}" has image reference {raw!r}, which cannot be parsed;'
            " its registry is unknown",
            _image_path(container),
        )
        return
    patterns = _allow_list(tuple(entries))
    if not any(pattern.matches(image) for pattern in patterns):
        allowed = ", ".join(str(p) for p in patterns) or "none"
        yield Violation(
            f'container "{container.name}" pulls {image.name} from {image.registry},'
            f" which is not an allowed registry (allowed: {allowed})",
            _image_path(container),
        )


def _default_pull_policy(image: ImageRef) -> str:
    # The API server's defaulting: Always for the latest tag (or none, which means latest),
    # IfNotPresent otherwise, including digest-only references.
    return "Always" if image.mutable_latest else "IfNotPresent"


@rule(
    id="IM-004",
    name="mutable-image-not-always-pulled",
    title="Mutable image is not pulled on every start",
    severity=Severity.LOW,
    area=REGISTRIES,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525"],
    },
    remediation="Pin the image by digest, or set imagePullPolicy: Always.",
)
def mutable_image_not_always_pulled(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Mutable image is not pulled on every start.

    ## What it does
    Flags containers whose image is referenced by tag only (no digest) and whose effective
    `imagePullPolicy` is not `Always`. When the field is unset the API server defaults it to
    `Always` for `:latest` or an untagged image and to `IfNotPresent` for any other tag, so
    `app:1.4.2` without a policy is flagged while `app:latest` is not (IM-001 covers that one).
    Digest-pinned images pass: their content cannot change.

    ## Why is this bad?
    With `IfNotPresent` or `Never` the kubelet starts whatever image the node cached under that
    tag. A pod in another namespace can then run a private image pulled earlier by someone else,
    without pull credentials, and nodes drift apart when the tag is re-pushed.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          imagePullPolicy: Always
        - name: sidecar
          image: registry.example.com/ops/proxy:1.9@sha256:1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d
    ```

    ## Remediation
    Prefer pinning by digest (then `IfNotPresent` is safe and fast); otherwise set
    `imagePullPolicy: Always`. Cluster-wide, the `AlwaysPullImages` admission plugin forces it.

    ## References
    - https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy
    - https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#alwayspullimages
    """
    raw, image = _image(container)
    if image is None or image.pinned:
        return
    policy = container.spec.get("imagePullPolicy")
    if policy is None or policy == "":
        effective = _default_pull_policy(image)
        source = f"{effective} (the default for a tag other than latest)"
    else:
        effective = policy if isinstance(policy, str) else repr(policy)
        source = effective
    if effective != "Always":
        yield Violation(
            f'container "{container.name}" pulls mutable image {raw} with imagePullPolicy {source}',
            (*container.path, "imagePullPolicy") if policy is not None else _image_path(container),
            remediation=container_patch(container, {"imagePullPolicy": "Always"}),
        )
