"""Privileged-access review: who is cluster-admin-equivalent, how, and which maturity stage that reaches.

An identity is *cluster-admin-equivalent* when it

- holds every verb on every resource in every API group cluster-wide (``cluster-admin`` or a copy),
  or is the ``system:masters`` group, which the API server lets through before RBAC is consulted
  (a *direct* holder); or
- is one step away from a direct holder (a *one-step* holder): it can bind ``cluster-admin`` and
  create ClusterRoleBindings; escalate and update ClusterRoles; impersonate ``system:masters`` or
  a direct holder; create or change workloads, or exec into pods, in a namespace where a
  cluster-admin-equivalent ServiceAccount lives (pods can run as any ServiceAccount of their
  namespace); read that ServiceAccount's legacy token Secret or mint a token for it.

Only one step is followed; longer chains are attack paths, the paths engine's business.

The stages of the RBAC area (crawl / walk / run):

- **crawl**: privileged access is confined to groups. No human user is bound directly to a
  cluster-admin-equivalent role, and no catch-all group (``system:authenticated``,
  ``system:unauthenticated``, ``system:serviceaccounts``) or ``system:anonymous`` holds it.
- **walk**: privileged identities are separate from everyday ones. Every user, group and
  ServiceAccount holding it is a dedicated admin identity (the name carries a marker:
  ``admin``/``admins``/``administrator``/``root``/``superuser``/``privileged`` as a separate word,
  as in ``alice-admin`` or ``platform-admins``, or a break-glass marker), and no ServiceAccount that
  a workload runs as holds it, whatever its name. A CI deployer account with cluster-admin is an
  everyday identity with an admin's power: it keeps a cluster at crawl.
- **run**: only break-glass identities hold it: the name contains ``break-glass``/``breakglass``/
  ``emergency``, or every binding that grants it is annotated ``stockade.io/break-glass: "true"``.

Kubernetes' own identities (stock grants, see `stockade.rbac.objects`, and ``system:masters``)
are listed but never count against a stage: their access is how the control plane works.
Pure: no I/O; reads the Inventory for workloads, Secrets and binding annotations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from stockade.model.finding import Stage
from stockade.model.inventory import Inventory
from stockade.rbac.danger import DANGERS, Danger, Probe
from stockade.rbac.index import RbacIndex
from stockade.rbac.model import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    MASTERS_GROUP,
    SERVICE_ACCOUNTS_GROUP,
    UNAUTHENTICATED_GROUP,
    Grant,
    Request,
    Subject,
)
from stockade.rbac.objects import (
    SYSTEM_NAMESPACE,
    RbacObjects,
    has_admin_marker,
    has_break_glass_marker,
)
from stockade.rbac.parse import RBAC_GROUP

TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 - a type name, not a secret
TOKEN_SA_ANNOTATION = "kubernetes.io/service-account.name"  # noqa: S105 - an annotation key
CATCH_ALL_GROUPS = frozenset({AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, SERVICE_ACCOUNTS_GROUP})

# How an identity gets there; the words the table and JSON use.
ROUTES: Mapping[str, str] = {
    "all-access": "holds * on * cluster-wide",
    "system-masters": "is system:masters, which bypasses RBAC",
    "bind": "can bind cluster-admin and create ClusterRoleBindings",
    "escalate": "can escalate and update ClusterRoles",
    "impersonate": "can impersonate a cluster-admin-equivalent identity",
    "create-workloads": "can run pods as a cluster-admin-equivalent ServiceAccount",
    "exec-pods": "can exec into pods that run as a cluster-admin-equivalent ServiceAccount",
    "read-token": "can read a cluster-admin-equivalent ServiceAccount's token Secret",
    "create-token": "can mint tokens for a cluster-admin-equivalent ServiceAccount",
}


@dataclass(frozen=True, slots=True)
class Route:
    """One way ``Holder.subject`` is cluster-admin-equivalent: ``kind`` from ROUTES, the grants behind it."""

    kind: str
    detail: str
    grants: tuple[Grant, ...] = ()
    target: Subject | None = None

    @property
    def direct(self) -> bool:
        return self.kind in ("all-access", "system-masters")


@dataclass(frozen=True, slots=True)
class Holder:
    """A cluster-admin-equivalent identity.

    ``system``: only Kubernetes' own grants make it one. ``separate_identity``: its name marks it as
    a dedicated admin (or break-glass) identity. ``workloads``: for a ServiceAccount, the objects
    whose pods run as it.
    """

    subject: Subject
    routes: tuple[Route, ...]
    system: bool
    break_glass: bool
    separate_identity: bool
    workloads: tuple[str, ...] = ()

    @property
    def direct(self) -> bool:
        return any(route.direct for route in self.routes)

    @property
    def catch_all(self) -> bool:
        """Everyone (or every ServiceAccount) rather than chosen identities."""
        if self.subject.kind == "User":
            return self.subject.name == ANONYMOUS_USER
        return self.subject.kind == "Group" and self.subject.name in CATCH_ALL_GROUPS


@dataclass(frozen=True, slots=True)
class StageCheck:
    """Whether ``stage``'s condition holds, and if not, what stands in the way."""

    stage: Stage
    met: bool
    requirement: str
    gaps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrivilegedReview:
    """The answer of `review_privileged`. ``stage`` None: not even crawl (or nothing to judge)."""

    holders: tuple[Holder, ...]
    checks: tuple[StageCheck, ...]
    stage: Stage | None
    bindings_scanned: int
    privileged_namespaces: frozenset[str] = field(default_factory=frozenset)

    @property
    def next_check(self) -> StageCheck | None:
        """The first stage not reached, whose gaps say what is missing; None at run."""
        return next((check for check in self.checks if not check.met), None)

    def of_kind(self, kind: str) -> tuple[Holder, ...]:
        return tuple(h for h in self.holders if h.subject.kind == kind)


_STAGE_TEXT = {
    Stage.CRAWL: "privileged access is confined to groups: no user bound directly, no catch-all group",
    Stage.WALK: "privileged identities are dedicated admin identities or groups; no workload ServiceAccount holds it",
    Stage.RUN: "only break-glass identities hold cluster-admin-equivalent access",
}


def review_privileged(inventory: Inventory, index: RbacIndex, objects: RbacObjects | None = None) -> PrivilegedReview:
    """Find the cluster-admin-equivalent identities of ``inventory`` and judge the stage reached."""
    objects = objects or RbacObjects(inventory)
    finder = _Finder(inventory, index)
    direct = finder.find_direct()
    one_step = finder.one_step(direct)
    workloads = _workloads_by_service_account(inventory)
    holders = []
    for subject, routes in (*direct.items(), *((s, r) for s, r in one_step.items() if s not in direct)):
        holders.append(_holder(subject, tuple(routes), objects, workloads))
    holders.sort(key=lambda h: (h.system, not h.direct, h.subject.kind, h.subject.namespace or "", h.subject.name))
    bindings = len(index.bindings())
    checks = _checks(holders) if bindings else _nothing_to_judge()
    stage = None
    for check in checks:
        if not check.met:
            break
        stage = check.stage
    namespaces = {SYSTEM_NAMESPACE} | finder.admin_namespaces(direct)
    return PrivilegedReview(tuple(holders), checks, stage, bindings, frozenset(namespaces))


class _Finder:
    def __init__(self, inventory: Inventory, index: RbacIndex) -> None:
        self.inventory = inventory
        self.index = index
        self.direct: Mapping[Subject, list[Route]] = {}
        self.found: dict[Subject, list[Route]] = defaultdict(list)

    def find_direct(self) -> dict[Subject, list[Route]]:
        found: dict[Subject, list[Route]] = defaultdict(list)
        every = self.index.who_can(Request("*", "*", api_group="*"))
        for subject, grants in _by_subject(every.grants).items():
            roles = ", ".join(dict.fromkeys(f"{g.binding} → {g.role}" for g in grants))
            found[subject].append(Route("all-access", f"{ROUTES['all-access']} ({roles})", grants))
        found[Subject.group(MASTERS_GROUP)].append(Route("system-masters", ROUTES["system-masters"]))
        return dict(found)

    def admin_namespaces(self, direct: Mapping[Subject, list[Route]]) -> set[str]:
        """Namespaces where some ServiceAccount is cluster-admin-equivalent."""
        namespaces: set[str] = set()
        for subject in direct:
            if subject.kind == "ServiceAccount" and subject.namespace:
                namespaces.add(subject.namespace)
            elif subject.kind == "Group" and subject.name.startswith(f"{SERVICE_ACCOUNTS_GROUP}:"):
                namespaces.add(subject.name.removeprefix(f"{SERVICE_ACCOUNTS_GROUP}:"))
            elif subject.kind == "Group" and subject.name in (SERVICE_ACCOUNTS_GROUP, AUTHENTICATED_GROUP):
                namespaces |= set(self.inventory.namespaces)
        return namespaces

    def one_step(self, direct: Mapping[Subject, list[Route]]) -> dict[Subject, list[Route]]:
        self.direct = direct
        self.found = defaultdict(list)
        self._bind_and_escalate()
        masters = Subject.group(MASTERS_GROUP)
        self._add("impersonate", "can impersonate group system:masters", _impersonate("groups", MASTERS_GROUP), masters)
        for subject in direct:
            detail = f"can impersonate {subject}"
            if subject.kind == "User":
                self._add("impersonate", detail, _impersonate("users", subject.name), subject)
            elif subject.kind == "Group" and subject.name != MASTERS_GROUP:
                self._add("impersonate", detail, _impersonate("groups", subject.name), subject)
            elif subject.kind == "ServiceAccount" and subject.namespace:
                request = _impersonate("serviceaccounts", subject.name, subject.namespace)
                self._add("impersonate", detail, request, subject)
                token = Request("create", "serviceaccounts/token", name=subject.name, namespace=subject.namespace)
                self._add("create-token", f"can mint tokens for {subject}", token, subject)
        targets = self._targets_by_namespace()
        for namespace, subjects in sorted(targets.items()):
            who = subjects[0]
            for probe in DANGERS[Danger.CREATE_WORKLOADS].probes:
                detail = f"can {probe} in namespace {namespace}, where {who} is cluster-admin-equivalent"
                self._add("create-workloads", detail, _in(probe, namespace), who)
        self._exec_pods(targets)
        self._read_tokens(targets)
        return {subject: _merged(routes) for subject, routes in self.found.items()}

    def _add(self, kind: str, detail: str, request: Request, target: Subject | None = None) -> None:
        for subject, grants in _by_subject(self.index.who_can(request).grants).items():
            if subject not in self.direct:
                self.found[subject].append(Route(kind, detail, grants, target))

    def _bind_and_escalate(self) -> None:
        pairs = (
            ("bind", Request("bind", "clusterroles", api_group=RBAC_GROUP, name="cluster-admin"), ("create",)),
            ("escalate", Request("escalate", "clusterroles", api_group=RBAC_GROUP), ("update", "patch")),
        )
        for kind, request, verbs in pairs:
            resource = "clusterrolebindings" if kind == "bind" else "clusterroles"
            for subject, grants in _by_subject(self.index.who_can(request).grants).items():
                if subject in self.direct:
                    continue
                for verb in verbs:
                    decision = self.index.can_subject(subject, Request(verb, resource, api_group=RBAC_GROUP))
                    if decision.allowed:
                        self.found[subject].append(Route(kind, ROUTES[kind], (*grants, *decision.grants)))
                        break

    def _targets_by_namespace(self) -> dict[str, list[Subject]]:
        """Namespace → the cluster-admin-equivalent ServiceAccounts (or SA groups) that live there."""
        targets: dict[str, list[Subject]] = defaultdict(list)
        for subject in sorted(self.direct):
            if subject.kind == "ServiceAccount" and subject.namespace:
                targets[subject.namespace].append(subject)
        for namespace in sorted(self.admin_namespaces(self.direct)):
            if namespace not in targets:
                targets[namespace].append(Subject.group(f"{SERVICE_ACCOUNTS_GROUP}:{namespace}"))
        return targets

    def _exec_pods(self, targets: Mapping[str, list[Subject]]) -> None:
        runs_as = _workloads_by_service_account(self.inventory)
        for namespace, subjects in sorted(targets.items()):
            names = {s.name for s in subjects if s.kind == "ServiceAccount"}
            whole_namespace = any(s.kind == "Group" for s in subjects)
            used = sorted(sa for (ns, sa) in runs_as if ns == namespace and (whole_namespace or sa in names))
            if not used:
                continue
            who = Subject.service_account(namespace, used[0])
            for probe in DANGERS[Danger.EXEC_PODS].probes:
                detail = f"can {probe} in namespace {namespace}, where pods run as {who}"
                self._add("exec-pods", detail, _in(probe, namespace), who)

    def _read_tokens(self, targets: Mapping[str, list[Subject]]) -> None:
        for secret in self.inventory.of_kind("Secret"):
            if secret.raw.get("type") != TOKEN_SECRET_TYPE:
                continue
            namespace = self.inventory.effective_namespace(secret) or "default"
            account = secret.annotations.get(TOKEN_SA_ANNOTATION)
            subjects = targets.get(namespace, [])
            owner = Subject.service_account(namespace, str(account))
            if owner not in subjects and not any(s.kind == "Group" for s in subjects):
                continue
            detail = f"can read Secret {namespace}/{secret.name}, the token of {owner}"
            self._add("read-token", detail, Request("get", "secrets", name=secret.name, namespace=namespace), owner)
            for verb in ("list", "watch"):
                self._add("read-token", detail, Request(verb, "secrets", namespace=namespace), owner)


def _merged(routes: list[Route]) -> list[Route]:
    """One route per (kind, target): the first detail, every grant behind it."""
    merged: dict[tuple[str, Subject | None], Route] = {}
    for route in routes:
        key = (route.kind, route.target)
        if key in merged:
            first = merged[key]
            grants = tuple(dict.fromkeys((*first.grants, *route.grants)))
            merged[key] = Route(first.kind, first.detail, grants, first.target)
        else:
            merged[key] = route
    return list(merged.values())


def _impersonate(resource: str, name: str, namespace: str | None = None) -> Request:
    return Request("impersonate", resource, name=name, namespace=namespace)


def _in(probe: Probe, namespace: str) -> Request:
    return Request(probe.verb, probe.resource, api_group=probe.group, namespace=namespace)


def _by_subject(grants: Iterable[Grant]) -> dict[Subject, tuple[Grant, ...]]:
    grouped: dict[Subject, list[Grant]] = defaultdict(list)
    for grant in grants:
        grouped[grant.subject].append(grant)
    return {subject: tuple(items) for subject, items in grouped.items()}


def _workloads_by_service_account(inventory: Inventory) -> dict[tuple[str, str], tuple[str, ...]]:
    """(namespace, ServiceAccount) → the objects whose pods run as it."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pod in inventory.pod_templates:
        name = "default"
        for key in ("serviceAccountName", "serviceAccount"):
            value = pod.spec.get(key)
            if isinstance(value, str) and value:
                name = value
                break
        namespace = inventory.effective_namespace(pod.carrier) or "default"
        found[(namespace, name)].append(pod.carrier.display)
    return {key: tuple(dict.fromkeys(items)) for key, items in found.items()}


def _holder(
    subject: Subject,
    routes: tuple[Route, ...],
    objects: RbacObjects,
    workloads: Mapping[tuple[str, str], tuple[str, ...]],
) -> Holder:
    grants = [grant for route in routes for grant in route.grants]
    masters = subject == Subject.group(MASTERS_GROUP)
    system = masters or (bool(grants) and all(objects.is_stock_grant(g.binding, g.subject) for g in grants))
    annotated = bool(grants) and all(objects.is_break_glass_binding(g.binding) for g in grants)
    break_glass = has_break_glass_marker(subject.name) or annotated
    separate = break_glass or has_admin_marker(subject.name)
    used: tuple[str, ...] = ()
    if subject.kind == "ServiceAccount" and subject.namespace:
        used = workloads.get((subject.namespace, subject.name), ())
    return Holder(subject, routes, system, break_glass, separate, used)


def _checks(holders: list[Holder]) -> tuple[StageCheck, ...]:
    chosen = [h for h in holders if not h.system]
    crawl: list[str] = []
    walk: list[str] = []
    run: list[str] = []
    for holder in chosen:
        subject = holder.subject
        how = "; ".join(route.detail for route in holder.routes)
        if holder.catch_all:
            crawl.append(f"{subject} is cluster-admin-equivalent: that is everyone it stands for ({how})")
        elif subject.kind == "User" and holder.direct:
            crawl.append(f"{subject} is bound directly ({how}); grant it to a group instead")
        if holder.catch_all:
            walk.append(f"{subject} is not a dedicated privileged identity")
        elif subject.kind in ("User", "Group") and not holder.separate_identity:
            kind = "user" if subject.kind == "User" else "group"
            walk.append(
                f"{subject} is an everyday {kind}, not a separate privileged identity "
                f"(use a dedicated admin {kind}, e.g. named with an -admin/-admins marker) ({how})"
            )
        elif subject.kind == "ServiceAccount" and holder.workloads:
            walk.append(f"{subject} is used by workloads ({', '.join(holder.workloads)}) ({how})")
        elif subject.kind == "ServiceAccount" and not holder.separate_identity:
            walk.append(
                f"{subject} is an everyday automation account, not a dedicated privileged one; give it only "
                f"what it deploys ({how})"
            )
        if not holder.break_glass:
            run.append(
                f"{subject} is not a break-glass identity (name it as one or annotate its bindings "
                f'stockade.io/break-glass: "true") ({how})'
            )
    return (
        StageCheck(Stage.CRAWL, not crawl, _STAGE_TEXT[Stage.CRAWL], tuple(crawl)),
        StageCheck(Stage.WALK, not walk, _STAGE_TEXT[Stage.WALK], tuple(walk)),
        StageCheck(Stage.RUN, not run, _STAGE_TEXT[Stage.RUN], tuple(run)),
    )


def _nothing_to_judge() -> tuple[StageCheck, ...]:
    gap = ("no RoleBinding or ClusterRoleBinding in the scanned objects: nothing to judge",)
    return tuple(StageCheck(stage, False, _STAGE_TEXT[stage], gap) for stage in Stage)
