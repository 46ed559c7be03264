"""How RB findings name who holds a power, where, and through what: short, with "and N more"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stockade.model.finding import Severity
from stockade.model.resource import Resource
from stockade.rbac.danger import Danger, DangerMatch
from stockade.rbac.exposure import Exposure
from stockade.rbac.model import Subject
from stockade.rbac.objects import subject_position
from stockade.rules.base import Path

SHOWN = 3  # subjects or bindings named in a message before "and N more"


def some(items: Sequence[object]) -> str:
    """The first few items, then how many more."""
    shown = ", ".join(str(i) for i in items[:SHOWN])
    rest = len(items) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def where(exposures: Iterable[Exposure]) -> str:
    """``cluster-wide through ClusterRoleBinding/x; in namespace a through RoleBinding/a/b``."""
    # By identity: two definitions of one binding read the same in a message.
    bindings = list(dict.fromkeys(e.binding.identity for e in exposures))
    cluster = [b for b in bindings if b.namespace is None]
    namespaced = [b for b in bindings if b.namespace is not None]
    parts = []
    if cluster:
        parts.append(f"cluster-wide through {some(cluster)}")
    if namespaced:
        namespaces = list(dict.fromkeys(str(b.namespace) for b in namespaced))
        label = "namespace" if len(namespaces) == 1 else "namespaces"
        parts.append(f"in {label} {some(namespaces)} through {some(namespaced)}")
    return "; ".join(parts)


def subjects_of(exposures: Iterable[Exposure]) -> list[Subject]:
    return list(dict.fromkeys(s for e in exposures for s in e.subjects))


def describe(matches: Iterable[DangerMatch]) -> str:
    """``read Secrets (get,list,watch secrets); create pods or workloads (create pods)``, one entry per danger."""
    merged: dict[Danger, DangerMatch] = {}
    for match in matches:
        known = merged.get(match.danger)
        if known is None:
            merged[match.danger] = match
        else:
            allows = tuple(dict.fromkeys((*known.allows, *match.allows)))
            names = tuple(dict.fromkeys((*known.names, *match.names))) if known.names and match.names else ()
            merged[match.danger] = DangerMatch(match.danger, allows, names)
    return "; ".join(f"{m.info.summary} ({m})" for m in merged.values())


def worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank)


def subject_path(binding: Resource, subject: Subject, namespace: str | None) -> Path:
    """``subjects[i]`` of the subject as written in the binding, or ``subjects`` when it cannot be placed."""
    position = subject_position(binding, subject, namespace)
    return ("subjects", position) if position is not None else ("subjects",)


def summaries(dangers: Iterable[DangerMatch]) -> str:
    """``read Secrets; create pods or workloads``: what the dangers lead to, without the rules."""
    return "; ".join(m.info.summary for m in dangers)
