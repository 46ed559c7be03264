"""RB: risky RBAC grants — who holds a power that leads to more power, through which binding and rule.

Every rule reads the shared analysis of `stockade.rules._rbac` (index, exposures, privileged
review; built once per Inventory). Which rules are dangerous is decided in one place,
`stockade.rbac.danger`, which ``stockade rbac explain`` uses too.

Kubernetes' own roles and bindings (``system:*``, ``kubeadm:*``, ``eks:*`` bound to system
identities, and ``cluster-admin`` bound to ``system:masters``) are neither failed nor passed: they
are how the control plane works, and a stock cluster must scan clean. See `stockade.rbac.objects`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml

from stockade.model.finding import Severity, Stage
from stockade.rbac.danger import Danger, DangerMatch
from stockade.rbac.exposure import Exposure
from stockade.rbac.model import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    SERVICE_ACCOUNTS_GROUP,
    UNAUTHENTICATED_GROUP,
    ObjectRef,
    Request,
    Subject,
)
from stockade.rbac.objects import subject_position
from stockade.rbac.review import Route
from stockade.rules._rbac import RbacScan, danger_outcomes, rbac_scan, some
from stockade.rules.base import Outcome, Path, RuleContext, Scope, Violation, rule

RBAC = "rbac"
OWASP = {"owasp-k8s-2022": ["K03"], "owasp-k8s-2025": ["K02"]}
CSR_GROUP = "certificates.k8s.io"
CLIENT_SIGNERS = ("kubernetes.io/kube-apiserver-client", "kubernetes.io/*")


def _frameworks(cis: list[str], mitre: list[str], **extra: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"nsa-cisa": ["authn.rbac"], **OWASP, "mitre-attack": mitre}
    if cis:
        out["cis-1.10"] = cis
    for key, values in extra.items():
        out[key.replace("_", "-")] = [*out.get(key.replace("_", "-"), []), *values]
    return out


@rule(
    id="RB-001",
    name="cluster-admin-binding",
    title="Binding grants cluster-admin",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.CRAWL,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.1"], ["T1078", "T1098.006"]),
    remediation="Bind a role with only the permissions needed; keep cluster-admin for a break-glass group.",
)
def cluster_admin_binding(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants cluster-admin.

    ## What it does
    Flags RoleBindings and ClusterRoleBindings that grant `cluster-admin`, or any ClusterRole
    that, like it, allows every verb on every resource of every API group. A ClusterRoleBinding
    makes its subjects administrators of the whole cluster (critical); a RoleBinding makes them
    administrators of its namespace, the Namespace object included (high). The stock binding of
    `cluster-admin` to `system:masters` is Kubernetes' own and is not reported.

    ## Why is this bad?
    cluster-admin can read every Secret, run any pod on any node and rewrite RBAC itself. Every
    identity holding it is a way to take the whole cluster: a leaked CI token, a compromised pod
    whose ServiceAccount has it, a laptop with a user's credentials.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: ci-deployer-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, watch]
      - apiGroups: [apps]
        resources: [deployments/scale]
        verbs: [update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Remediation
    Replace the binding with a Role (or a narrow ClusterRole) that grants what the subject does,
    in the namespaces where it does it. Keep cluster-admin for a dedicated, audited break-glass
    group. To remove the binding: `kubectl delete clusterrolebinding NAME`.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
    """
    scan = rbac_scan(ctx)
    for binding, resource, subjects in scan.custom_bindings:
        role = binding.role_ref
        if role is None or role.kind != "ClusterRole" or not subjects or not scan.grants_everything(role):
            if subjects:
                yield Outcome(resource)
            continue
        cluster = binding.ref.namespace is None
        scope = "of the whole cluster" if cluster else f"of namespace {binding.ref.namespace}"
        kind = "clusterrolebinding" if cluster else f"rolebinding -n {binding.ref.namespace}"
        yield Outcome(
            resource,
            (
                Violation(
                    f"{binding.ref} makes {some(subjects)} administrators {scope} ({role}: every verb on everything)",
                    ("roleRef", "name"),
                    severity=Severity.CRITICAL if cluster else Severity.HIGH,
                    remediation=f"kubectl delete {kind} {binding.ref.name}  # after binding a narrower role",
                ),
            ),
        )


@rule(
    id="RB-002",
    name="wildcard-rbac-rule",
    title="Role rule uses a wildcard for verbs or resources",
    severity=Severity.HIGH,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.3"], ["T1098.006"]),
    remediation="List the verbs and resources the role needs instead of '*'.",
)
def wildcard_rbac_rule(ctx: RuleContext) -> Iterator[Outcome]:
    """Role rule uses a wildcard for verbs or resources.

    ## What it does
    Flags rules of custom Roles and ClusterRoles with `*` in `verbs`, `*` in `resources` or a
    `*/subresource` entry. A rule with `*` verbs on `*` resources in `*` API groups is a copy of
    cluster-admin: critical when granted cluster-wide, high in a namespace. The message names who
    holds the rule and through which binding; a rule nobody is granted yet is low (latent).

    ## Why is this bad?
    A wildcard grants every verb or resource that exists today and every one added later: new
    subresources, custom resources of operators installed next year, custom verbs such as
    `escalate`, `bind` and `impersonate`. What the role allows can no longer be read from it.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: platform-operator}
    rules:
      - apiGroups: ["*"]
        resources: ["*"]
        verbs: ["*"]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: platform-operator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}
    subjects:
      - {kind: ServiceAccount, name: operator, namespace: platform}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: platform-operator}
    rules:
      - apiGroups: [platform.example.com]
        resources: [widgets, widgets/status]
        verbs: [get, list, watch, update, patch]
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: platform-operator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: platform-operator}
    subjects:
      - {kind: ServiceAccount, name: operator, namespace: platform}
    ```

    ## Remediation
    Replace each wildcard by the verbs and resources the subject uses. `kubectl auth can-i --list
    --as=system:serviceaccount:NS:NAME` and the API server's audit log show what is used.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources
    """
    scan = rbac_scan(ctx)
    for outcome in danger_outcomes(scan, (Danger.ALL_ACCESS, Danger.WILDCARD), include_all_access=True):
        # Kubernetes' own wildcard roles are RB-001's business when bound; only custom roles here.
        if outcome.target.kind in ("Role", "ClusterRole"):
            yield outcome


@rule(
    id="RB-003",
    name="read-secrets",
    title="Subjects can read Secrets",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.2"], ["T1552.007", "T1528"], owasp_k8s_2022=["K08"], owasp_k8s_2025=["K03"]),
    remediation="Drop get/list/watch on secrets, or limit get to the named Secrets the subject needs.",
)
def read_secrets(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can read Secrets.

    ## What it does
    Flags role rules that allow `get`, `list` or `watch` on `secrets` (directly or through a
    wildcard), with the subjects that hold them and where. Cluster-wide it is critical: Secrets of
    `kube-system` hold controller credentials. In a namespace it is medium, critical when a
    cluster-admin-equivalent ServiceAccount lives there (or in `kube-system`). `get` limited to
    named Secrets with `resourceNames` is what least privilege looks like and is not reported.

    ## Why is this bad?
    Secrets hold database passwords, API keys, TLS keys and, in older clusters, ServiceAccount
    tokens. `list` and `watch` return the values too: `kubectl get secrets -o yaml` prints them
    all. Reading a token Secret gives the token's permissions.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: secret-reader, namespace: payments}
    rules:
      - apiGroups: [""]
        resources: [secrets]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: reporting-reads-secrets, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
    subjects:
      - {kind: Group, name: reporting, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: tls-reader, namespace: payments}
    rules:
      - apiGroups: [""]
        resources: [secrets]
        resourceNames: [payments-tls]
        verbs: [get]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: gateway-reads-tls, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tls-reader}
    subjects:
      - {kind: ServiceAccount, name: gateway, namespace: payments}
    ```

    ## Remediation
    Remove `secrets` from the rule, or keep only `get` with `resourceNames` listing the Secrets the
    subject reads. Applications should receive their Secrets as volumes or environment variables
    rather than read them through the API.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets
    - https://kubernetes.io/docs/concepts/configuration/secret/#information-security-for-secrets
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.READ_SECRETS,))


@rule(
    id="RB-004",
    name="exec-into-pods",
    title="Subjects can run commands in running pods",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks([], ["T1609"]),
    remediation="Remove pods/exec, pods/attach, pods/portforward and pods/ephemeralcontainers from the role.",
)
def exec_into_pods(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can run commands in running pods.

    ## What it does
    Flags role rules that allow `create` (or `get`, which WebSocket clients used before Kubernetes
    1.30) on `pods/exec` or `pods/attach`, `create` on `pods/portforward`, or `update`/`patch` on
    `pods/ephemeralcontainers`. Rules limited to named pods with `resourceNames` are not reported.
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives.

    ## Why is this bad?
    A shell in a pod is everything the pod has: its ServiceAccount token, its mounted Secrets, its
    network position. An ephemeral container can even be privileged. Whoever can exec into the
    pods of a powerful controller holds that controller's permissions.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: debugger, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [pods/exec, pods/attach]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-debug, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: debugger}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: observer, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [pods, pods/log]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-observe, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: observer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Give day-to-day access through logs and metrics. When a shell is needed, grant exec for a
    limited time (a just-in-time binding) or limit it to named pods with `resourceNames`.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
    - https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.EXEC_PODS,))


@rule(
    id="RB-005",
    name="create-workloads",
    title="Subjects can create pods or workloads",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.4"], ["T1610", "T1053.007"]),
    remediation="Deploy through a pipeline or GitOps controller; keep create on pods and workloads off people.",
)
def create_workloads(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can create pods or workloads.

    ## What it does
    Flags role rules that allow `create` on `pods`, or `create`, `update` or `patch` on
    Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers.
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives (or in `kube-system`).

    ## Why is this bad?
    A pod can run as any ServiceAccount of its namespace and mount any Secret, ConfigMap or volume
    there, so creating pods grants all of that implicitly. Unless admission blocks it, the pod can
    also be privileged, use the host's namespaces and land on any node, control plane included.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, create, update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-deploy, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: scaler, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, watch]
      - apiGroups: [apps]
        resources: [deployments/scale]
        verbs: [update, patch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: developers-scale, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: scaler}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Let a pipeline or an in-cluster GitOps controller apply workloads, and give people read access
    and scaling. Enforce Pod Security admission (`restricted`) in every namespace where someone can
    still create pods, so the pods they create cannot be privileged.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.CREATE_WORKLOADS,))


def _bind_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Binding named roles only is delegation; it is as bad as the worst role named."""
    match = exposure.match
    if match.danger is Danger.BIND and match.names:
        named = [ObjectRef("ClusterRole", None, n) for n in match.names]
        if exposure.namespace is not None:
            named += [ObjectRef("Role", exposure.namespace, n) for n in match.names]
        if any(scan.grants_everything(ref) for ref in named):
            return scan.severity(match, exposure.namespace)
        return Severity.MEDIUM
    return scan.severity(match, exposure.namespace)


@rule(
    id="RB-006",
    name="escalate-or-bind-roles",
    title="Subjects can escalate or bind roles beyond their own permissions",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.8"], ["T1098.006", "T1068"]),
    remediation="Remove the escalate and bind verbs; limit bind to named, harmless roles with resourceNames.",
)
def escalate_or_bind_roles(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can escalate or bind roles beyond their own permissions.

    ## What it does
    Flags role rules that allow the `escalate` or `bind` verb on `roles` or `clusterroles`.
    Cluster-wide it is critical, in a namespace high. `bind` limited with `resourceNames` to
    named roles (the documented way to delegate `admin`/`edit`/`view`) is medium, unless one of the
    named roles grants everything.

    ## Why is this bad?
    The API server stops people from writing a role or binding with more permissions than they
    hold, except for holders of `escalate` (write any rule into a role) and `bind` (bind any role,
    `cluster-admin` included). With either verb, what the subject holds today says nothing about
    what it can hold tomorrow.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: access-manager}
    rules:
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [clusterroles, roles]
        verbs: [bind, escalate]
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [rolebindings, clusterrolebindings]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: access-manager}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-manager}
    subjects:
      - {kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: access-reviewer}
    rules:
      - apiGroups: [rbac.authorization.k8s.io]
        resources: [clusterroles, roles, rolebindings, clusterrolebindings]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: access-reviewer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-reviewer}
    subjects:
      - {kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Remove `escalate` and `bind`. To let a team grant access in its namespaces, allow `create` on
    `rolebindings` plus `bind` with `resourceNames: [edit, view]`.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.ESCALATE, Danger.BIND), rate=_bind_rate)


def _impersonate_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Impersonating named identities is as bad as those identities."""
    match = exposure.match
    if not match.names:
        return scan.severity(match, exposure.namespace)
    privileged = {h.subject.name for h in scan.review.holders} | {MASTERS_GROUP}
    if privileged & set(match.names):
        return Severity.CRITICAL
    return Severity.HIGH if exposure.namespace is None else Severity.MEDIUM


@rule(
    id="RB-007",
    name="impersonate-identities",
    title="Subjects can impersonate other identities",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.8"], ["T1078", "T1098.006"]),
    remediation="Remove the impersonate verb; where needed, limit it with resourceNames to harmless identities.",
)
def impersonate_identities(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can impersonate other identities.

    ## What it does
    Flags role rules that allow `impersonate` on `users`, `groups`, `serviceaccounts`, or on
    `uids` and `userextras` of `authentication.k8s.io`. Unrestricted impersonation of users or
    groups is critical (it reaches `system:masters`); impersonating named identities is critical
    when one of them is cluster-admin-equivalent, high otherwise. Through a RoleBinding only the
    namespace's ServiceAccounts can be impersonated (medium, as `edit` allows it).

    ## Why is this bad?
    An impersonating request is authorized as the impersonated identity: `kubectl --as=x --as-group
    =system:masters` is a superuser request, whatever the caller's own roles are.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: support-impersonator}
    rules:
      - apiGroups: [""]
        resources: [users, groups]
        verbs: [impersonate]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: support-impersonator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: support-impersonator}
    subjects:
      - {kind: Group, name: support, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: support-reader}
    rules:
      - apiGroups: [""]
        resources: [namespaces, events]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: support-reader}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: support-reader}
    subjects:
      - {kind: Group, name: support, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Remove `impersonate`. Tools that need it (an authenticating proxy) should get it with
    `resourceNames` listing exactly the users and groups they may assume, never `system:masters`.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#impersonate-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.IMPERSONATE,), rate=_impersonate_rate)


@rule(
    id="RB-008",
    name="create-service-account-tokens",
    title="Subjects can mint ServiceAccount tokens",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.13"], ["T1528", "T1550.001"]),
    remediation="Remove create on serviceaccounts/token; let the kubelet mount projected tokens instead.",
)
def create_service_account_tokens(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can mint ServiceAccount tokens.

    ## What it does
    Flags role rules that allow `create` on `serviceaccounts/token` (the TokenRequest API).
    Cluster-wide it is critical; in a namespace medium, critical where a cluster-admin-equivalent
    ServiceAccount lives. Rules limited to named ServiceAccounts are reported with the names.

    ## Why is this bad?
    A TokenRequest returns a fresh token for any ServiceAccount the rule reaches, with that
    account's permissions and a lifetime the caller chooses (up to the server's maximum).

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: token-issuer, namespace: ci}
    rules:
      - apiGroups: [""]
        resources: [serviceaccounts/token]
        verbs: [create]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: runner-issues-tokens, namespace: ci}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: token-issuer}
    subjects:
      - {kind: ServiceAccount, name: runner, namespace: ci}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: sa-reader, namespace: ci}
    rules:
      - apiGroups: [""]
        resources: [serviceaccounts]
        verbs: [get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: runner-reads-sas, namespace: ci}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sa-reader}
    subjects:
      - {kind: ServiceAccount, name: runner, namespace: ci}
    ```

    ## Remediation
    Workloads receive tokens through projected volumes without any RBAC. External systems should
    use workload identity federation (OIDC) rather than mint tokens.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#token-request
    - https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.CREATE_TOKENS,))


@rule(
    id="RB-009",
    name="nodes-proxy-access",
    title="Subjects can reach the kubelet API through nodes/proxy",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.10"], ["T1609"]),
    remediation="Grant nodes/metrics or nodes/stats for monitoring instead of nodes/proxy.",
)
def nodes_proxy_access(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can reach the kubelet API through nodes/proxy.

    ## What it does
    Flags ClusterRole rules that allow `get` or `create` on `nodes/proxy` when bound cluster-wide.
    (Through a RoleBinding it grants nothing: nodes are cluster-scoped.)

    ## Why is this bad?
    nodes/proxy forwards requests to the kubelet API of any node, including its `/exec` and `/run`
    endpoints: commands in every pod of every node. Those requests bypass admission control and
    the API server's audit log records only the proxy call, not the command.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: metrics-scraper}
    rules:
      - apiGroups: [""]
        resources: [nodes, nodes/proxy]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: metrics-scraper}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
    subjects:
      - {kind: ServiceAccount, name: scraper, namespace: monitoring}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: metrics-scraper}
    rules:
      - apiGroups: [""]
        resources: [nodes, nodes/metrics, nodes/stats]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: metrics-scraper}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
    subjects:
      - {kind: ServiceAccount, name: scraper, namespace: monitoring}
    ```

    ## Remediation
    Monitoring needs `nodes/metrics` and `nodes/stats`, which the kubelet serves read-only. Remove
    `nodes/proxy` (and `nodes/*` style wildcards) from the role.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes
    - https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.NODES_PROXY,))


def _csr_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Critical when a subject holds both halves: approving CSRs and approving for a client signer."""
    if exposure.match.danger is Danger.APPROVE_CSRS:
        others = [Request("approve", "signers", api_group=CSR_GROUP, name=name) for name in CLIENT_SIGNERS]
    else:
        others = [Request("update", "certificatesigningrequests/approval", api_group=CSR_GROUP, name="any")]
    for subject in exposure.subjects:
        if any(scan.index.can_subject(subject, request).allowed for request in others):
            return Severity.CRITICAL
    return Severity.MEDIUM


@rule(
    id="RB-010",
    name="approve-certificate-requests",
    title="Subjects can approve certificate signing requests",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.11"], ["T1550", "T1136"]),
    remediation="Leave CSR approval to the control plane's approvers; remove approval and signer rights from people.",
)
def approve_certificate_requests(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can approve certificate signing requests.

    ## What it does
    Flags ClusterRole rules that allow `update` or `patch` on `certificatesigningrequests/approval`,
    or `approve` on `signers` (certificates.k8s.io), when bound cluster-wide. Critical when a
    subject holds both (it can approve client certificates); medium for one half alone.

    ## Why is this bad?
    Whoever can create and approve a CertificateSigningRequest for the
    `kubernetes.io/kube-apiserver-client` signer gets a client certificate with any name and any
    groups, `system:masters` included. Certificates cannot be revoked: they stay valid until they
    expire.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: csr-approver}
    rules:
      - apiGroups: [certificates.k8s.io]
        resources: [certificatesigningrequests/approval]
        verbs: [update]
      - apiGroups: [certificates.k8s.io]
        resources: [signers]
        resourceNames: [kubernetes.io/kube-apiserver-client]
        verbs: [approve]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: csr-approver}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-approver}
    subjects:
      - {kind: Group, name: platform, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: csr-viewer}
    rules:
      - apiGroups: [certificates.k8s.io]
        resources: [certificatesigningrequests]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: csr-viewer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-viewer}
    subjects:
      - {kind: Group, name: platform, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Kubelet serving and client certificates are approved by the control plane's own approvers.
    Give people read access; issue user access through the identity provider, not certificates.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#csrs-and-certificate-issuing
    - https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization
    """
    dangers = (Danger.APPROVE_CSRS, Danger.APPROVE_SIGNERS)
    yield from danger_outcomes(rbac_scan(ctx), dangers, rate=_csr_rate)


@rule(
    id="RB-011",
    name="change-admission-webhooks",
    title="Subjects can change admission webhooks and policies",
    severity=Severity.HIGH,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.12"], ["T1562.001"]),
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


@rule(
    id="RB-012",
    name="create-persistent-volumes",
    title="Subjects can create PersistentVolumes",
    severity=Severity.HIGH,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.9"], ["T1611"]),
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


def _mapped_to_masters(raw: object) -> list[str]:
    """Identities an aws-auth ``mapRoles``/``mapUsers`` value puts in system:masters."""
    if not isinstance(raw, str):
        return []
    try:
        entries = yaml.safe_load(raw)
    except yaml.YAMLError:
        return []
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        groups = entry.get("groups")
        if isinstance(groups, list) and MASTERS_GROUP in groups:
            found.append(str(entry.get("rolearn") or entry.get("userarn") or entry.get("username") or "?"))
    return found


@rule(
    id="RB-013",
    name="system-masters-group",
    title="Identities are placed in or bound to system:masters",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.CRAWL,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.7"], ["T1078"]),
    remediation="Map people and roles to a group of your own and bind that group to the roles it needs.",
)
def system_masters_group(ctx: RuleContext) -> Iterator[Outcome]:
    """Identities are placed in or bound to system:masters.

    ## What it does
    Flags the EKS `kube-system/aws-auth` ConfigMap when `mapRoles` or `mapUsers` put an IAM
    identity in the `system:masters` group (critical), and custom bindings that name the group
    `system:masters` as a subject (medium: they grant nothing the group lacks, but show that access
    relies on it). The stock `cluster-admin` binding is Kubernetes' own and is not reported.

    ## Why is this bad?
    Members of `system:masters` are authorized before RBAC (and before any authorization webhook)
    is consulted. Their access cannot be reduced or revoked by editing roles or bindings; only by
    removing them from the group at its source, or for certificates, by waiting for expiry.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: aws-auth, namespace: kube-system}
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::111122223333:role/ops
          username: ops:{{SessionName}}
          groups: [system:masters]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: aws-auth, namespace: kube-system}
    data:
      mapRoles: |
        - rolearn: arn:aws:iam::111122223333:role/ops
          username: ops:{{SessionName}}
          groups: [platform-viewers]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: platform-viewers}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - {kind: Group, name: platform-viewers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Map IAM roles and users to groups of your own (or use EKS access entries with access
    policies), bind those groups to the roles they need, and keep `system:masters` for the
    control plane's own certificates.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html
    """
    scan = rbac_scan(ctx)
    aws_auth = ctx.inventory.get("ConfigMap", "kube-system", "aws-auth")
    if aws_auth is not None:
        violations = []
        data = aws_auth.raw.get("data")
        for key in ("mapRoles", "mapUsers"):
            mapped = _mapped_to_masters(data.get(key) if isinstance(data, Mapping) else None)
            if mapped:
                violations.append(
                    Violation(
                        f"aws-auth {key} puts {some(mapped)} in system:masters, beyond the reach of RBAC",
                        ("data", key),
                    )
                )
        yield Outcome(aws_auth, tuple(violations))
    masters = Subject.group(MASTERS_GROUP)
    for binding, resource, subjects in scan.custom_bindings:
        if masters not in subjects:
            if subjects:
                yield Outcome(resource)
            continue
        position = subject_position(resource, masters, binding.ref.namespace)
        yield Outcome(
            resource,
            (
                Violation(
                    f"{binding.ref} names group system:masters: its members bypass RBAC, so access relies on "
                    "membership nobody can see or revoke here",
                    ("subjects", position) if position is not None else ("subjects",),
                    severity=Severity.MEDIUM,
                ),
            ),
        )


_EVERYONE: Mapping[Subject, tuple[str, Severity]] = {
    Subject.user(ANONYMOUS_USER): ("every unauthenticated request", Severity.HIGH),
    Subject.group(UNAUTHENTICATED_GROUP): ("every unauthenticated request", Severity.HIGH),
    Subject.group(AUTHENTICATED_GROUP): (
        "every authenticated identity, every ServiceAccount included",
        Severity.MEDIUM,
    ),
    Subject.group(SERVICE_ACCOUNTS_GROUP): ("every ServiceAccount of every namespace", Severity.MEDIUM),
}


def _dangers_of(scan: RbacScan, binding: ObjectRef) -> list[DangerMatch]:
    return list(dict.fromkeys(e.match for e in scan.by_binding.get(binding, ())))


@rule(
    id="RB-014",
    name="grant-to-all-users",
    title="Binding grants permissions to anonymous or all users",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.CRAWL,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(
        [], ["T1078", "T1078.001"], owasp_k8s_2022=["K06"], owasp_k8s_2025=["K09"], nsa_cisa=["authn.authentication"]
    ),
    remediation="Bind the role to the groups or ServiceAccounts that need it, not to everyone.",
)
def grant_to_all_users(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants permissions to anonymous or all users.

    ## What it does
    Flags custom bindings whose subjects include the user `system:anonymous` or the groups
    `system:unauthenticated`, `system:authenticated` or `system:serviceaccounts`. Critical when the
    bound role carries a dangerous permission (any of RB-002 to RB-012); otherwise high for
    anonymous access and medium for all authenticated users. Kubernetes' own discovery bindings
    (`system:discovery`, `system:basic-user`, `system:public-info-viewer`, kubeadm's cluster-info
    binding) are not reported.

    ## Why is this bad?
    `system:unauthenticated` is anyone who can reach the API server over the network.
    `system:authenticated` is every identity the cluster accepts: every ServiceAccount of every
    pod, and on some managed platforms any account of the cloud provider.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: everyone-can-view}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - {kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: developers-can-view}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Replace the catch-all subject by the groups that need the access. Review bindings of
    `system:unauthenticated` first: the API server may be reachable by more networks than expected.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#periodic-review
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
    """
    scan = rbac_scan(ctx)
    for binding, resource, subjects in scan.custom_bindings:
        broad = [s for s in subjects if s in _EVERYONE]
        if not broad:
            if subjects:
                yield Outcome(resource)
            continue
        dangers = _dangers_of(scan, binding.ref)
        violations = []
        for subject in broad:
            who, severity = _EVERYONE[subject]
            role = binding.role_ref or "a role it cannot resolve"
            message = f"{binding.ref} grants {role} to {subject}: {who}"
            if dangers:
                message += f", including {'; '.join(m.info.summary for m in dangers)}"
                severity = Severity.CRITICAL
            position = subject_position(resource, subject, binding.ref.namespace)
            violations.append(
                Violation(message, ("subjects", position) if position is not None else ("subjects",), severity)
            )
        yield Outcome(resource, tuple(violations))


@rule(
    id="RB-015",
    name="default-service-account-granted",
    title="Binding grants permissions to a namespace's default ServiceAccount",
    severity=Severity.MEDIUM,
    area=RBAC,
    stage=Stage.CRAWL,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.5"], ["T1078.001"], nsa_cisa=["pod-security.sa-tokens"]),
    remediation="Create a ServiceAccount for the workload that needs the access and bind that instead.",
)
def default_service_account_granted(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants permissions to a namespace's default ServiceAccount.

    ## What it does
    Flags custom bindings whose subjects include a ServiceAccount named `default`, or the group
    `system:serviceaccounts:<namespace>` (which contains it). High when the bound role carries a
    dangerous permission (any of RB-002 to RB-012), medium otherwise.

    ## Why is this bad?
    Every pod that does not choose a ServiceAccount runs as `default`. Permissions given to it go
    to every such pod of the namespace, today's and tomorrow's, whoever deploys them.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: config-reader, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: default-reads-config, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
    subjects:
      - {kind: ServiceAccount, name: default, namespace: shop}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: api, namespace: shop}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: config-reader, namespace: shop}
    rules:
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: api-reads-config, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
    subjects:
      - {kind: ServiceAccount, name: api, namespace: shop}
    ```

    ## Remediation
    Create a ServiceAccount per workload, set `serviceAccountName` in its pod template and bind
    the role to that account. Leave `default` without permissions.

    ## References
    - https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts
    - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
    """
    scan = rbac_scan(ctx)
    prefix = f"{SERVICE_ACCOUNTS_GROUP}:"
    for binding, resource, subjects in scan.custom_bindings:
        hit = [
            s
            for s in subjects
            if (s.kind == "ServiceAccount" and s.name == "default") or (s.kind == "Group" and s.name.startswith(prefix))
        ]
        if not hit:
            if subjects:
                yield Outcome(resource)
            continue
        dangers = _dangers_of(scan, binding.ref)
        violations = []
        for subject in hit:
            namespace = subject.namespace if subject.kind == "ServiceAccount" else subject.name.removeprefix(prefix)
            who = f"the default ServiceAccount of namespace {namespace}"
            if subject.kind == "Group":
                who = f"every ServiceAccount of namespace {namespace} ({subject}), the default one included"
            message = f"{binding.ref} grants {binding.role_ref or 'an unresolvable role'} to {who}"
            if dangers:
                message += f", including {'; '.join(m.info.summary for m in dangers)}"
            position = subject_position(resource, subject, binding.ref.namespace)
            violations.append(
                Violation(
                    message,
                    ("subjects", position) if position is not None else ("subjects",),
                    Severity.HIGH if dangers else Severity.MEDIUM,
                )
            )
        yield Outcome(resource, tuple(violations))


@rule(
    id="RB-016",
    name="binding-to-missing-role",
    title="Binding references a role that does not exist",
    severity=Severity.MEDIUM,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks([], ["T1098.006"]),
    remediation="Delete the binding, or point it at the role that was meant.",
)
def binding_to_missing_role(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding references a role that does not exist.

    ## What it does
    Flags bindings whose `roleRef` names a Role or ClusterRole that is not among the scanned
    objects: medium for a ClusterRoleBinding, low for a RoleBinding. Kubernetes' default
    ClusterRoles (`cluster-admin`, `admin`, `edit`, `view` and `system:*`) exist on every cluster
    and are not reported missing. Scan the manifests together with the roles they bind.

    ## Why is this bad?
    A dangling binding grants nothing today, but it is a grant waiting to happen: whoever later
    creates a role of that name, for any purpose, hands its permissions to the binding's subjects.
    It also usually means a typo, or a role deleted while its bindings were forgotten.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: shop}
    rules:
      - apiGroups: [apps]
        resources: [deployments]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: ci-deployer, namespace: shop}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: ci}
    ```

    ## Remediation
    Delete the binding if the role is gone for good (`kubectl delete rolebinding -n NS NAME`), or
    fix `roleRef.name` (roleRef cannot be edited: delete and recreate the binding).

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding
    """
    scan = rbac_scan(ctx)
    unknown = set(scan.index.unknown_builtin_roles)
    for binding, resource, _subjects in scan.custom_bindings:
        role = binding.role_ref
        if role is None or role in unknown:
            continue
        if scan.index.role(role) is not None:
            yield Outcome(resource)
            continue
        cluster = binding.ref.namespace is None
        kind = "clusterrolebinding" if cluster else f"rolebinding -n {binding.ref.namespace}"
        yield Outcome(
            resource,
            (
                Violation(
                    f"{binding.ref} references {role}, which does not exist: creating it would grant its "
                    f"permissions to {some(binding.subjects) or 'no one'}",
                    ("roleRef", "name"),
                    severity=Severity.MEDIUM if cluster else Severity.LOW,
                    remediation=f"kubectl delete {kind} {binding.ref.name}",
                ),
            ),
        )


@rule(
    id="RB-017",
    name="cluster-admin-equivalent-service-account",
    title="ServiceAccount is cluster-admin-equivalent",
    severity=Severity.CRITICAL,
    area=RBAC,
    stage=Stage.WALK,
    scope=Scope.INVENTORY,
    frameworks=_frameworks(["5.1.1"], ["T1528", "T1078"]),
    remediation="Give the ServiceAccount only what its workload or pipeline does, in the namespaces it works in.",
)
def cluster_admin_equivalent_service_account(ctx: RuleContext) -> Iterator[Outcome]:
    """ServiceAccount is cluster-admin-equivalent.

    ## What it does
    Reports every ServiceAccount that the privileged-access review (`stockade rbac privileged`)
    finds cluster-admin-equivalent: it holds every verb on everything cluster-wide, or is one step
    from it (it can bind cluster-admin, escalate ClusterRoles, impersonate an admin, run or exec
    into pods as an admin ServiceAccount, or read or mint an admin ServiceAccount's token). The
    finding is attached to the ServiceAccount object when it is scanned, else to the binding.
    Kubernetes' own controllers in `kube-system` are not reported.

    ## Why is this bad?
    A ServiceAccount's token lives in its pods, its CI system's variables and its deploy logs. One
    leak, one exec into one pod, and the cluster belongs to whoever holds it.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: deployer, namespace: payments}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: payments-deployer-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: payments}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: deployer, namespace: payments}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: payments}
    rules:
      - apiGroups: [apps]
        resources: [deployments, statefulsets]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: deployer, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: payments}
    ```

    ## Remediation
    Bind a Role with the verbs the account uses in the namespaces it deploys to. For a pipeline,
    prefer an in-cluster GitOps controller, whose permissions never leave the cluster.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/concepts/security/service-accounts/
    """
    scan = rbac_scan(ctx)
    holders = {h.subject: h for h in scan.review.holders if h.subject.kind == "ServiceAccount" and not h.system}
    reported: set[Subject] = set()
    for account in ctx.inventory.of_kind("ServiceAccount"):
        namespace = ctx.inventory.effective_namespace(account) or "default"
        subject = Subject.service_account(namespace, account.name)
        holder = holders.get(subject)
        if holder is None:
            yield Outcome(account)
            continue
        reported.add(subject)
        yield Outcome(account, (_holder_violation(holder.subject, holder.routes, ()),))
    for subject, holder in holders.items():
        if subject in reported:
            continue
        grant = next((g for route in holder.routes for g in route.grants), None)
        resource = scan.objects.get(grant.binding) if grant is not None else None
        if grant is None or resource is None:
            continue
        position = subject_position(resource, grant.subject, grant.binding.namespace)
        path = ("subjects", position) if position is not None else ("subjects",)
        yield Outcome(resource, (_holder_violation(subject, holder.routes, path),))


def _holder_violation(subject: Subject, routes: tuple[Route, ...], path: Path) -> Violation:
    how = "; ".join(route.detail for route in routes)
    return Violation(f"{subject} is cluster-admin-equivalent: {how}", path)
