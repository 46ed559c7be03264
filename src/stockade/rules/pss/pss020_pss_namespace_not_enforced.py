"""PSS-020: a Namespace without a ``pod-security.kubernetes.io/enforce`` label."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.pss.namespaces import level_label
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.pss._namespaces import NAMESPACE_FRAMEWORKS


@object_rule(
    id="PSS-020",
    name="pss-namespace-not-enforced",
    title="Namespace does not enforce a Pod Security level",
    severity=Severity.MEDIUM,
    area=Area.ADMISSION,
    stage=Stage.WALK,
    kinds=["Namespace"],
    frameworks=NAMESPACE_FRAMEWORKS,
    remediation="Label the namespace pod-security.kubernetes.io/enforce=baseline (or restricted), with an enforce-version.",
)
def pss_namespace_not_enforced(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace does not enforce a Pod Security level.

    ## What it does
    Flags Namespace objects without a `pod-security.kubernetes.io/enforce` label. The admission
    plugin then applies the cluster default, which is `privileged` (nothing refused) unless the
    API server's admission configuration says otherwise. Namespaces that objects in the input only
    mention are not flagged: their Namespace object, and so their labels, are not known.

    ## Why is this bad?
    Auditing privileged pods is the crawl stage; the walk stage is admission refusing them. Without
    an enforce label any pod, privileged or not, is admitted to the namespace.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/warn: restricted
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: baseline
        pod-security.kubernetes.io/enforce-version: v1.33
        pod-security.kubernetes.io/warn: restricted
        pod-security.kubernetes.io/warn-version: v1.33
    ```

    ## Remediation
    Run `stockade pss evaluate --level baseline` over the namespace's workloads, fix what it
    denies, then label the namespace `pod-security.kubernetes.io/enforce: baseline` (pinning
    `enforce-version` to the cluster's minor). Use `warn` and `audit` at `restricted` to see the
    next step coming.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    - https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/
    """
    if level_label("enforce") not in namespace.labels:
        yield Violation(
            f'namespace "{namespace.name}" has no {level_label("enforce")} label: '
            "Pod Security admission applies the cluster default (privileged unless configured), so privileged pods are admitted",
            ("metadata", "labels") if namespace.labels else ("metadata",),
            remediation=f"kubectl label namespace {shlex.quote(namespace.name)} {level_label('enforce')}=baseline "
            f"{level_label('enforce')}-version=latest",
        )
