"""IM-004: a mutable image that the kubelet may start from a node's cache."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.im._container import container_image, image_path
from stockade.rules.im._imageref import ImageRef


def _default_pull_policy(image: ImageRef) -> str:
    # The API server's defaulting: Always for the latest tag (or none, which means latest),
    # IfNotPresent otherwise, including digest-only references.
    return "Always" if image.mutable_latest else "IfNotPresent"


@container_rule(
    id="IM-004",
    name="mutable-image-not-always-pulled",
    title="Mutable image is not pulled on every start",
    severity=Severity.LOW,
    area=Area.REGISTRIES,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525"],
    },
    remediation="Pin the image by digest, or set imagePullPolicy: Always.",
)
def mutable_image_not_always_pulled(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
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
    raw, image = container_image(container)
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
            (*container.path, "imagePullPolicy") if policy is not None else image_path(container),
            remediation=container_patch(container, {"imagePullPolicy": "Always"}),
        )
