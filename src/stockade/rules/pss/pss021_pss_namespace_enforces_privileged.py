"""PSS-021: a Namespace that enforces the privileged Pod Security level."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.pss.namespaces import level_label
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.pss._namespaces import NAMESPACE_FRAMEWORKS


@object_rule(
    id="PSS-021",
    name="pss-namespace-enforces-privileged",
    title="Namespace explicitly enforces the privileged level",
    severity=Severity.MEDIUM,
    area=Area.ADMISSION,
    stage=Stage.WALK,
    kinds=["Namespace"],
    frameworks=NAMESPACE_FRAMEWORKS,
    remediation="Enforce baseline or restricted; keep privileged for dedicated system namespaces, waived with a reason.",
)
def pss_namespace_enforces_privileged(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace explicitly enforces the privileged level.

    ## What it does
    Flags Namespace objects labelled `pod-security.kubernetes.io/enforce: privileged`.

    ## Why is this bad?
    The label opts the namespace out of Pod Security admission: privileged containers, host
    namespaces and hostPath volumes are all admitted. Node agents (CNI, CSI, log collectors) need
    it; application namespaces should not have it.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: payments
      labels:
        pod-security.kubernetes.io/enforce: privileged
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: payments
      labels:
        pod-security.kubernetes.io/enforce: restricted
        pod-security.kubernetes.io/enforce-version: v1.33
    ```

    ## Remediation
    Label the namespace `baseline` or `restricted`. For a system namespace that needs privileged
    pods, waive this rule with `stockade.io/ignore: PSS-021` and a `stockade.io/ignore-reason`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    """
    if namespace.labels.get(level_label("enforce")) == "privileged":
        yield Violation(
            f'namespace "{namespace.name}" enforces the privileged Pod Security level: every pod is admitted',
            ("metadata", "labels", level_label("enforce")),
            remediation=f"kubectl label --overwrite namespace {shlex.quote(namespace.name)} {level_label('enforce')}=baseline",
        )
