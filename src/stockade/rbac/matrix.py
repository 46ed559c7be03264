"""The access matrix: which subjects may do what to the resources that matter most.

One row per subject holding any of the permissions, one column per resource; a cell holds one
letter per verb allowed (see :data:`LEGEND`), empty when none is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stockade.rbac.index import RbacIndex
from stockade.rbac.model import Subject
from stockade.rbac.resources import ResourceSpec, parse_resource, request_for

# One letter per verb.
LEGEND: Mapping[str, str] = {
    "C": "create",
    "R": "get (read one)",
    "L": "list",
    "W": "watch",
    "U": "update",
    "P": "patch",
    "D": "delete",
    "E": "escalate",
    "B": "bind",
    "I": "impersonate",
}
LETTER: Mapping[str, str] = {verb.split()[0]: letter for letter, verb in LEGEND.items()}
CRUD = ("create", "get", "list", "watch", "update", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Column:
    """A resource and the verbs worth showing for it."""

    label: str
    resource: str
    verbs: tuple[str, ...] = CRUD


COLUMNS = (
    Column("pods", "pods"),
    Column("pods/exec", "pods/exec", ("create", "get")),
    Column("secrets", "secrets"),
    Column("configmaps", "configmaps"),
    Column("deployments", "deployments.apps"),
    Column("serviceaccounts", "serviceaccounts", (*CRUD, "impersonate")),
    Column("sa/token", "serviceaccounts/token", ("create",)),
    Column("roles", "roles", (*CRUD, "escalate", "bind")),
    Column("rolebindings", "rolebindings"),
    Column("clusterroles", "clusterroles", (*CRUD, "escalate", "bind")),
    Column("clusterrolebindings", "clusterrolebindings"),
    Column("nodes/proxy", "nodes/proxy", ("create", "get")),
    Column("persistentvolumes", "persistentvolumes"),
    Column("users", "users", ("impersonate",)),
    Column("groups", "groups", ("impersonate",)),
    Column("csr/approval", "certificatesigningrequests/approval", ("update", "patch")),
    Column("mutatingwebhooks", "mutatingwebhookconfigurations", ("create", "update", "patch", "delete")),
)


@dataclass(frozen=True, slots=True)
class AccessMatrix:
    namespace: str | None  # None: cluster-wide grants only
    columns: tuple[tuple[Column, ResourceSpec], ...]
    rows: tuple[tuple[Subject, Mapping[str, str]], ...]  # subject → column label → letters


def access_matrix(index: RbacIndex, namespace: str | None = None) -> AccessMatrix:
    """Subjects of ClusterRoleBindings (and of the namespace's RoleBindings when one is given) that
    hold any of the columns' permissions, sorted by kind, namespace and name."""
    columns = tuple((column, parse_resource(column.resource)) for column in COLUMNS)
    rows: list[tuple[Subject, Mapping[str, str]]] = []
    for subject in _subjects(index, namespace):
        cells = {
            column.label: "".join(
                LETTER[verb]
                for verb in column.verbs
                if index.can_subject(subject, request_for(spec, verb, "", namespace)).allowed
            )
            for column, spec in columns
        }
        if any(cells.values()):
            rows.append((subject, cells))
    return AccessMatrix(namespace, columns, tuple(rows))


def _subjects(index: RbacIndex, namespace: str | None) -> list[Subject]:
    found: dict[Subject, None] = {}
    for binding in index.bindings():
        if binding.ref.namespace is None or binding.ref.namespace == namespace:
            found.update(dict.fromkeys(binding.subjects))
    return sorted(found, key=lambda s: (s.kind, s.namespace or "", s.name))
