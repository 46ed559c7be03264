"""RB-011: who can change admission webhooks and admission policies."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-011",
    reads=RBAC_READS,
    name="change-admission-webhooks",
    title="Subjects can change admission webhooks and policies",
    severity=Severity.HIGH,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1562.001"],
        "cis-1.10": ["5.1.12"],
    },
    remediation="Keep write access to admission configuration for the controllers that own it.",
)
def change_admission_webhooks(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can change admission webhooks and policies.

    ## What it does
    Flags ClusterRole rules that allow `create`, `update`, `patch` or `delete` on
    `validatingwebhookconfigurations`, `mutatingwebhookconfigurations` or the admission policy
    kinds (`validatingadmissionpolicies`, `mutatingadmissionpolicies` and their bindings) when
    bound cluster-wide.

    ## Why is this bad?
    A webhook receives every object it registers for, Secrets included, and a mutating webhook
    can rewrite them: add a privileged sidecar to every pod. Deleting or loosening a validating
    webhook or policy switches the cluster's guards off.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: mesh-installer}
    rules:
      - apiGroups: [admissionregistration.k8s.io]
        resources: [mutatingwebhookconfigurations]
        verbs: [get, list, create, update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: mesh-installer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mesh-installer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: mesh-viewer}
    rules:
      - apiGroups: [admissionregistration.k8s.io]
        resources: [mutatingwebhookconfigurations]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: mesh-viewer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mesh-viewer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Let the controller that owns a webhook patch its own configuration, limited with
    `resourceNames` to that configuration. People get read access.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#control-admission-webhooks
    - https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.ADMISSION_CONFIG,))
