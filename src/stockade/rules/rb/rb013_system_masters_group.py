"""RB-013: identities in system:masters (EKS aws-auth) and bindings that name the group."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.model import MASTERS_GROUP, Subject
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import some, subject_path
from stockade.rules.rb._scan import RBAC_READS, rbac_scan


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


@inventory_rule(
    id="RB-013",
    reads=RBAC_READS | {"ConfigMap"},
    name="system-masters-group",
    title="Identities are placed in or bound to system:masters",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1078"],
        "cis-1.10": ["5.1.7"],
    },
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
    # Every copy, when the manifests declare aws-auth more than once.
    for aws_auth in ctx.inventory.of_kind("ConfigMap"):
        if aws_auth.name != "aws-auth" or ctx.inventory.effective_namespace(aws_auth) != "kube-system":
            continue
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
    yield from scan.malformed_binding_outcomes()
    for custom in scan.custom_bindings:
        if masters not in custom.subjects:
            if custom.subjects:
                yield Outcome(custom.resource)
            continue
        binding = custom.binding.ref
        violation = Violation(
            f"{binding} names group system:masters: its members bypass RBAC, so access relies on "
            "membership nobody can see or revoke here",
            subject_path(custom.resource, masters, binding.namespace),
            severity=Severity.MEDIUM,
        )
        yield Outcome(custom.resource, (violation,))
