"""Which resources the watcher lists and watches: the kinds its rules read, nothing more.

Watching only what the selected rules judge or read keeps memory and API load down, and lets the
in-cluster ClusterRole (``stockade deploy manifests``) list exactly the permissions used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stockade.api import ScanOptions, select
from stockade.engine.incremental import TemplatePaths, input_kinds
from stockade.model.kinds import BUILTIN_GROUPS, BUILTIN_TYPES
from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS
from stockade.model.rule import RuleSpec


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


# Custom kinds the rules read, where the ClusterRole must name them: (group, plural).
KNOWN_CUSTOM: Mapping[str, tuple[tuple[str, str], ...]] = {
    "CiliumNetworkPolicy": (("cilium.io", "ciliumnetworkpolicies"),),
    "CiliumClusterwideNetworkPolicy": (("cilium.io", "ciliumclusterwidenetworkpolicies"),),
    "GlobalNetworkPolicy": (("crd.projectcalico.org", "globalnetworkpolicies"),),
}
# Read by the RBAC analysis only for legacy service-account token Secrets (their type and owner).
# RBAC cannot grant Secret metadata without their values, so the watcher does not read them by
# default: routes through such tokens are seen only with --kinds secrets (values are blanked on
# arrival and never stored).
NOT_BY_DEFAULT = frozenset({"Secret"})


def default_kinds(
    rules: Iterable[RuleSpec] | None = None, template_paths: TemplatePaths | None = None
) -> frozenset[str]:
    """What the watcher lists and watches when not told: every kind ``rules`` (default: the default
    selection) judge or read, but Secrets (see NOT_BY_DEFAULT)."""
    chosen = list(rules) if rules is not None else select(ScanOptions())
    paths = DEFAULT_EXTRA_TEMPLATE_PATHS if template_paths is None else template_paths
    return input_kinds(chosen, paths) - NOT_BY_DEFAULT


def watched_resources(kinds: Iterable[str] | None = None) -> list[WatchedResource]:
    """The resources serving ``kinds`` (default: :func:`default_kinds`), sorted by group and plural:
    built-in types at their preferred version, and the custom kinds rules read (pod-template CRDs,
    network-policy CRDs) with no version (a cluster serves whichever it has)."""
    wanted = set(default_kinds() if kinds is None else kinds)
    found = {
        WatchedResource(t.group, t.versions[0], t.plural, t.kind, t.namespaced)
        for t in BUILTIN_TYPES
        if t.kind in wanted and t.served_by_default and "watch" in t.verbs
    }
    for group, kind in DEFAULT_EXTRA_TEMPLATE_PATHS:
        if kind in wanted and group not in BUILTIN_GROUPS:
            found.add(WatchedResource(group, "", _plural(kind), kind, True))
    for kind, entries in KNOWN_CUSTOM.items():
        if kind in wanted:
            found.update(WatchedResource(g, "", plural, kind, "Clusterwide" not in kind and "Global" not in kind)
                         for g, plural in entries)  # fmt: skip
    return sorted(found)


def _plural(kind: str) -> str:
    lower = kind.lower()
    return lower[:-1] + "ies" if lower.endswith("y") else lower + ("es" if lower.endswith("s") else "s")
