"""RB-012: who can create PersistentVolumes (a hostPath volume by another route)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


@inventory_rule(
    id="RB-012",
    reads=RBAC_READS,
    name="create-persistent-volumes",
    title="Subjects can create PersistentVolumes",
    severity=Severity.HIGH,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1611"],
        "cis-1.10": ["5.1.9"],
    },
    remediation="Let StorageClasses provision volumes; grant create on persistentvolumeclaims instead.",
)
def create_persistent_volumes(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can create PersistentVolumes.

    ## What it does
    Flags ClusterRole rules that allow `create` on `persistentvolumes` when bound cluster-wide.

    ## Why is this bad?
    A PersistentVolume can be a `hostPath` volume: claim it from a pod and the node's file system
    (kubelet credentials, other pods' tokens, the container runtime's socket) is mounted, even
    where Pod Security admission forbids hostPath volumes in pods.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: storage-admin}
    rules:
      - apiGroups: [""]
        resources: [persistentvolumes]
        verbs: [get, list, create, delete]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: storage-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: storage-admin}
    subjects:
      - {kind: Group, name: data-team, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: claims, namespace: data}
    rules:
      - apiGroups: [""]
        resources: [persistentvolumeclaims]
        verbs: [get, list, create, delete]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: data-team-claims, namespace: data}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: claims}
    subjects:
      - {kind: Group, name: data-team, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Provision volumes dynamically through StorageClasses and give teams `persistentvolumeclaims`
    in their namespaces. Keep PersistentVolume creation with the storage provisioner.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#persistent-volume-creation
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.CREATE_PERSISTENT_VOLUMES,))
