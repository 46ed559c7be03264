"""IM-001: an image that runs whatever was pushed last (the latest tag, or no tag)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.im._container import container_image, image_path


@container_rule(
    id="IM-001",
    name="image-tag-latest",
    title="Container image uses the latest tag or no tag",
    severity=Severity.MEDIUM,
    area=Area.REGISTRIES,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["pod-security.secure-images"],
        "owasp-k8s-2022": ["K02"],
        "mitre-attack": ["T1525"],
    },
    remediation="Reference a versioned tag (and preferably a digest): image: registry/app:1.4.2@sha256:…",
)
def image_tag_latest(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
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
    raw, image = container_image(container)
    if image is None:
        yield Violation(
            f'container "{container.name}" has image reference {raw!r}, which cannot be parsed;'
            " its version cannot be checked",
            image_path(container),
            severity=Severity.LOW,
        )
        return
    if image.mutable_latest:
        how = "uses the latest tag" if image.tag == "latest" else "has no tag (the runtime pulls latest)"
        yield Violation(f'container "{container.name}" image {raw} {how}', image_path(container))
