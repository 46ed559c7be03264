"""PSS-023: a Namespace whose Pod Security labels the admission plugin cannot read."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.pss.namespaces import policy_from_labels
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.pss._namespaces import NAMESPACE_FRAMEWORKS


@object_rule(
    id="PSS-023",
    name="pss-namespace-label-invalid",
    title="Namespace has a Pod Security label the admission plugin cannot read",
    severity=Severity.LOW,
    area=Area.ADMISSION,
    stage=Stage.WALK,
    kinds=["Namespace"],
    frameworks=NAMESPACE_FRAMEWORKS,
    remediation="Use a level of privileged, baseline or restricted, and a version of latest or v1.<minor>.",
)
def pss_namespace_label_invalid(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace has a Pod Security label the admission plugin cannot read.

    ## What it does
    Flags `pod-security.kubernetes.io/<mode>` labels whose value is not `privileged`, `baseline`
    or `restricted`, and `<mode>-version` labels that are not `latest` or `v1.<minor>` (the `v` is
    required). The plugin replaces an unreadable enforce level with `restricted`, an unreadable
    audit or warn level with `privileged`, and an unreadable version with `latest`.

    ## Why is this bad?
    The namespace does not get the policy its owner wrote: a typo in `warn` or `audit` silently
    turns the mode off, and a typo in `enforce` may start refusing pods.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: baseline
        pod-security.kubernetes.io/enforce-version: "1.33"
        pod-security.kubernetes.io/warn: restrictive
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
    ```

    ## Remediation
    Correct the label values (`kubectl label --overwrite namespace NAME KEY=VALUE`).

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
    """
    for problem in policy_from_labels(namespace.name, namespace.labels).problems:
        yield Violation(f'namespace "{namespace.name}": {problem.message}', ("metadata", "labels", problem.label))
