"""The RBAC objects behind index references, and which of them Kubernetes itself ships.

A real cluster carries dozens of roles and bindings the control plane creates (``system:*``,
kubeadm's ``kubeadm:*``, EKS's ``eks:*``, and the user-facing ``cluster-admin``/``admin``/``edit``/
``view``). Reporting them would bury a team's own choices under noise they cannot act on, so
Stockade treats them as *stock*:

- a role is stock when it is a ClusterRole named ``cluster-admin``/``admin``/``edit``/``view`` or
  with a platform prefix, or a ``kube-system`` Role with a platform prefix (or the API server's
  ``extension-apiserver-authentication-reader``). Stock roles are not judged rule by rule; what
  they grant is reported on the bindings that hand them out;
- a grant is stock only when the binding is one of the bootstrap policy's, recognised by its exact
  kind, namespace, name and roleRef, *and* the subject is one that bootstrap binding names (the
  table in `stockade.rbac.defaults`). A name or the ``kubernetes.io/bootstrapping`` label can be set
  by anyone, so neither alone excuses a grant.

A bootstrap binding that also names a person is not stock for that person: adding someone to a
system binding is exactly the kind of change worth reporting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.rbac.defaults import USER_FACING, SubjectKey, bootstrap_binding
from stockade.rbac.model import ObjectRef, Subject
from stockade.rbac.parse import is_rbac

PLATFORM_PREFIXES = ("system:", "kubeadm:", "eks:")
SYSTEM_NAMESPACE = "kube-system"
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
# Roles the API server creates in kube-system without a platform prefix.
SYSTEM_ROLES = frozenset({"extension-apiserver-authentication-reader"})

# Names that mark an identity as a dedicated privileged one, and as an emergency (break-glass) one.
_ADMIN_MARKER = re.compile(r"(^|[^a-z0-9])(admins?|administrators?|root|superusers?|privileged)([^a-z0-9]|$)")
_BREAK_GLASS_MARKER = re.compile(r"break[-_.]?glass|emergency")
BREAK_GLASS_ANNOTATION = "stockade.io/break-glass"


def is_platform_name(name: str) -> bool:
    return name.startswith(PLATFORM_PREFIXES)


def has_admin_marker(name: str) -> bool:
    """``alice-admin``, ``admin-alice``, ``platform-admins``, ``ops.root``: a dedicated privileged identity."""
    return bool(_ADMIN_MARKER.search(name.lower()))


def has_break_glass_marker(name: str) -> bool:
    """``break-glass-admin``, ``breakglass``, ``emergency-access``."""
    return bool(_BREAK_GLASS_MARKER.search(name.lower()))


def rbac_definitions(inventory: Inventory, kind: str) -> Iterator[tuple[ObjectRef, Resource]]:
    """The RBAC objects of one kind with their refs; same-name definitions numbered in load order."""
    namespaced = kind in ("Role", "RoleBinding")
    seen: dict[ObjectRef, int] = {}
    for resource in inventory.of_kind(kind):
        if not is_rbac(resource):
            continue
        ref = ObjectRef(kind, inventory.effective_namespace(resource) if namespaced else None, resource.name)
        definition = seen[ref] = seen.get(ref, -1) + 1
        yield ObjectRef(kind, ref.namespace, ref.name, definition), resource


class RbacObjects:
    """RBAC objects of an Inventory by the reference the index uses (each definition of a name apart)."""

    def __init__(self, inventory: Inventory) -> None:
        self.by_ref: dict[ObjectRef, Resource] = {}
        self.definitions: dict[ObjectRef, list[Resource]] = {}
        for kind in RBAC_KINDS:
            for ref, resource in rbac_definitions(inventory, kind):
                self.by_ref[ref] = resource
                self.definitions.setdefault(ref.identity, []).append(resource)

    def definitions_of(self, ref: ObjectRef) -> tuple[Resource, ...]:
        """Every declared definition of the object ``ref`` names (usually one), in load order."""
        return tuple(self.definitions.get(ref.identity, ()))

    def get(self, ref: ObjectRef) -> Resource | None:
        return self.by_ref.get(ref)

    def is_stock_role(self, ref: ObjectRef) -> bool:
        if ref.kind == "ClusterRole":
            return ref.name in USER_FACING or is_platform_name(ref.name)
        return ref.namespace == SYSTEM_NAMESPACE and (is_platform_name(ref.name) or ref.name in SYSTEM_ROLES)

    def is_stock_grant(self, binding: ObjectRef, subject: Subject) -> bool:
        """Whether ``binding`` is a bootstrap binding, exactly as created, and names ``subject`` there."""
        resource = self.by_ref.get(binding)
        if resource is None:
            return False
        role_ref = resource.raw.get("roleRef")
        if not isinstance(role_ref, Mapping):
            return False
        entry = bootstrap_binding(
            (binding.kind, binding.namespace, binding.name), role_ref.get("kind"), role_ref.get("name")
        )
        key: SubjectKey = (subject.kind, subject.name, subject.namespace)
        return entry is not None and key in entry.subjects

    def is_break_glass_binding(self, ref: ObjectRef) -> bool:
        resource = self.by_ref.get(ref)
        if resource is None:
            return False
        value = resource.annotations.get(BREAK_GLASS_ANNOTATION)
        return isinstance(value, str) and value.lower() == "true"


def subject_position(resource: Resource, subject: Subject, binding_namespace: str | None) -> int | None:
    """Index of ``subject`` in the binding's raw ``subjects`` (malformed entries keep their place)."""
    subjects = resource.raw.get("subjects")
    if not isinstance(subjects, list):
        return None
    for position, raw in enumerate(subjects):
        if not isinstance(raw, Mapping) or raw.get("kind") != subject.kind or raw.get("name") != subject.name:
            continue
        if subject.kind != "ServiceAccount" or (raw.get("namespace") or binding_namespace) == subject.namespace:
            return position
    return None
