"""Git against the cluster: objects missing on either side and fields that differ.

What counts as a field someone set, on the live side, is decided per object, in this order:

1. ``managedFields``: every field some manager owns, other than Kubernetes' own controllers and
   status writers. Defaults belong to no manager, so they never count.
2. ``kubectl.kubernetes.io/last-applied-configuration``: the fields of the last ``kubectl apply``.
3. Neither: only the fields git sets are compared (a field added by hand cannot be told from a
   default, and the report says so).

Fields git sets are always compared. Secret values are never read by any Stockade source, so a
Secret is compared by its keys and metadata only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stockade.drift.fields import Item, Ownership, Path, flatten, owned_fields, same, show
from stockade.model.finding import InputProblem
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.resource import Resource

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MISSING: Any = object()  # a side that does not have the field
# Metadata the API server or the operators write, never a user's choice.
SERVER_METADATA = frozenset(
    {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp"}
)
# Field managers that are Kubernetes itself: their writes are the cluster running, not drift.
SYSTEM_MANAGERS = (
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-apiserver",
    "kube-proxy",
    "cloud-controller-manager",
    "k3s",
    "before-first-apply",
)
# Labels and annotations the operators stamp on what they apply (tracking, not configuration).
BOOKKEEPING_PREFIXES = (
    "argocd.argoproj.io/",
    "kustomize.toolkit.fluxcd.io/",
    "helm.toolkit.fluxcd.io/",
    "meta.helm.sh/",
    "deployment.kubernetes.io/",
)
# kubernetes.io/metadata.name: the API server labels every Namespace with its name.
BOOKKEEPING_KEYS = frozenset(
    {LAST_APPLIED, "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "kubernetes.io/metadata.name"}
)
# Objects Kubernetes makes in every namespace, or that controllers keep: never expected in git.
DERIVED_KINDS = frozenset({"Event", "Endpoints", "EndpointSlice", "Lease", "ControllerRevision"})
DERIVED_NAMES = frozenset({("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")})

BASIS_MANAGED = "managedFields"
BASIS_LAST_APPLIED = "last-applied-configuration"
BASIS_GIT = "git fields only"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs. ``git`` / ``cluster`` are :data:`MISSING` where a side lacks it;
    ``managers``: who set the cluster's value, when managedFields say."""

    path: Path
    git: Any
    cluster: Any
    managers: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return show(self.path)

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"field": self.name}
        if self.git is not MISSING:
            found["git"] = self.git
        if self.cluster is not MISSING:
            found["cluster"] = self.cluster
        if self.managers:
            found["managers"] = list(self.managers)
        return found


@dataclass(frozen=True, slots=True)
class ObjectDrift:
    """``state``: ``missing`` (in git, not in the cluster), ``extra`` (in the cluster, not in git),
    ``changed`` or ``in-sync``."""

    kind: str
    group: str
    namespace: str | None
    name: str
    state: str
    basis: str = ""
    changes: tuple[FieldChange, ...] = ()
    git_view: Mapping[Path, Any] = field(default_factory=dict, repr=False)
    cluster_view: Mapping[Path, Any] = field(default_factory=dict, repr=False)
    origin: str = ""  # where git holds it

    @property
    def key(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return "/".join([kind, *([self.namespace] if self.namespace else []), self.name])

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"object": self.key, "state": self.state}
        if self.basis:
            found["basis"] = self.basis
        if self.origin:
            found["origin"] = self.origin
        if self.changes:
            found["changes"] = [c.to_json() for c in self.changes]
        return found


@dataclass(frozen=True, slots=True)
class DriftReport:
    objects: tuple[ObjectDrift, ...]
    namespaces: tuple[str, ...]  # where objects not in git were looked for
    errors: tuple[InputProblem, ...] = ()  # inputs on either side that could not be read
    not_compared: tuple[str, ...] = ()  # git objects outside what was read of the cluster

    @property
    def drifted(self) -> tuple[ObjectDrift, ...]:
        return tuple(o for o in self.objects if o.state != "in-sync")

    def count(self, state: str) -> int:
        return sum(1 for o in self.objects if o.state == state)

    def to_json(self) -> dict[str, Any]:
        return {
            "namespaces": list(self.namespaces),
            "summary": {s: self.count(s) for s in ("missing", "extra", "changed", "in-sync")},
            "objects": [o.to_json() for o in self.drifted],
            "problems": [str(p) for p in self.errors],
            "not_compared": list(self.not_compared),
        }


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """``namespace``: where git objects without one land; ``namespaces``: more namespaces in which
    cluster objects must come from git (those git's objects are in always do); ``ignore_managers``:
    field managers whose writes are expected (a CA injector, an autoscaler)."""

    namespace: str = DEFAULT_NAMESPACE
    namespaces: tuple[str, ...] = ()
    ignore_managers: frozenset[str] = frozenset()
    read_only: tuple[str, ...] = ()  # the cluster was read in these namespaces only (nothing else compared)


Key = tuple[str, str, str | None, str]  # group, kind, namespace, name


def compare(
    git: Sequence[Resource], cluster: Sequence[Resource], options: DriftOptions = DriftOptions()
) -> DriftReport:
    live: dict[Key, Resource] = {(r.group, r.kind, r.namespace or None, r.name): r for r in cluster}
    scopes = Inventory([*cluster, *git])
    results: list[ObjectDrift] = []
    matched: set[Key] = set()
    outside: list[str] = []
    for wanted in git:
        key = _git_key(wanted, live, scopes, options.namespace)
        if options.read_only and key[2] not in options.read_only:
            outside.append(ObjectDrift(key[1], key[0], key[2], key[3], "").key)
            continue
        have = live.get(key)
        if have is None:
            git_view = flatten(_comparable(wanted.raw))
            results.append(
                ObjectDrift(key[1], key[0], key[2], key[3], "missing", git_view=git_view, origin=wanted.origin.place)
            )
            continue
        matched.add(key)
        results.append(_compare_object(key, wanted, have, options))
    namespaces = sorted({o.namespace for o in results if o.namespace} | set(options.namespaces))
    for key, have in live.items():
        if key not in matched and key[2] in namespaces and not _derived(have):
            results.append(
                ObjectDrift(key[1], key[0], key[2], key[3], "extra", cluster_view=_set_fields(have, options))
            )
    results.sort(key=lambda o: (o.namespace or "", o.kind, o.name, o.group))
    return DriftReport(tuple(results), tuple(namespaces), not_compared=tuple(sorted(outside)))


def _git_key(wanted: Resource, live: Mapping[Key, Resource], scopes: Inventory, namespace: str) -> Key:
    cluster_scoped = (wanted.group, wanted.kind, None, wanted.name)
    if scopes.scope_of(wanted) is False:
        return cluster_scoped  # a namespace written on a cluster-scoped kind is ignored, as kubectl does
    if wanted.namespace:
        return (wanted.group, wanted.kind, wanted.namespace, wanted.name)
    namespaced = (wanted.group, wanted.kind, namespace, wanted.name)
    scope = scopes.scope_of(wanted)
    if scope is None:  # a custom kind whose CRD neither side holds: where the cluster has it
        scope = namespaced in live or cluster_scoped not in live
    return namespaced if scope else cluster_scoped


def _derived(resource: Resource) -> bool:
    """Made by Kubernetes or a controller, not by anyone's manifest."""
    if resource.kind in DERIVED_KINDS or (resource.kind, resource.name) in DERIVED_NAMES:
        return True
    if resource.metadata.get("ownerReferences"):
        return True
    return resource.kind == "Secret" and resource.raw.get("type") == "kubernetes.io/service-account-token"


def _comparable(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The object without status, server metadata and its namespace (already matched)."""
    view = {k: v for k, v in raw.items() if k not in ("status", "apiVersion")}
    metadata = raw.get("metadata")
    if isinstance(metadata, Mapping):
        view["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_METADATA and k != "namespace"}
    if str(raw.get("kind", "")).lower() == "secret":
        # Values are never read; keys are. stringData is written into data by the API server.
        keys = {**_dict(raw.get("data")), **_dict(raw.get("stringData"))}
        view.pop("stringData", None)
        view["data"] = dict.fromkeys(keys, "(value not read)")
    return view


def _dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _bookkeeping(path: Path) -> bool:
    if len(path) < 3 or path[0] != "metadata" or path[1] not in ("labels", "annotations"):
        return False
    name = str(path[2])
    return name in BOOKKEEPING_KEYS or name.startswith(BOOKKEEPING_PREFIXES)


def _ownership(raw: Mapping[str, Any], ignore: frozenset[str]) -> Ownership:
    metadata = raw.get("metadata")
    entries = metadata.get("managedFields") if isinstance(metadata, Mapping) else None
    taken: list[tuple[str, list[Path]]] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, Mapping) or entry.get("subresource") == "status":
            continue
        manager = str(entry.get("manager") or "")
        if manager in ignore or manager.startswith(SYSTEM_MANAGERS):
            continue
        taken.append((manager, owned_fields(entry.get("fieldsV1"))))
    return Ownership(taken)


def _last_applied(raw: Mapping[str, Any]) -> dict[Path, Any] | None:
    annotations = raw.get("metadata", {}).get("annotations") if isinstance(raw.get("metadata"), Mapping) else None
    text = annotations.get(LAST_APPLIED) if isinstance(annotations, Mapping) else None
    if not isinstance(text, str):
        return None
    try:
        applied = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return flatten(_comparable(applied)) if isinstance(applied, Mapping) else None


def _set_fields(resource: Resource, options: DriftOptions) -> dict[Path, Any]:
    """The fields someone set on a live object (all of them when nothing says which)."""
    leaves = flatten(_comparable(resource.raw))
    ownership = _ownership(resource.raw, options.ignore_managers)
    if not ownership:
        return leaves
    return {p: v for p, v in leaves.items() if ownership.owners(p) and not _bookkeeping(p)}


def _compare_object(key: Key, wanted: Resource, have: Resource, options: DriftOptions) -> ObjectDrift:
    git_leaves = flatten(_comparable(wanted.raw))
    live_leaves = flatten(_comparable(have.raw))
    ownership = _ownership(have.raw, options.ignore_managers)
    applied = None if ownership else _last_applied(have.raw)
    if ownership:
        basis = BASIS_MANAGED
        live_set = {p for p in live_leaves if ownership.owners(p)}
    elif applied is not None:
        basis = BASIS_LAST_APPLIED
        live_set = {p for p in live_leaves if p in applied}
    else:
        basis = BASIS_GIT
        live_set = set()
    compared = set(git_leaves) | {p for p in live_set if not _bookkeeping(p)}
    changes = []
    cluster_view = {}
    for path in sorted(compared, key=_sort_key):
        mine, theirs = git_leaves.get(path, MISSING), live_leaves.get(path, MISSING)
        if mine is not MISSING and theirs is not MISSING and same(path, mine, theirs):
            cluster_view[path] = mine  # the same amount, written as git writes it (0.5, not 500m)
            continue
        if theirs is not MISSING:
            cluster_view[path] = theirs
        managers = tuple(sorted(ownership.owners(path))) if theirs is not MISSING else ()
        changes.append(FieldChange(path, mine, theirs, managers))
    return ObjectDrift(
        key[1],
        key[0],
        key[2],
        key[3],
        "changed" if changes else "in-sync",
        basis,
        tuple(_whole_items(changes, git_leaves, live_leaves)),
        git_view=git_leaves,
        cluster_view=cluster_view,
        origin=wanted.origin.place,
    )


def _whole_items(changes: list[FieldChange], git: Mapping[Path, Any], cluster: Mapping[Path, Any]) -> list[FieldChange]:
    """A list item only one side has (an env var added by hand) as one change, not one per field."""
    merged: list[FieldChange] = []
    for change in changes:
        lacking, having = (git, cluster) if change.git is MISSING else (cluster, git)
        item = _lone_item(change.path, lacking)
        if item is None:
            merged.append(change)
            continue
        if merged and merged[-1].path == item:
            continue
        inside = {p[len(item) :]: v for p, v in having.items() if p[: len(item)] == item}
        value = _plain(inside)
        managers = tuple(sorted({m for c in changes if c.path[: len(item)] == item for m in c.managers}))
        if change.git is MISSING:
            merged.append(FieldChange(item, MISSING, value, managers))
        else:
            merged.append(FieldChange(item, value, MISSING, managers))
    return merged


def _lone_item(path: Path, lacking: Mapping[Path, Any]) -> Path | None:
    """The outermost list item holding ``path`` of which ``lacking`` has nothing."""
    for end in range(1, len(path) + 1):
        prefix = path[:end]
        if isinstance(prefix[-1], Item) and not any(p[:end] == prefix for p in lacking):
            return prefix
    return None


def _plain(leaves: Mapping[Path, Any]) -> Any:
    """Leaves under one item as a plain map (for JSON)."""
    if () in leaves:
        return leaves[()]
    return {show(path): value for path, value in leaves.items()}


def _sort_key(path: Path) -> tuple[tuple[int, str], ...]:
    return tuple((1, e.label) if not isinstance(e, str) else (0, e) for e in path)
