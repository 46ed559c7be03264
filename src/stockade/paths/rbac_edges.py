"""Identities and what their bindings let them reach, with the RBAC index's exact semantics.

Each binding with a dangerous rule becomes a grant node; its subjects hold it. A grant's dangers
(`stockade.rbac.danger`: the authorizer's own matching, so ``pods/*`` grants no exec, ``*/exec``
does, resourceNames restrict, the ``apps`` group counts) become edges to scope nodes at the
binding's scope: a RoleBinding reaches its namespace, a ClusterRoleBinding every namespace.
Moves that need two permissions (bind plus create on bindings, escalate plus update on roles,
approving a CSR plus the signer) are judged per identity with the index, since the two may come
from different bindings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from stockade.model.inventory import Inventory
from stockade.paths.builder import ALL_NAMESPACES, ALL_SECRETS, ANY_NODE, CLUSTER_ADMIN, GraphBuilder
from stockade.paths.catalogue import Attack
from stockade.paths.fixes import FixLookup, display
from stockade.paths.model import Fix, NodeKind
from stockade.rbac.danger import Danger, DangerMatch
from stockade.rbac.exposure import RoleClassifier
from stockade.rbac.index import IndexedBinding, IndexedRole, RbacIndex
from stockade.rbac.match import rule_allows
from stockade.rbac.model import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    UNAUTHENTICATED_GROUP,
    ObjectRef,
    Request,
    Subject,
)
from stockade.rbac.objects import RbacObjects
from stockade.rbac.parse import RBAC_GROUP

# The RB rule that reports each danger.
RULE_OF: dict[Danger, str] = {
    Danger.READ_SECRETS: "RB-003",
    Danger.EXEC_PODS: "RB-004",
    Danger.CREATE_WORKLOADS: "RB-005",
    Danger.ESCALATE: "RB-006",
    Danger.BIND: "RB-006",
    Danger.IMPERSONATE: "RB-007",
    Danger.CREATE_TOKENS: "RB-008",
    Danger.NODES_PROXY: "RB-009",
    Danger.APPROVE_CSRS: "RB-010",
    Danger.APPROVE_SIGNERS: "RB-010",
    Danger.ADMISSION_CONFIG: "RB-011",
    Danger.CREATE_PERSISTENT_VOLUMES: "RB-012",
    Danger.ALL_ACCESS: "RB-002",
}
# Identities anyone can use: anonymous requests, and any credential the API server accepts.
OPEN_IDENTITIES = {
    f"User/{ANONYMOUS_USER}": "anonymous requests, when anonymous authentication is on (the default)",
    f"Group/{UNAUTHENTICATED_GROUP}": "every unauthenticated request",
    f"Group/{AUTHENTICATED_GROUP}": "anyone with any credential the API server accepts",
}


def identity_key(subject: Subject) -> str:
    return str(subject)


class RbacEdges:
    def __init__(self, builder: GraphBuilder, inventory: Inventory, index: RbacIndex, fixes: FixLookup) -> None:
        self.builder = builder
        self.inventory = inventory
        self.index = index
        self.fixes = fixes
        self.objects = RbacObjects(inventory)
        self.classify = RoleClassifier()
        # identity → danger → fixes of the grants that give it (for two-permission moves)
        self.held: dict[Subject, dict[Danger, list[tuple[Fix, DangerMatch, str | None]]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def add(self) -> None:
        for binding in sorted(self.index.bindings(), key=lambda b: (str(b.ref), b.ref.definition)):
            self._binding(binding)
        for subject in sorted(self.held):
            self._combined_moves(subject)

    # -- one binding ---------------------------------------------------------------------------------
    def _binding(self, binding: IndexedBinding) -> None:
        if binding.role_ref is None or not binding.subjects:
            return
        namespace = binding.ref.namespace
        found: list[tuple[DangerMatch, Fix]] = []
        for role in self.index.candidates(binding.role_ref):
            for position, matches in enumerate(self.classify(role, namespace is not None)):
                for match in matches:
                    if match.danger is Danger.WILDCARD:
                        continue
                    found.append((match, self._fix(binding, role, position, match.danger)))
        named = self._named_secrets(binding)
        if not found and not named:
            return
        b = self.builder
        grant = b.node(str(binding.ref), NodeKind.GRANT, f"{binding.ref} → {binding.role_ref}", namespace)
        for secret in named:
            b.edge(grant, secret, Attack.READ_SECRETS, detail="get on Secrets named in resourceNames")
        for subject in binding.subjects:
            holder = b.node(identity_key(subject), NodeKind.IDENTITY, None, subject.namespace)
            b.edge(holder, grant, Attack.HOLDS)
            for match, fix in found:
                self.held[subject][match.danger].append((fix, match, namespace))
        scope = namespace or ALL_NAMESPACES
        for match, fix in found:
            self._danger_edges(grant, match, fix, scope)

    def _named_secrets(self, binding: IndexedBinding) -> list[str]:
        """Secret nodes a rule limited by resourceNames lets the binding's subjects get: least
        privilege, so no finding, but a step toward a Secret marked as a crown jewel."""
        assert binding.role_ref is not None
        namespace = binding.ref.namespace
        found: set[str] = set()
        for role in self.index.candidates(binding.role_ref):
            for rule in role.rules:
                for name in rule.resource_names:
                    if rule_allows(rule, Request("get", "secrets", name=name)):
                        found |= self._secrets_named(name, namespace)
        return sorted(found)

    def _secrets_named(self, name: str, namespace: str | None) -> set[str]:
        if namespace is not None:
            return {self.builder.node(display("Secret", namespace, name), NodeKind.SECRET, None, namespace)}
        return {
            self.builder.node(display("Secret", ns, name), NodeKind.SECRET, None, ns)
            for ns in sorted(self.inventory.namespaces)
            if self.inventory.get("Secret", ns, name) is not None
        }

    def _fix(self, binding: IndexedBinding, role: IndexedRole, position: int, danger: Danger) -> Fix:
        assert binding.role_ref is not None
        source, source_index = role.source(position)
        rule_id = RULE_OF[danger]
        if danger is Danger.ALL_ACCESS and binding.role_ref.name == "cluster-admin":
            rule_id = "RB-001"
        declared = self.index.role(source)
        if self.objects.get(source) is not None and not self.objects.is_stock_role(source) and declared is not None:
            return self.fixes.fix(rule_id, str(source), f"rules[{declared.manifest_position(source_index)}]")
        return self.fixes.fix(rule_id, str(binding.ref), "roleRef.name")

    def _danger_edges(self, grant: str, match: DangerMatch, fix: Fix, scope: str) -> None:
        b = self.builder
        danger = match.danger
        fixes = (fix,)
        what = str(match)
        if danger is Danger.ALL_ACCESS:
            if scope == ALL_NAMESPACES:
                b.edge(grant, CLUSTER_ADMIN, Attack.CLUSTER_ADMIN, fixes, what)
        elif danger is Danger.READ_SECRETS:
            target = ALL_SECRETS if scope == ALL_NAMESPACES else b.scope("secrets", scope, f"Secrets in {scope}")
            b.edge(grant, target, Attack.READ_SECRETS, fixes, what)
        elif danger is Danger.EXEC_PODS:
            b.edge(grant, self.pods(scope), Attack.POD_EXEC, fixes, what)
        elif danger is Danger.CREATE_WORKLOADS:
            if any(a.startswith("create ") for a in match.allows):
                b.edge(grant, self.create_pods(scope), Attack.POD_CREATE, fixes, what)
            if any(a.startswith(("update ", "patch ")) for a in match.allows):
                b.edge(grant, self.pods(scope), Attack.POD_PATCH, fixes, what)
        elif danger is Danger.IMPERSONATE:
            self._impersonation(grant, match, fix, scope)
        elif danger is Danger.CREATE_TOKENS:
            for target in self._accounts(match, scope):
                b.edge(grant, target, Attack.TOKEN_REQUEST, fixes, what)
        elif danger is Danger.NODES_PROXY:
            b.edge(grant, self.pods(ALL_NAMESPACES), Attack.NODES_PROXY, fixes, what)
        elif danger is Danger.ADMISSION_CONFIG:
            mutating = any("mutating" in a for a in match.allows)
            target = self.pods(ALL_NAMESPACES) if mutating else ALL_SECRETS
            b.edge(grant, target, Attack.WEBHOOK_CONFIG, fixes, what)
        elif danger is Danger.CREATE_PERSISTENT_VOLUMES:
            b.edge(grant, ANY_NODE, Attack.PERSISTENT_VOLUME, fixes, what)
        # ESCALATE, BIND and the CSR pair need a second permission: `_combined_moves`.

    def _impersonation(self, grant: str, match: DangerMatch, fix: Fix, scope: str) -> None:
        b = self.builder
        kinds = {a.split(" ", 1)[1].split(".")[0] for a in match.allows if " " in a}
        if match.names:
            for name in match.names:
                if "groups" in kinds:
                    target = b.node(f"Group/{name}", NodeKind.IDENTITY)
                    b.edge(grant, target, Attack.IMPERSONATE, (fix,), f"impersonate group {name}")
                if "users" in kinds:
                    target = b.node(f"User/{name}", NodeKind.IDENTITY)
                    b.edge(grant, target, Attack.IMPERSONATE, (fix,), f"impersonate user {name}")
        elif "groups" in kinds or "users" in kinds:
            b.edge(grant, CLUSTER_ADMIN, Attack.IMPERSONATE, (fix,), f"impersonate {MASTERS_GROUP}")
        if "serviceaccounts" in kinds:
            for target in self._accounts(match, scope):
                b.edge(grant, target, Attack.IMPERSONATE, (fix,), "impersonate ServiceAccounts")

    def _accounts(self, match: DangerMatch, scope: str) -> list[str]:
        b = self.builder
        if match.names:
            if scope == ALL_NAMESPACES:
                return []  # names without a namespace: which accounts they are is not known here
            return [b.node(display("ServiceAccount", scope, n), NodeKind.IDENTITY, None, scope) for n in match.names]
        return [b.scope("serviceaccounts", scope, f"ServiceAccounts in {scope}")]

    def pods(self, scope: str) -> str:
        return self.builder.scope("pods", scope, f"pods in {scope}")

    def create_pods(self, scope: str) -> str:
        return self.builder.scope("create-pods", scope, f"new pods in {scope}")

    # -- moves that need two permissions -----------------------------------------------------------
    def _combined_moves(self, subject: Subject) -> None:
        held = self.held[subject]
        b = self.builder
        who = identity_key(subject)
        for fix, match, namespace in held.get(Danger.BIND, ()):
            if match.names and not any(self._powerful_role(name, namespace) for name in match.names):
                continue
            if namespace is None and self._can(subject, "create", "clusterrolebindings", None):
                b.edge(who, CLUSTER_ADMIN, Attack.ROLE_BIND, (fix,), "bind cluster-admin cluster-wide")
            else:
                for ns in self._binding_namespaces(subject, namespace):
                    b.edge(who, self.namespace_admin(ns), Attack.ROLE_BIND, (fix,), f"bind admin in {ns}")
        for fix, match, namespace in held.get(Danger.ESCALATE, ()):
            clusterwide = namespace is None and any("clusterroles" in a for a in match.allows)
            if clusterwide and self._can_any(subject, ("update", "patch"), "clusterroles", None):
                b.edge(who, CLUSTER_ADMIN, Attack.ROLE_ESCALATE, (fix,), "escalate a ClusterRole it holds")
            elif namespace is not None and self._can_any(subject, ("update", "patch"), "roles", namespace):
                b.edge(
                    who,
                    self.namespace_admin(namespace),
                    Attack.ROLE_ESCALATE,
                    (fix,),
                    f"escalate a Role in {namespace}",
                )
        approvals = held.get(Danger.APPROVE_CSRS, ())
        signers = held.get(Danger.APPROVE_SIGNERS, ())
        if (
            approvals
            and signers
            and self._can(subject, "create", "certificatesigningrequests", None, "certificates.k8s.io")
        ):
            fixes = (approvals[0][0], signers[0][0])
            b.edge(who, CLUSTER_ADMIN, Attack.CSR_APPROVE, fixes, "create, approve and sign a client certificate")

    def _powerful_role(self, name: str, namespace: str | None) -> bool:
        refs = [ObjectRef("ClusterRole", None, name)]
        if namespace is not None:
            refs.append(ObjectRef("Role", namespace, name))
        for ref in refs:
            for role in self.index.candidates(ref):
                if any(m.danger is Danger.ALL_ACCESS for ms in self.classify(role, False) for m in ms):
                    return True
                if role.ref.name == "admin" and role.ref.kind == "ClusterRole":
                    return True
        return False

    def _binding_namespaces(self, subject: Subject, namespace: str | None) -> Iterable[str]:
        if namespace is not None:
            if self._can(subject, "create", "rolebindings", namespace):
                yield namespace
            return
        for ns in sorted(self.inventory.namespaces):
            if self._can(subject, "create", "rolebindings", ns):
                yield ns

    def _can(self, subject: Subject, verb: str, resource: str, namespace: str | None, group: str = RBAC_GROUP) -> bool:
        request = Request(verb, resource, api_group=group, namespace=namespace)
        return bool(self.index.can_subject(subject, request))

    def _can_any(self, subject: Subject, verbs: tuple[str, ...], resource: str, namespace: str | None) -> bool:
        return any(self._can(subject, verb, resource, namespace) for verb in verbs)

    def namespace_admin(self, namespace: str) -> str:
        return self.builder.scope("admin", namespace, f"full control of namespace {namespace}")

    # -- memberships ---------------------------------------------------------------------------------
    def add_memberships(self) -> None:
        """Users and ServiceAccounts in the graph join the groups the API server puts them in."""
        b = self.builder
        groups = {k for k, n in b.nodes.items() if n.kind is NodeKind.IDENTITY and k.startswith("Group/")}
        for key in sorted(k for k, n in b.nodes.items() if n.kind is NodeKind.IDENTITY):
            kind, _, rest = key.partition("/")
            names: tuple[str, ...]
            if kind == "ServiceAccount":
                namespace = rest.partition("/")[0]
                names = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED_GROUP)
            elif kind == "User":
                names = (UNAUTHENTICATED_GROUP,) if rest == ANONYMOUS_USER else (AUTHENTICATED_GROUP,)
            else:
                continue
            for name in names:
                if f"Group/{name}" in groups:
                    b.edge(key, f"Group/{name}", Attack.MEMBER_OF)
        for key, why in OPEN_IDENTITIES.items():
            if key in b.nodes or (key == f"User/{ANONYMOUS_USER}" and f"Group/{UNAUTHENTICATED_GROUP}" in groups):
                b.node(key, NodeKind.IDENTITY)
                if key == f"User/{ANONYMOUS_USER}" and f"Group/{UNAUTHENTICATED_GROUP}" in groups:
                    b.edge(key, f"Group/{UNAUTHENTICATED_GROUP}", Attack.MEMBER_OF)
                b.entry(key, why)
