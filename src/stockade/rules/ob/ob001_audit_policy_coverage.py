"""OB-001: an audit policy that misses what incident response needs, or logs Secret values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext, Violation, object_rule

LEVELS = ("None", "Metadata", "Request", "RequestResponse")


@dataclass(frozen=True, slots=True)
class Probe:
    """A request the audit log must record: what, and how it is described in messages."""

    what: str
    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = "team-a"
    user: str = "alice@example.com"
    groups: tuple[str, ...] = ("system:authenticated", "developers")


SECRET_READS = (Probe("reads of Secrets", "get", "", "secrets"), Probe("lists of Secrets", "list", "", "secrets"))
MUST_RECORD = (
    Probe("exec into pods", "create", "", "pods", "exec"),
    Probe("attach to pods", "create", "", "pods", "attach"),
    Probe("port-forward to pods", "create", "", "pods", "portforward"),
    Probe("ClusterRoleBinding changes", "create", "rbac.authorization.k8s.io", "clusterrolebindings", namespace=""),
    Probe("RoleBinding changes", "update", "rbac.authorization.k8s.io", "rolebindings"),
    Probe("ClusterRole changes", "patch", "rbac.authorization.k8s.io", "clusterroles", namespace=""),
    Probe("ServiceAccount token requests", "create", "", "serviceaccounts", "token"),
)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _resource_matches(entries: object, probe: Probe) -> bool:
    """Audit policy semantics: no ``resources`` matches everything; each entry names a group and
    resources (``pods`` is not ``pods/exec``; ``*``, ``pods/*`` and ``*/exec`` are wildcards)."""
    if entries is None:
        return True
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping) or str(entry.get("group", "")) != probe.group:
            continue
        names = _strings(entry.get("resources"))
        if not names:
            return True
        combined = f"{probe.resource}/{probe.subresource}" if probe.subresource else probe.resource
        for name in names:
            if name in (combined, "*") or (
                probe.subresource and name in (f"{probe.resource}/*", f"*/{probe.subresource}")
            ):
                return True
    return False


def _rule_matches(rule: Mapping[str, Any], probe: Probe) -> bool:
    users, groups = _strings(rule.get("users")), _strings(rule.get("userGroups"))
    if users and probe.user not in users:
        return False
    if groups and not set(groups) & set(probe.groups):
        return False
    verbs = _strings(rule.get("verbs"))
    if verbs and probe.verb not in verbs and "*" not in verbs:
        return False
    namespaces = _strings(rule.get("namespaces"))
    if namespaces and probe.namespace not in namespaces:
        return False
    if rule.get("nonResourceURLs") is not None:
        return False
    return _resource_matches(rule.get("resources"), probe)


def level_for(policy: Resource, probe: Probe) -> tuple[str, int | None]:
    """The level the first matching rule gives (``None`` when no rule matches), and its index."""
    rules = policy.raw.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else ()):
        if isinstance(rule, Mapping) and _rule_matches(rule, probe):
            level = str(rule.get("level", "None"))
            return (level if level in LEVELS else "None"), index
    return "None", None


@object_rule(
    kinds={"Policy"},
    id="OB-001",
    name="audit-policy-coverage",
    title="Audit policy misses what incident response needs, or logs Secret values",
    severity=Severity.HIGH,
    area=Area.LOGGING,
    stage=Stage.WALK,
    frameworks={"cis-1.10": ["3.2.2"], "nsa-cisa": ["logging.audit"], "mitre-attack": ["T1562.001"]},
    remediation="Record Secrets at Metadata, and exec, attach, port-forward, token requests and RBAC changes "
    "at Metadata or above, before any catch-all rule.",
)
def audit_policy_coverage(ctx: RuleContext, policy: Resource) -> Iterator[Violation]:
    """Audit policy misses what incident response needs, or logs Secret values.

    ## What it does
    Evaluates an audit `Policy` (`audit.k8s.io`, the file `--audit-policy-file` names; `stockade node
    scan` reads it from the control-plane node) the way the API server does: the first rule that
    matches a request decides its level. It asks the policy about reads of Secrets, exec, attach and
    port-forward into pods, ServiceAccount token requests and RBAC changes by an ordinary user.

    ## Why is this bad?
    Those are the events an investigation starts from: who read the credentials, who ran commands
    in which pod, who granted themselves more. A policy that drops them leaves nothing to find; a
    policy that records Secrets at `Request` or `RequestResponse` writes every Secret's value into
    the audit log, where far more people can read it.

    ## Example
    ```yaml
    apiVersion: audit.k8s.io/v1
    kind: Policy
    rules:
      - level: RequestResponse
        resources:
          - group: ""
            resources: [secrets, configmaps]
      - level: None
        resources:
          - group: ""
            resources: [pods/exec, pods/attach, pods/portforward]
      - level: Metadata
    ```

    ## Use instead
    ```yaml
    apiVersion: audit.k8s.io/v1
    kind: Policy
    omitStages: [RequestReceived]
    rules:
      - level: Metadata
        resources:
          - group: ""
            resources: [secrets, configmaps, serviceaccounts/token]
      - level: Metadata
        resources:
          - group: ""
            resources: [pods/exec, pods/attach, pods/portforward]
      - level: RequestResponse
        resources:
          - group: rbac.authorization.k8s.io
      - level: None
        users: [system:kube-proxy]
      - level: Metadata
    ```

    ## Remediation
    Put the Secret rule (level Metadata) first, then the exec/attach/port-forward and RBAC rules,
    and end with a catch-all at Metadata. Drop noise only with rules naming the noisy users.

    ## References
    - https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy
    """
    if policy.group != "audit.k8s.io":
        return  # another project's kind named Policy (Kyverno, Calico)
    for probe in SECRET_READS:
        level, index = level_for(policy, probe)
        path = ("rules", index) if index is not None else ("rules",)
        if level in ("Request", "RequestResponse"):
            yield Violation(
                f"{probe.what} are logged at {level}: the log would hold Secret values",
                path,
                severity=Severity.CRITICAL,
            )
        elif level == "None":
            yield Violation(f"{probe.what} are not recorded", path)
    missing = []
    for probe in MUST_RECORD:
        level, index = level_for(policy, probe)
        if level == "None":
            missing.append((probe.what, index))
    if missing:
        index = next((i for _, i in missing if i is not None), None)
        yield Violation(
            "not recorded: " + ", ".join(what for what, _ in missing),
            ("rules", index) if index is not None else ("rules",),
        )
