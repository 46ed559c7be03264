"""WL-013: a container without AppArmor confinement (explicit profiles are judged by the Pod
Security ``appArmorProfile`` check; leaving it unset is this rule's own, low-severity finding)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.pss.baseline import APPARMOR_ANNOTATION_PREFIX
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, pod_context
from stockade.rules.wl._verdict import verdict

POD_FIELD = "spec.securityContext.appArmorProfile"


@container_rule(
    id="WL-013",
    name="apparmor-unconfined",
    title="Container runs without AppArmor confinement",
    severity=Severity.LOW,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.RUN,
    frameworks={
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set securityContext.appArmorProfile.type: RuntimeDefault (Kubernetes 1.30+).",
)
def apparmor_unconfined(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container runs without AppArmor confinement.

    ## What it does
    Flags containers whose AppArmor profile (the `appArmorProfile` field of the container or pod
    securityContext, or the beta annotation) is `Unconfined` (medium) or unset (low). On nodes
    without AppArmor the field has no effect; Windows pods are not checked.

    ## Why is this bad?
    The runtime's default AppArmor profile denies writes to `/proc` and `/sys` and mounts, which
    blocks several known container escapes.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: api
      namespace: shop
      annotations:
        container.apparmor.security.beta.kubernetes.io/api: unconfined
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      securityContext:
        appArmorProfile: {type: RuntimeDefault}
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Set `appArmorProfile: {type: RuntimeDefault}` in the pod securityContext.

    ## References
    - https://kubernetes.io/docs/tutorials/security/apparmor/
    """
    if container.pod.view.windows:
        return
    denied = verdict(ctx, container.pod, "appArmorProfile")
    own = container_context(container).get("appArmorProfile")
    if own is not None:
        profile, field = own, f"{container.view.field}.securityContext.appArmorProfile"
    else:
        profile, field = pod_context(container.pod).get("appArmorProfile"), POD_FIELD
    kind = None
    if profile is not None:
        if denied is not None:
            denied.require_well_formed(field)
            denied.require_well_formed(field + ".type")
        kind = profile.get("type")
    if kind is None:
        key = APPARMOR_ANNOTATION_PREFIX + container.name
        legacy = container.pod.annotations.get(key)
        if denied is not None:
            denied.require_well_formed(f"metadata.annotations[{key}]")
        if isinstance(legacy, str):
            forbidden = denied is not None and denied.flags(f"metadata.annotations[{key}]")
            kind = "Unconfined" if legacy == "unconfined" else (legacy if forbidden else "RuntimeDefault")
    if kind in ("RuntimeDefault", "Localhost"):
        return
    fix = container_patch(container, {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}})
    if kind == "Unconfined":
        yield Violation(
            f'container "{container.name}" runs AppArmor-unconfined',
            container.path,
            severity=Severity.MEDIUM,
            remediation=fix,
        )
    else:
        yield Violation(f'container "{container.name}" sets no AppArmor profile', container.path, remediation=fix)
