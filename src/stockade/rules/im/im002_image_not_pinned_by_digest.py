"""IM-002: an image referenced by a mutable tag instead of a digest."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.im._container import container_image, image_path


@container_rule(
    id="IM-002",
    name="image-not-pinned-by-digest",
    title="Container image is not pinned by digest",
    severity=Severity.LOW,
    area=Area.REGISTRIES,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.5.1"],
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525", "T1204.003"],
    },
    remediation="Append the image digest: image: registry/app:1.4.2@sha256:<digest> (crane digest / docker buildx imagetools).",
)
def image_not_pinned_by_digest(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container image is not pinned by digest.

    ## What it does
    Flags containers whose image reference has no valid digest, whatever its tag. A digest is
    valid only as the runtime verifies it: `sha256:` with 64, `sha384:` with 96 or `sha512:` with
    128 lower-case hex characters; `@md5:…`, upper-case hex or a short digest is not a pin (the
    kubelet refuses to pull it), so such references, like any that cannot be parsed, are flagged.
    A container without an image is an error finding (the API server rejects it).

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
    raw, image = container_image(container)
    if image is None:
        yield Violation(
            f'container "{container.name}" has image reference {raw!r}, which cannot be parsed, so it is not'
            " pinned by a valid digest (sha256: 64, sha384: 96 or sha512: 128 lower-case hex characters)",
            image_path(container),
        )
    elif not image.pinned:
        yield Violation(f'container "{container.name}" image {raw} is not pinned by digest', image_path(container))
