"""The effective-permission index: RBAC objects of one Inventory, resolved once, queried from memory.

Built once per Inventory (`RbacIndex.build`), then read-only. Questions it answers, each with the
binding and role rule behind every yes:

- ``can`` / ``can_subject``: may this identity make this request? (the authorizer's decision)
- ``who_can``: which binding subjects may make this request?
- ``permissions_of``: every rule a subject holds, and where.

Layout, chosen for clusters with thousands of namespaces: bindings are indexed by the principal
they name (a username or a group, ServiceAccounts by their username) and by namespace, so ``can``
only looks at the bindings of the asker; ClusterRole rules are bucketed by (verb, group, resource)
with ``*`` as ordinary keys, so ``who_can`` looks up a dozen buckets instead of every rule; Roles
are few per namespace and are read directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from stockade._gc import collector_paused
from stockade.model.inventory import Inventory, duplicate_message
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.rbac.aggregate import aggregate
from stockade.rbac.defaults import AGGREGATE_TO, default_cluster_roles, defaults_to_add
from stockade.rbac.match import ALL, rule_allows
from stockade.rbac.model import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    UNAUTHENTICATED_GROUP,
    Decision,
    Grant,
    ObjectRef,
    Permission,
    PolicyRule,
    RbacProblem,
    Request,
    Subject,
    WhoCan,
    service_account_groups,
)
from stockade.rbac.objects import rbac_definitions
from stockade.rbac.parse import BindingDef, RoleDef, RuleInterner, read_binding, read_role

# Where the assumed default ClusterRoles say they come from.
DEFAULTS_ORIGIN = "<kubernetes defaults>"

# A principal as bindings name it: ("u", username) or ("g", group).
_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class IndexedRole:
    """A Role or ClusterRole with its effective rules (aggregation applied)."""

    ref: ObjectRef
    rules: tuple[PolicyRule, ...]
    # Per rule, where it is declared; None when the role declares all its rules itself.
    sources: tuple[tuple[ObjectRef, int], ...] | None = None
    # Per declared rule, its position in the manifest's list; None when no malformed rule was skipped.
    positions: tuple[int, ...] | None = None

    def source(self, index: int) -> tuple[ObjectRef, int]:
        return (self.ref, index) if self.sources is None else self.sources[index]

    def manifest_position(self, index: int) -> int:
        """Where declared rule ``index`` sits in the manifest's ``rules`` list (for finding paths)."""
        return index if self.positions is None else self.positions[index]


@dataclass(frozen=True, slots=True)
class IndexedBinding:
    """A binding as indexed: ``role_ref`` None when unusable, ``problems`` its resolution problems."""

    ref: ObjectRef
    role_ref: ObjectRef | None
    subjects: tuple[Subject, ...]
    keys: tuple[_Key, ...]
    problems: tuple[RbacProblem, ...]

    def first_subject(self, keys: frozenset[_Key]) -> Subject | None:
        """The first subject that applies, the one the API server names in its reason."""
        for subject, key in zip(self.subjects, self.keys, strict=True):
            if key in keys:
                return subject
        return None


def implicit_groups(subject: Subject) -> tuple[str, ...]:
    """Groups the API server adds for this subject when it authenticates.

    A ServiceAccount is in ``system:serviceaccounts``, ``system:serviceaccounts:<ns>`` and
    ``system:authenticated``; a user in ``system:authenticated`` (``system:anonymous`` in
    ``system:unauthenticated`` instead). A Group stands for itself and gets none.
    """
    if subject.kind == "ServiceAccount" and subject.namespace:
        return (*service_account_groups(subject.namespace), AUTHENTICATED_GROUP)
    if subject.kind == "User":
        return (UNAUTHENTICATED_GROUP,) if subject.name == ANONYMOUS_USER else (AUTHENTICATED_GROUP,)
    return ()


def _key(subject: Subject) -> _Key:
    if subject.kind == "Group":
        return ("g", subject.name)
    # A ServiceAccount subject matches on its username, exactly as a User subject of that name does.
    return ("u", subject.username or "")


class RbacIndex:
    """Roles, bindings and their problems, resolved and indexed for the queries above."""

    def __init__(self) -> None:
        self.problems: tuple[RbacProblem, ...] = ()
        self._roles: dict[ObjectRef, IndexedRole] = {}
        # Every definition of a role, by the identity a roleRef names (more than one in manifests only).
        self._definitions: dict[ObjectRef, list[IndexedRole]] = defaultdict(list)
        self._crbs: list[IndexedBinding] = []
        self._rbs: list[IndexedBinding] = []
        self._crb_by_key: dict[_Key, list[int]] = defaultdict(list)
        self._rb_by_key: dict[_Key, list[int]] = defaultdict(list)
        self._rb_by_ns_key: dict[tuple[str, _Key], list[int]] = defaultdict(list)
        self._rbs_by_ns: dict[str, list[int]] = defaultdict(list)
        self._crbs_by_role: dict[str, list[int]] = defaultdict(list)
        self._buckets: dict[tuple[str, str, str], list[tuple[ObjectRef, int]]] = defaultdict(list)
        self._non_resource: list[tuple[ObjectRef, int]] = []
        self.assumed_roles: tuple[ObjectRef, ...] = ()
        # Declared copies of Kubernetes' own ClusterRoles that say less than Kubernetes does, and how.
        self.redefined_roles: dict[ObjectRef, str] = {}
        self.unknown_builtin_roles: tuple[ObjectRef, ...] = ()
        self._assume_defaults = False

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(
        cls, inventory: Inventory, *, recompute_aggregation: bool = True, assume_defaults: bool = False
    ) -> RbacIndex:
        """Index the RBAC objects of ``inventory``.

        ``recompute_aggregation`` (the default, right for manifests) replaces the rules of every
        aggregated ClusterRole by the union its selectors pick, as the control plane would. Turn
        it off for objects read from a live cluster, whose rules the controller has already
        filled: the rules are then used as read, and aggregation only explains where they came from.

        ``assume_defaults`` adds the ClusterRoles every cluster has (``cluster-admin``, ``admin``,
        ``edit``, ``view``; see `stockade.rbac.defaults`) when the objects do not declare them, and
        lists them in ``assumed_roles``. A binding to another absent built-in role (a ``system:``
        ClusterRole, or a control-plane Role of ``kube-system``/``kube-public``) is then not a
        problem but listed in ``unknown_builtin_roles``: the role exists on every cluster, what it
        grants is not known here.
        """
        index = cls()
        index._assume_defaults = assume_defaults
        problems: list[RbacProblem] = []
        with collector_paused():
            index._load_roles(inventory, problems, recompute_aggregation)
            index._load_bindings(inventory, problems)
            index._bucket_cluster_roles()
        index.problems = tuple(problems)
        return index

    def _load_roles(self, inventory: Inventory, problems: list[RbacProblem], recompute: bool) -> None:
        intern = RuleInterner()
        origins: dict[ObjectRef, list[Origin]] = defaultdict(list)
        for ref, resource in rbac_definitions(inventory, "Role"):
            role = read_role(resource, ref.namespace, intern, problems, ref.definition)
            origins[ref.identity].append(resource.origin)
            self._add_role(IndexedRole(role.ref, role.rules, positions=role.positions))
        # Aggregation knows ClusterRoles by name; a second definition gets a key no real name has.
        cluster_roles: dict[str, RoleDef] = {}
        for ref, resource in rbac_definitions(inventory, "ClusterRole"):
            role = read_role(resource, None, intern, problems, ref.definition)
            origins[ref.identity].append(resource.origin)
            cluster_roles[_aggregation_key(ref, cluster_roles)] = role
        problems.extend(_duplicates(origins))
        if self._assume_defaults:
            self.redefined_roles = _reconcile_defaults(cluster_roles, intern, problems)
            self.assumed_roles = _add_defaults(cluster_roles, intern, problems)
        computed = aggregate(cluster_roles)
        for name, role in cluster_roles.items():
            if name not in computed:
                self._add_role(IndexedRole(role.ref, role.rules, positions=role.positions))
                continue
            sourced = computed[name]
            if recompute:
                rules = tuple(s.rule for s in sourced)
                sources = tuple((s.source, s.index) for s in sourced)
                if role.rules and set(role.rules) != set(rules):
                    problems.append(
                        RbacProblem(
                            "aggregation-overrides-rules",
                            "aggregated ClusterRole declares rules that the control plane replaces "
                            f"({len(role.rules)} declared, {len(rules)} aggregated); "
                            "the aggregated ones are used",
                            role.ref,
                            role.origin,
                        )
                    )
                self._add_role(IndexedRole(role.ref, rules, sources))
            else:
                rules = role.rules
                known = {s.rule: (s.source, s.index) for s in sourced}
                sources = tuple(known.get(rule, (role.ref, i)) for i, rule in enumerate(rules))
                self._add_role(IndexedRole(role.ref, rules, sources, role.positions))

    def _add_role(self, role: IndexedRole) -> None:
        self._roles[role.ref] = role
        self._definitions[role.ref.identity].append(role)

    def _load_bindings(self, inventory: Inventory, problems: list[RbacProblem]) -> None:
        # Every definition of a binding is kept: which one a cluster would hold is not known here.
        definitions: list[BindingDef] = []
        origins: dict[ObjectRef, list[Origin]] = defaultdict(list)
        for kind in ("ClusterRoleBinding", "RoleBinding"):
            for ref, resource in rbac_definitions(inventory, kind):
                definitions.append(read_binding(resource, ref.namespace, problems, ref.definition))
                origins[ref.identity].append(resource.origin)
        problems.extend(_duplicates(origins))
        for definition in definitions:
            binding = self._resolve(definition)
            problems.extend(binding.problems)
            self._add_binding(binding)

    def _resolve(self, definition: BindingDef) -> IndexedBinding:
        found: tuple[RbacProblem, ...] = ()
        ref = definition.role_ref
        if self._assume_defaults and ref is not None and ref not in self._roles and _is_builtin_name(ref):
            if ref not in self.unknown_builtin_roles:
                self.unknown_builtin_roles = (*self.unknown_builtin_roles, ref)
        elif ref is not None and ref not in self._roles:
            found = (
                RbacProblem(
                    "missing-role",
                    f"roleRef {definition.role_ref} does not exist; the binding grants nothing",
                    definition.ref,
                    definition.origin,
                ),
            )
        keys = tuple(_key(s) for s in definition.subjects)
        return IndexedBinding(definition.ref, definition.role_ref, definition.subjects, keys, found)

    def _add_binding(self, binding: IndexedBinding) -> None:
        namespace = binding.ref.namespace
        if namespace is None:
            position = len(self._crbs)
            self._crbs.append(binding)
            for key in set(binding.keys):
                self._crb_by_key[key].append(position)
            if binding.role_ref is not None:
                self._crbs_by_role[binding.role_ref.name].append(position)
            return
        position = len(self._rbs)
        self._rbs.append(binding)
        self._rbs_by_ns[namespace].append(position)
        for key in set(binding.keys):
            self._rb_by_key[key].append(position)
            self._rb_by_ns_key[(namespace, key)].append(position)

    def _bucket_cluster_roles(self) -> None:
        for ref, role in self._roles.items():
            if ref.kind != "ClusterRole":
                continue
            for position, rule in enumerate(role.rules):
                if rule.non_resource_urls:
                    self._non_resource.append((ref, position))
                for verb in set(rule.verbs):
                    for group in set(rule.api_groups):
                        for resource in set(rule.resources):
                            self._buckets[(verb, group, resource)].append((ref, position))

    # -- queries ---------------------------------------------------------------------------------
    def can(self, user: str, groups: Iterable[str], request: Request) -> Decision:
        """The RBAC decision for a user with exactly these groups (nothing implicit is added)."""
        groups = tuple(groups)
        keys = frozenset((("u", user), *(("g", g) for g in groups)))
        return self._decide(keys, MASTERS_GROUP in groups, request)

    def can_subject(self, subject: Subject, request: Request, extra_groups: Iterable[str] = ()) -> Decision:
        """The decision for a binding subject, with its implicit groups (see `implicit_groups`)."""
        groups = (*implicit_groups(subject), *extra_groups)
        keys = self._keys(subject, groups)
        return self._decide(keys, MASTERS_GROUP in groups or subject == Subject.group(MASTERS_GROUP), request)

    def who_can(self, request: Request) -> WhoCan:
        """Every binding subject allowed to make ``request``, one Grant per (binding, subject, rule).

        Groups appear as groups: their members are not known to the cluster. Members of
        ``system:masters`` may always, and are listed in ``superuser_groups``.
        """
        namespace = request.scope
        cluster_matches = self._cluster_role_matches(request)
        grants: list[Grant] = []
        names = {ref.name for ref in cluster_matches}
        positions = sorted({p for name in names for p in self._crbs_by_role.get(name, ())})
        for position in positions:
            binding = self._crbs[position]
            assert binding.role_ref is not None  # only bindings with a role are indexed by role
            for role in self.candidates(binding.role_ref):
                self._collect(binding, binding.subjects, role, cluster_matches.get(role.ref, ()), grants)
        if namespace is not None:
            own: dict[ObjectRef, tuple[int, ...]] = {}
            for position in self._rbs_by_ns.get(namespace, ()):
                binding = self._rbs[position]
                if binding.role_ref is None:
                    continue
                for role in self.candidates(binding.role_ref):
                    if role.ref.kind == "ClusterRole":
                        matching = cluster_matches.get(role.ref, ())
                    else:
                        if role.ref not in own:
                            own[role.ref] = self._matching_rules(role, request)
                        matching = own[role.ref]
                    self._collect(binding, binding.subjects, role, matching, grants)
        return WhoCan(request, tuple(grants))

    def bindings_of(
        self, subject: Subject, extra_groups: Iterable[str] = ()
    ) -> list[tuple[IndexedBinding, tuple[Subject, ...]]]:
        """Every binding that applies to ``subject``, with the binding subjects through which it does.

        Matched exactly as `permissions_of` matches (the subject's username, whether the binding
        spells it as a ServiceAccount or a User, and its implicit groups), but whether or not the
        bound role exists: a caller can tell a grant from a binding to an unknown role.
        """
        keys = self._keys(subject, (*implicit_groups(subject), *extra_groups))
        found = []
        for binding in (
            *self._bindings(keys, self._crb_by_key, self._crbs),
            *self._bindings(keys, self._rb_by_key, self._rbs),
        ):
            matched = tuple(s for s, key in zip(binding.subjects, binding.keys, strict=True) if key in keys)
            found.append((binding, matched))
        return found

    def permissions_of(self, subject: Subject, extra_groups: Iterable[str] = ()) -> list[Permission]:
        """Every rule the subject holds, cluster-wide (namespace None) or in a RoleBinding's namespace.

        Rules that can never apply through a RoleBinding (nonResourceURLs only) are left out.
        """
        keys = self._keys(subject, (*implicit_groups(subject), *extra_groups))
        permissions: list[Permission] = []
        for binding in self._bindings(keys, self._crb_by_key, self._crbs):
            self._permissions(binding, keys, permissions)
        for binding in self._bindings(keys, self._rb_by_key, self._rbs):
            self._permissions(binding, keys, permissions)
        return permissions

    def subjects(self) -> tuple[Subject, ...]:
        """Every subject named by a binding, sorted by kind, namespace and name."""
        found = {s for binding in (*self._crbs, *self._rbs) for s in binding.subjects}
        return tuple(sorted(found, key=lambda s: (s.kind, s.namespace or "", s.name)))

    def rules_of(self, role: ObjectRef) -> tuple[PolicyRule, ...] | None:
        """The effective rules of a Role or ClusterRole (aggregation applied), None if absent."""
        found = self._roles.get(role)
        return None if found is None else found.rules

    def role(self, ref: ObjectRef) -> IndexedRole | None:
        """A role with its effective rules and, per rule, where it is declared; None if absent.

        ``ref`` names one definition (the first, for a plain reference): see `candidates`.
        """
        return self._roles.get(ref)

    def candidates(self, ref: ObjectRef) -> tuple[IndexedRole, ...]:
        """Every definition of the role a roleRef names, in load order: one, except in manifests
        that declare a role more than once, where each may be the one applied, so each grants."""
        return tuple(self._definitions.get(ref.identity, ()))

    def roles(self) -> tuple[IndexedRole, ...]:
        """Every Role and ClusterRole (assumed defaults included), in load order."""
        return tuple(self._roles.values())

    def bindings(self) -> tuple[IndexedBinding, ...]:
        """Every binding: ClusterRoleBindings first, then RoleBindings, in load order."""
        return (*self._crbs, *self._rbs)

    # -- internals -------------------------------------------------------------------------------
    def _keys(self, subject: Subject, groups: Iterable[str]) -> frozenset[_Key]:
        return frozenset((_key(subject), *(("g", g) for g in groups)))

    def _decide(self, keys: frozenset[_Key], superuser: bool, request: Request) -> Decision:
        namespace = request.scope
        grants: list[Grant] = []
        problems: list[RbacProblem] = []
        candidates: list[IndexedBinding] = list(self._bindings(keys, self._crb_by_key, self._crbs))
        if namespace is not None:
            positions = sorted({p for key in keys for p in self._rb_by_ns_key.get((namespace, key), ())})
            candidates.extend(self._rbs[p] for p in positions)
        for binding in candidates:
            subject = binding.first_subject(keys)
            roles = self.candidates(binding.role_ref) if binding.role_ref is not None else ()
            if not roles or subject is None:
                problems.extend(binding.problems)
                continue
            for role in roles:
                self._collect(binding, (subject,), role, self._matching_rules(role, request), grants)
        return Decision(request, superuser or bool(grants), tuple(grants), superuser, tuple(problems))

    def _bindings(
        self, keys: frozenset[_Key], by_key: dict[_Key, list[int]], bindings: list[IndexedBinding]
    ) -> Iterator[IndexedBinding]:
        for position in sorted({p for key in keys for p in by_key.get(key, ())}):
            yield bindings[position]

    def _matching_rules(self, role: IndexedRole, request: Request) -> tuple[int, ...]:
        return tuple(i for i, rule in enumerate(role.rules) if rule_allows(rule, request))

    def _cluster_role_matches(self, request: Request) -> dict[ObjectRef, tuple[int, ...]]:
        """ClusterRole (each definition apart) → positions of its rules that allow the request."""
        if request.non_resource_url is not None:
            candidates = self._non_resource
        else:
            verbs = {request.verb, ALL}
            groups = {request.api_group, ALL}
            resources = {request.combined_resource, ALL}
            if request.subresource:
                resources.add(f"{ALL}/{request.subresource}")
            candidates = [
                entry
                for verb in verbs
                for group in groups
                for resource in resources
                for entry in self._buckets.get((verb, group, resource), ())
            ]
        found: dict[ObjectRef, set[int]] = defaultdict(set)
        for ref, position in candidates:
            if rule_allows(self._roles[ref].rules[position], request):
                found[ref].add(position)
        return {ref: tuple(sorted(positions)) for ref, positions in found.items()}

    def _collect(
        self,
        binding: IndexedBinding,
        subjects: Iterable[Subject],
        role: IndexedRole,
        rules: tuple[int, ...],
        out: list[Grant],
    ) -> None:
        if not rules:
            return
        for subject in subjects:
            for position in rules:
                source, source_index = role.source(position)
                rule = role.rules[position]
                out.append(Grant(binding.ref, role.ref, position, rule, subject, source, source_index))

    def _permissions(self, binding: IndexedBinding, keys: frozenset[_Key], out: list[Permission]) -> None:
        subject = binding.first_subject(keys)
        if subject is None or binding.role_ref is None:
            return
        namespace = binding.ref.namespace
        for role in self.candidates(binding.role_ref):
            for position, rule in enumerate(role.rules):
                if namespace is not None and not rule.resources:
                    continue
                source, source_index = role.source(position)
                grant = Grant(binding.ref, role.ref, position, rule, subject, source, source_index)
                out.append(Permission(namespace, rule, grant))


def _aggregation_key(ref: ObjectRef, taken: dict[str, RoleDef]) -> str:
    """The name aggregation knows a ClusterRole by: its own for the first definition, for a later
    one its name with a suffix that cannot be taken (checked, since names come from the input)."""
    key = ref.name
    while key in taken:
        key += "\0"
    return key


def _duplicates(origins: dict[ObjectRef, list[Origin]]) -> list[RbacProblem]:
    """A problem per object declared more than once, naming every place (see `duplicate_message`)."""
    return [
        RbacProblem("duplicate-object", duplicate_message(found), ref)
        for ref, found in origins.items()
        if len(found) > 1
    ]


# Roles the control plane creates in its own namespaces (besides ``system:``-prefixed ones).
_BUILTIN_NAMESPACED_ROLES = frozenset({"extension-apiserver-authentication-reader"})


def _is_builtin_name(ref: ObjectRef) -> bool:
    """A role every cluster has (or every kubeadm cluster), though the scanned objects may omit it."""
    if ref.kind == "ClusterRole":
        return ref.name.startswith("system:")
    if ref.namespace not in ("kube-system", "kube-public"):
        return False
    return ref.name.startswith(("system:", "kubeadm:")) or ref.name in _BUILTIN_NAMESPACED_ROLES


def _add_defaults(
    cluster_roles: dict[str, RoleDef], intern: RuleInterner, problems: list[RbacProblem]
) -> tuple[ObjectRef, ...]:
    added = []
    raws = default_cluster_roles()
    for name in defaults_to_add(set(cluster_roles)):
        resource = resource_from_raw(raws[name], Origin(DEFAULTS_ORIGIN))
        assert isinstance(resource, Resource)
        role = read_role(resource, None, intern, problems)
        cluster_roles[name] = role
        added.append(role.ref)
    return tuple(added)


def _reconcile_defaults(
    cluster_roles: dict[str, RoleDef], intern: RuleInterner, problems: list[RbacProblem]
) -> dict[ObjectRef, str]:
    """Give declared copies of Kubernetes' own ClusterRoles the meaning the API server gives them.

    The API server reconciles its bootstrap roles at every start: it puts back missing rules (extra
    ones stay) and the aggregation rule of ``admin``/``edit``/``view``. So a file's copy cannot make
    ``cluster-admin`` harmless: the rules used are Kubernetes' plus the copy's extras. Returns the
    copies that say less than Kubernetes, with what they leave out.
    """
    redefined: dict[ObjectRef, str] = {}
    defaults = default_cluster_roles()
    for key, declared in list(cluster_roles.items()):
        name = declared.ref.name
        raw = defaults.get(name)
        if raw is None:
            continue
        resource = resource_from_raw(raw, Origin(DEFAULTS_ORIGIN))
        assert isinstance(resource, Resource)
        kube = read_role(resource, None, intern, problems)
        if kube.aggregation is not None:
            if declared.aggregation is None or not all(s in declared.aggregation for s in kube.aggregation):
                redefined[declared.ref] = f"has no aggregationRule selecting {AGGREGATE_TO}{name}"
            cluster_roles[key] = RoleDef(
                declared.ref, declared.rules, declared.labels, kube.aggregation, declared.origin, declared.positions
            )
            continue
        missing = [rule for rule in kube.rules if rule not in declared.rules]
        # The aggregation sources change with every Kubernetes version: only cluster-admin's are fixed.
        if missing and name == "cluster-admin":
            redefined[declared.ref] = f"leaves out {len(missing)} of Kubernetes' {len(kube.rules)} rules"
        extras = tuple(rule for rule in declared.rules if rule not in kube.rules)
        cluster_roles[key] = RoleDef(declared.ref, (*kube.rules, *extras), declared.labels, None, declared.origin)
    return redefined
