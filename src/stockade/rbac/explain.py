"""Everything a subject may do, rule by rule, with the dangers each rule grants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockade.rbac.danger import Classifier, DangerMatch
from stockade.rbac.index import RbacIndex, implicit_groups
from stockade.rbac.model import MASTERS_GROUP, Permission, Subject


@dataclass(frozen=True, slots=True)
class ExplainedPermission:
    permission: Permission
    dangers: tuple[DangerMatch, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    subject: Subject
    groups: tuple[str, ...]  # implicit groups, then the extra groups given
    superuser: bool  # in system:masters: allowed everything, whatever the bindings say
    permissions: tuple[ExplainedPermission, ...]  # cluster-wide first, then by namespace


def explain_subject(
    index: RbacIndex, subject: Subject, extra_groups: Iterable[str] = (), namespace: str | None = None
) -> Explanation:
    """The permissions of ``subject`` (cluster-wide, and in ``namespace`` only when one is given)."""
    extra = tuple(extra_groups)
    groups = (*implicit_groups(subject), *extra)
    superuser = MASTERS_GROUP in groups or (subject.kind == "Group" and subject.name == MASTERS_GROUP)
    permissions = index.permissions_of(subject, extra)
    if namespace:
        permissions = [p for p in permissions if p.namespace in (None, namespace)]
    permissions.sort(key=lambda p: (p.namespace is not None, p.namespace or ""))
    classify = Classifier()
    explained = tuple(ExplainedPermission(p, classify(p.rule, p.namespace is not None)) for p in permissions)
    return Explanation(subject, groups, superuser, explained)
