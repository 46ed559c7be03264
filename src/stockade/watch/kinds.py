"""Which resources the watcher lists and watches: the kinds its rules read, nothing more.

Watching only what the selected rules judge or read keeps memory and API load down, and lets the
in-cluster ClusterRole (``stockade deploy manifests``) list exactly the permissions used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockade.model.kinds import BUILTIN_TYPES


@dataclass(frozen=True, slots=True, order=True)
class WatchedResource:
    """A resource the watcher lists and watches, at its preferred built-in version."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


# What the rule set reads until the rules declare their inputs (see ``watched_resources``).
DEFAULT_KINDS: frozenset[str] = frozenset(
    {
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Service",
        "Ingress",
        "NetworkPolicy",
        "Namespace",
        "ServiceAccount",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ConfigMap",
        "CustomResourceDefinition",
    }
)


def watched_resources(kinds: Iterable[str] = DEFAULT_KINDS) -> list[WatchedResource]:
    """The built-in resources serving ``kinds`` (a kind no built-in type serves is left out: custom
    kinds are found through discovery), sorted by group and plural."""
    wanted = set(kinds)
    found = {
        WatchedResource(t.group, t.versions[0], t.plural, t.kind, t.namespaced)
        for t in BUILTIN_TYPES
        if t.kind in wanted and t.served_by_default and "watch" in t.verbs
    }
    return sorted(found)
