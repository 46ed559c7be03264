"""Which RBAC rules are dangerous, and why: the one classification every RBAC view shares.

The RB- rules, ``stockade rbac explain`` and the privileged-access review all ask `Classifier`
whether a rule grants one of the `Danger` powers. Each danger is a short list of probe requests
(verb, API group, resource) tried against the rule with the authorizer's own matching
(`rule_allows`), so ``*``, ``*/exec`` and the no-``pods/*``-wildcard rule behave exactly as on
the API server.

Scope: a rule bound through a RoleBinding (or declared in a Role) can only reach namespaced
resources, so `classify` with ``namespaced=True`` drops the dangers on cluster-scoped resources
(nodes/proxy, PersistentVolumes, CSRs, webhook configurations, users and groups).

resourceNames: a rule limited to named objects matches only those. For reading Secrets and for
exec/attach/port-forward, naming the objects is what least privilege looks like, so such rules
are not dangerous here. For the others (impersonating a named group, approving with a named
signer, binding a named role, escalating a named role, minting tokens for a named ServiceAccount)
the named objects are exactly what is at stake: the match is kept and carries the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from stockade.model.finding import Severity
from stockade.rbac.match import ALL, rule_allows
from stockade.rbac.model import PolicyRule, Request
from stockade.rbac.parse import RBAC_GROUP


class Danger(StrEnum):
    ALL_ACCESS = "all-access"
    WILDCARD = "wildcard"
    READ_SECRETS = "read-secrets"
    EXEC_PODS = "exec-pods"
    CREATE_WORKLOADS = "create-workloads"
    ESCALATE = "escalate"
    BIND = "bind"
    IMPERSONATE = "impersonate"
    CREATE_TOKENS = "create-tokens"
    NODES_PROXY = "nodes-proxy"
    APPROVE_CSRS = "approve-csrs"
    APPROVE_SIGNERS = "approve-signers"
    ADMISSION_CONFIG = "admission-config"
    CREATE_PERSISTENT_VOLUMES = "create-persistentvolumes"


@dataclass(frozen=True, slots=True)
class Probe:
    """One request that, if a rule allows it, means the rule grants the danger."""

    verb: str
    group: str
    resource: str  # resource or resource/subresource
    namespaced: bool = True

    @property
    def subresource(self) -> str:
        return self.resource.partition("/")[2]

    def __str__(self) -> str:
        group = f".{self.group}" if self.group else ""
        return f"{self.verb} {self.resource}{group}"


@dataclass(frozen=True, slots=True)
class DangerInfo:
    """What a danger lets its holder do, and how bad that is where it is granted.

    ``cluster`` is the severity of holding it cluster-wide, ``namespaced`` in one namespace (None:
    it cannot be held in a namespace). ``takes_identities`` dangers hand over the ServiceAccounts
    of the namespace, so they are critical where a cluster-admin-equivalent ServiceAccount lives.
    """

    danger: Danger
    summary: str
    leads_to: str
    cluster: Severity
    namespaced: Severity | None
    probes: tuple[Probe, ...] = ()
    keep_named: bool = True
    takes_identities: bool = False


@dataclass(frozen=True, slots=True)
class DangerMatch:
    """A rule grants ``danger``: ``allows`` what it permits, ``names`` its resourceNames (any if empty)."""

    danger: Danger
    allows: tuple[str, ...]
    names: tuple[str, ...] = ()

    @property
    def info(self) -> DangerInfo:
        return DANGERS[self.danger]

    def __str__(self) -> str:
        """``get,list,watch secrets; create pods/exec`` (verbs gathered per resource)."""
        by_what: dict[str, list[str]] = {}
        for allowed in self.allows:
            verb, _, what = allowed.partition(" ")
            if what:
                by_what.setdefault(what, []).append(verb)
            else:
                by_what.setdefault(allowed, [])
        parts = [f"{','.join(verbs)} {what}" if verbs else what for what, verbs in by_what.items()]
        limited = f" named {', '.join(self.names)}" if self.names else ""
        return "; ".join(parts) + limited


def _probes(
    verbs: tuple[str, ...], group: str, resources: tuple[str, ...], namespaced: bool = True
) -> tuple[Probe, ...]:
    return tuple(Probe(verb, group, resource, namespaced) for resource in resources for verb in verbs)


_WORKLOADS = (
    *_probes(("create",), "", ("pods",)),
    # A running pod's image can be changed: its code then runs with the pod's ServiceAccount.
    *_probes(("update", "patch"), "", ("pods",)),
    *_probes(("create", "update", "patch"), "", ("replicationcontrollers",)),
    *_probes(("create", "update", "patch"), "apps", ("deployments", "daemonsets", "statefulsets", "replicasets")),
    *_probes(("create", "update", "patch"), "batch", ("jobs", "cronjobs")),
)

_ADMISSION = (
    *_probes(
        ("create", "update", "patch", "delete"),
        "admissionregistration.k8s.io",
        (
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "mutatingadmissionpolicies",
            "mutatingadmissionpolicybindings",
        ),
        namespaced=False,
    ),
)

DANGERS: Mapping[Danger, DangerInfo] = {
    info.danger: info
    for info in (
        DangerInfo(
            Danger.ALL_ACCESS,
            "do everything",
            "cluster-admin: full control of the cluster (of the namespace, through a RoleBinding)",
            Severity.CRITICAL,
            Severity.HIGH,
            takes_identities=True,
        ),
        DangerInfo(
            Danger.WILDCARD,
            "use wildcards for verbs, resources or API groups",
            "every present and future verb or resource type, custom ones included",
            Severity.HIGH,
            Severity.MEDIUM,
        ),
        DangerInfo(
            Danger.READ_SECRETS,
            "read Secrets",
            "every credential stored in Secrets, ServiceAccount tokens included (list and watch return values)",
            Severity.CRITICAL,
            Severity.MEDIUM,
            _probes(("get", "list", "watch"), "", ("secrets",)),
            keep_named=False,
            takes_identities=True,
        ),
        DangerInfo(
            Danger.EXEC_PODS,
            "run commands in existing pods",
            "code execution in running pods, with their ServiceAccount tokens and mounted Secrets",
            Severity.CRITICAL,
            Severity.MEDIUM,
            (
                # `get` is listed because WebSocket exec/attach needed only get before Kubernetes 1.30.
                *_probes(("create", "get"), "", ("pods/exec", "pods/attach")),
                *_probes(("create",), "", ("pods/portforward",)),
                *_probes(("update", "patch"), "", ("pods/ephemeralcontainers",)),
            ),
            keep_named=False,
            takes_identities=True,
        ),
        DangerInfo(
            Danger.CREATE_WORKLOADS,
            "create pods or workloads",
            "running a pod as any ServiceAccount of the namespace, and privileged pods on any node",
            Severity.CRITICAL,
            Severity.MEDIUM,
            _WORKLOADS,
            takes_identities=True,
        ),
        DangerInfo(
            Danger.ESCALATE,
            "escalate roles",
            "writing any permission into a role, beyond the holder's own",
            Severity.CRITICAL,
            Severity.HIGH,
            # Updating a ClusterRole is checked cluster-wide: a RoleBinding's escalate reaches Roles only.
            (Probe("escalate", RBAC_GROUP, "roles"), Probe("escalate", RBAC_GROUP, "clusterroles", namespaced=False)),
            takes_identities=True,
        ),
        DangerInfo(
            Danger.BIND,
            "bind roles",
            "binding a role with permissions the holder does not have (cluster-admin included)",
            Severity.CRITICAL,
            Severity.HIGH,
            _probes(("bind",), RBAC_GROUP, ("roles", "clusterroles")),
            takes_identities=True,
        ),
        DangerInfo(
            Danger.IMPERSONATE,
            "impersonate identities",
            "acting as another user, group or ServiceAccount (system:masters included)",
            Severity.CRITICAL,
            Severity.MEDIUM,
            (
                *_probes(("impersonate",), "", ("users", "groups"), namespaced=False),
                *_probes(("impersonate",), "", ("serviceaccounts",)),
                *_probes(("impersonate",), "authentication.k8s.io", ("uids", "userextras/scopes"), namespaced=False),
            ),
            takes_identities=True,
        ),
        DangerInfo(
            Danger.CREATE_TOKENS,
            "create ServiceAccount tokens",
            "a fresh token for any ServiceAccount in reach, and with it that account's permissions",
            Severity.CRITICAL,
            Severity.MEDIUM,
            _probes(("create",), "", ("serviceaccounts/token",)),
            takes_identities=True,
        ),
        DangerInfo(
            Danger.NODES_PROXY,
            "use the kubelet API through nodes/proxy",
            "command execution in every pod of the nodes, bypassing admission control and audit logging",
            Severity.CRITICAL,
            None,
            _probes(("get", "create"), "", ("nodes/proxy",), namespaced=False),
        ),
        DangerInfo(
            Danger.APPROVE_CSRS,
            "approve certificate signing requests",
            "client certificates for any name, system:masters included, when combined with signer approval",
            Severity.CRITICAL,
            None,
            _probes(("update", "patch"), "certificates.k8s.io", ("certificatesigningrequests/approval",), False),
        ),
        DangerInfo(
            Danger.APPROVE_SIGNERS,
            "approve for certificate signers",
            "client certificates for any name, system:masters included, when combined with CSR approval",
            Severity.CRITICAL,
            None,
            _probes(("approve",), "certificates.k8s.io", ("signers",), namespaced=False),
        ),
        DangerInfo(
            Danger.ADMISSION_CONFIG,
            "change admission webhooks and policies",
            "reading every object sent to the API server, changing it (mutating), or switching checks off",
            Severity.HIGH,
            None,
            _ADMISSION,
        ),
        DangerInfo(
            Danger.CREATE_PERSISTENT_VOLUMES,
            "create PersistentVolumes",
            "a hostPath volume onto any node's file system",
            Severity.HIGH,
            None,
            _probes(("create",), "", ("persistentvolumes",), namespaced=False),
        ),
    )
}


def _probe_keys() -> dict[str, tuple[tuple[Danger, Probe], ...]]:
    """Resource entry of a rule → the probes it could satisfy (``*`` and ``*/sub`` included)."""
    keys: dict[str, list[tuple[Danger, Probe]]] = {}
    for info in DANGERS.values():
        for probe in info.probes:
            entries = [probe.resource, ALL]
            if probe.subresource:
                entries.append(f"{ALL}/{probe.subresource}")
            for entry in entries:
                keys.setdefault(entry, []).append((info.danger, probe))
    return {key: tuple(dict.fromkeys(value)) for key, value in keys.items()}


_BY_ENTRY = _probe_keys()
_UNNAMED_VERBS = frozenset({"create", "list", "watch", "deletecollection"})
_ALL_REQUEST = Request(ALL, ALL, api_group=ALL)


def classify(rule: PolicyRule, namespaced: bool) -> tuple[DangerMatch, ...]:
    """Every danger ``rule`` grants, held cluster-wide (``namespaced`` False) or in one namespace."""
    if not rule.resources:
        return ()
    found: list[DangerMatch] = []
    if not rule.resource_names and rule_allows(rule, _ALL_REQUEST):
        found.append(DangerMatch(Danger.ALL_ACCESS, ("* on *",)))
    wild = [f"verbs={ALL}"] if ALL in rule.verbs else []
    wild += [f"resources={r}" for r in rule.resources if r.startswith(ALL)]
    wild += [f"apiGroups={ALL}"] if ALL in rule.api_groups else []
    if wild:
        found.append(DangerMatch(Danger.WILDCARD, tuple(wild)))
    candidates: dict[Danger, list[Probe]] = {}
    for entry in rule.resources:
        for danger, probe in _BY_ENTRY.get(entry, ()):
            if namespaced and not probe.namespaced:
                continue
            bucket = candidates.setdefault(danger, [])
            if probe not in bucket:
                bucket.append(probe)
    for danger in DANGERS:  # fixed order, so messages and findings are stable
        probes = candidates.get(danger)
        if probes:
            match = _match(rule, DANGERS[danger], probes)
            if match is not None:
                found.append(match)
    return tuple(found)


def _match(rule: PolicyRule, info: DangerInfo, probes: list[Probe]) -> DangerMatch | None:
    allows: list[str] = []
    named = False
    for probe in probes:
        request = Request(probe.verb, probe.resource, api_group=probe.group)
        if rule_allows(rule, request):
            allows.append(str(probe))
            continue
        # The API server never passes a name for top-level create, list or watch: names cannot match.
        collection = probe.verb in _UNNAMED_VERBS and not probe.subresource
        if rule.resource_names and info.keep_named and not collection:
            named_request = Request(probe.verb, probe.resource, api_group=probe.group, name=rule.resource_names[0])
            if rule_allows(rule, named_request):
                allows.append(str(probe))
                named = True
    if not allows:
        return None
    return DangerMatch(info.danger, tuple(allows), rule.resource_names if named else ())


class Classifier:
    """`classify` with a memo: roles share rule objects, and big clusters repeat the same rules."""

    def __init__(self) -> None:
        self._memo: dict[tuple[PolicyRule, bool], tuple[DangerMatch, ...]] = {}

    def __call__(self, rule: PolicyRule, namespaced: bool) -> tuple[DangerMatch, ...]:
        key = (rule, namespaced)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = classify(rule, namespaced)
        return found
