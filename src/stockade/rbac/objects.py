"""The RBAC objects behind index references, and which of them Kubernetes itself ships.

A real cluster carries dozens of roles and bindings the control plane creates (``system:*``,
kubeadm's ``kubeadm:*``, EKS's ``eks:*``, and the user-facing ``cluster-admin``/``admin``/``edit``/
``view``). Reporting them would bury a team's own choices under noise they cannot act on, so
Stockade treats them as *stock*:

- a role is stock when it carries the ``kubernetes.io/bootstrapping: rbac-defaults`` label, or is a
  ClusterRole named ``cluster-admin``/``admin``/``edit``/``view`` or with a platform prefix, or a
  ``kube-system`` Role with a platform prefix;
- a grant is stock when its binding is stock-named (the label, a platform prefix, or the
  ``cluster-admin`` ClusterRoleBinding) *and* the subject is a system identity (a platform-prefixed
  user or group, or a ``kube-system`` ServiceAccount).

A stock-named binding that also names a person is not stock for that person: adding someone to a
system binding is exactly the kind of change worth reporting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.rbac.defaults import BOOTSTRAP_LABEL, BOOTSTRAP_VALUE, USER_FACING
from stockade.rbac.model import ObjectRef, Subject
from stockade.rbac.parse import is_rbac

PLATFORM_PREFIXES = ("system:", "kubeadm:", "eks:")
SYSTEM_NAMESPACE = "kube-system"
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")

# Names that mark an identity as a dedicated privileged one, and as an emergency (break-glass) one.
_ADMIN_MARKER = re.compile(r"(^|[^a-z0-9])(admins?|administrators?|root|superusers?|privileged)([^a-z0-9]|$)")
_BREAK_GLASS_MARKER = re.compile(r"break[-_.]?glass|emergency")
BREAK_GLASS_ANNOTATION = "stockade.io/break-glass"


def is_platform_name(name: str) -> bool:
    return name.startswith(PLATFORM_PREFIXES)


def is_system_subject(subject: Subject) -> bool:
    if subject.kind == "ServiceAccount":
        return subject.namespace == SYSTEM_NAMESPACE
    return is_platform_name(subject.name)


def has_admin_marker(name: str) -> bool:
    """``alice-admin``, ``admin-alice``, ``platform-admins``, ``ops.root``: a dedicated privileged identity."""
    return bool(_ADMIN_MARKER.search(name.lower()))


def has_break_glass_marker(name: str) -> bool:
    """``break-glass-admin``, ``breakglass``, ``emergency-access``."""
    return bool(_BREAK_GLASS_MARKER.search(name.lower()))


class RbacObjects:
    """RBAC objects of an Inventory by the reference the index uses (the last one wins, as there)."""

    def __init__(self, inventory: Inventory) -> None:
        self.by_ref: dict[ObjectRef, Resource] = {}
        # Objects carrying the bootstrap label; read once, since big clusters ask about every binding.
        self._bootstrapped: set[ObjectRef] = set()
        for kind in RBAC_KINDS:
            for resource in inventory.of_kind(kind):
                if not is_rbac(resource):
                    continue
                namespace = inventory.effective_namespace(resource) if kind in ("Role", "RoleBinding") else None
                ref = ObjectRef(kind, namespace, resource.name)
                self.by_ref[ref] = resource
                if resource.labels.get(BOOTSTRAP_LABEL) == BOOTSTRAP_VALUE:
                    self._bootstrapped.add(ref)
                else:
                    self._bootstrapped.discard(ref)

    def get(self, ref: ObjectRef) -> Resource | None:
        return self.by_ref.get(ref)

    def is_stock_role(self, ref: ObjectRef) -> bool:
        if ref in self._bootstrapped:
            return True
        if ref.kind == "ClusterRole":
            return ref.name in USER_FACING or is_platform_name(ref.name)
        return ref.namespace == SYSTEM_NAMESPACE and is_platform_name(ref.name)

    def is_stock_named_binding(self, ref: ObjectRef) -> bool:
        if ref in self._bootstrapped or is_platform_name(ref.name):
            return True
        return ref.kind == "ClusterRoleBinding" and ref.name == "cluster-admin"

    def is_stock_grant(self, binding: ObjectRef, subject: Subject) -> bool:
        return self.is_stock_named_binding(binding) and is_system_subject(subject)

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
