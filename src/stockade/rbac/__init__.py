"""Authorizer-exact RBAC: rule matching, ClusterRole aggregation and the effective-permission index.

Build an `RbacIndex` from an Inventory once, then ask it who can do what, and why::

    index = RbacIndex.build(inventory)
    decision = index.can_subject(Subject.service_account("ci", "deployer"),
                                 Request("create", "pods", subresource="exec", namespace="prod"))
    for grant in decision.grants:
        print(grant)  # binding → role, rule index and rule, matched subject

Problems in the RBAC objects (a binding to a missing role, a malformed rule) are collected in
`RbacIndex.problems`; nothing here raises on bad input.
"""

from stockade.rbac.index import IndexedBinding, IndexedRole, RbacIndex, implicit_groups
from stockade.rbac.match import rule_allows
from stockade.rbac.model import (
    MASTERS_GROUP,
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
    service_account_username,
)

__all__ = [
    "MASTERS_GROUP",
    "Decision",
    "Grant",
    "IndexedBinding",
    "IndexedRole",
    "ObjectRef",
    "Permission",
    "PolicyRule",
    "RbacIndex",
    "RbacProblem",
    "Request",
    "Subject",
    "WhoCan",
    "implicit_groups",
    "rule_allows",
    "service_account_groups",
    "service_account_username",
]
