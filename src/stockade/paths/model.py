"""The attack graph's parts: nodes (what an attacker can hold), edges (one step) and fixes.

A node's ``key`` is stable text (``Deployment/shop/web``, ``ServiceAccount/shop/web``,
``scope:pods:shop``, ``jewel:cluster-admin``): the same input gives the same keys, in the same
order, so paths can be diffed between runs. An edge exists while every one of its ``fixes`` is
still unfixed: fixing any one of them removes the edge (the conditions of a step are a
conjunction; two independent ways of taking the same step are two edges).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stockade.paths.catalogue import ATTACKS, STRUCTURAL, Attack, AttackInfo


class NodeKind(StrEnum):
    ENTRY = "entry"  # Service, Ingress, route, host-network pod
    WORKLOAD = "workload"  # the pods of one workload
    CONTAINER = "container"
    IDENTITY = "identity"  # ServiceAccount, User, Group
    GRANT = "grant"  # what one binding gives its subjects
    SECRET = "secret"
    NODE = "node"
    SCOPE = "scope"  # every pod / Secret / ServiceAccount of a namespace, or of the cluster
    JEWEL = "jewel"  # cluster-admin, every Secret, the nodes


@dataclass(frozen=True, slots=True)
class GraphNode:
    key: str
    kind: NodeKind
    label: str
    namespace: str | None = None
    entry: str = ""  # why an attacker can start here ("" if not an entry point)
    jewel: str = ""  # why reaching it matters ("" if not a crown jewel)


@dataclass(frozen=True, slots=True, order=True)
class Fix:
    """A finding whose fix removes an edge: the rule, the object, the field.

    ``fingerprint`` is the scan finding's (empty when the scan did not report it, e.g. its rule
    was not selected); ``status`` is the finding's status or ``not reported``.
    """

    rule_id: str
    resource: str
    path: str = ""
    fingerprint: str = ""
    status: str = "not reported"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.resource, self.path)

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.rule_id} {self.resource}{where}"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    attack: Attack
    fixes: tuple[Fix, ...] = ()
    detail: str = ""  # what, in this cluster, makes the step possible

    @property
    def info(self) -> AttackInfo:
        return ATTACKS[self.attack]

    @property
    def likelihood(self) -> float:
        return self.info.likelihood

    @property
    def structural(self) -> bool:
        """Bookkeeping (a scope, a membership, a binding held, a container picked), not an attack step."""
        return self.attack in STRUCTURAL

    @property
    def how(self) -> str:
        return f"{self.info.how} ({self.detail})" if self.detail else self.info.how
