"""RB-015: bindings that grant a namespace's default ServiceAccount permissions."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.model import SERVICE_ACCOUNT_USER_PREFIX, SERVICE_ACCOUNTS_GROUP, Subject
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import subject_path, summaries
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


def _default_account_user(subject: Subject) -> str | None:
    """The namespace of a User subject spelled as a default ServiceAccount's username, else None."""
    if subject.kind != "User" or not subject.name.startswith(SERVICE_ACCOUNT_USER_PREFIX):
        return None
    namespace, _, name = subject.name.removeprefix(SERVICE_ACCOUNT_USER_PREFIX).partition(":")
    return namespace if name == "default" and namespace else None


@inventory_rule(
    id="RB-015",
    reads=RBAC_READS,
    name="default-service-account-granted",
    title="Binding grants permissions to a namespace's default ServiceAccount",
    severity=Severity.MEDIUM,
    area=Area.RBAC,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["authn.rbac", "pod-security.sa-tokens"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1078.001"],
        "cis-1.10": ["5.1.5"],
    },
    remediation="Create a ServiceAccount for the workload that needs the access and bind that instead.",
)
def default_service_account_granted(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants permissions to a namespace's default ServiceAccount.

    ## What it does
    Flags custom bindings whose subjects include a ServiceAccount named `default` (or the User
    `system:serviceaccount:<namespace>:default`, its username), or the group
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
    yield from scan.malformed_binding_outcomes()
    for custom in scan.custom_bindings:
        hit = [
            s
            for s in custom.subjects
            if (s.kind == "ServiceAccount" and s.name == "default")
            or (s.kind == "Group" and s.name.startswith(prefix))
            or _default_account_user(s) is not None
        ]
        if not hit:
            if custom.subjects:
                yield Outcome(custom.resource)
            continue
        binding = custom.binding
        dangers = scan.dangers_through(binding.ref)
        violations = []
        for subject in hit:
            if subject.kind == "Group":
                namespace = subject.name.removeprefix(prefix)
                who = f"every ServiceAccount of namespace {namespace} ({subject}), the default one included"
            elif subject.kind == "User":
                who = f"the default ServiceAccount of namespace {_default_account_user(subject)} (as {subject})"
            else:
                who = f"the default ServiceAccount of namespace {subject.namespace}"
            message = f"{binding.ref} grants {binding.role_ref or 'an unresolvable role'} to {who}"
            if dangers:
                message += f", including {summaries(dangers)}"
            violations.append(
                Violation(
                    message,
                    subject_path(custom.resource, subject, binding.ref.namespace),
                    Severity.HIGH if dangers else Severity.MEDIUM,
                )
            )
        yield Outcome(custom.resource, tuple(violations))
