"""Istio authorization on top of NetworkPolicies: the mesh's answer for a connection to a meshed
workload (see :mod:`stockade.model.mesh` for the semantics and what is left undecided)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.mesh import ISTIO_SECURITY, AuthorizationPolicy, Caller, read_authorization_policy
from stockade.rules.ew._mesh import istio_membership

if TYPE_CHECKING:
    from stockade.network.reach import Endpoint, Side


class MeshAuthorization:
    def __init__(
        self, inventory: Inventory, endpoints: Sequence[Endpoint], namespace_labels: Mapping[str, Any]
    ) -> None:
        self.endpoints = endpoints
        # The injector's own decision, as the EW rules read it.
        self.meshed = [
            istio_membership(namespace_labels.get(e.namespace, {}), e.labels, e.annotations).mesh == "istio"
            for e in endpoints
        ]
        self.policies: list[AuthorizationPolicy] = []
        for resource in inventory.of_kind("AuthorizationPolicy"):
            if resource.group == ISTIO_SECURITY:
                policy = read_authorization_policy(
                    resource, inventory.effective_namespace(resource) or DEFAULT_NAMESPACE
                )
                if policy is not None:
                    self.policies.append(policy)
        self.policies.sort(key=lambda p: p.key)
        self._callers: dict[Caller, int] | None = None
        self._applicable: dict[int, list[AuthorizationPolicy]] = {}

    @property
    def callers(self) -> dict[Caller, int]:
        """Sources that present the same identity get the same answer: one evaluation per caller
        (grouped on first use, which only a target the mesh governs needs)."""
        if self._callers is None:
            self._callers = defaultdict(int)
            for i in range(len(self.endpoints)):
                self._callers[self.caller(i)] |= 1 << i
        return self._callers

    def caller(self, index: int) -> Caller:
        endpoint = self.endpoints[index]
        return Caller(endpoint.namespace, endpoint.service_account, self.meshed[index])

    def applicable(self, target: int) -> list[AuthorizationPolicy]:
        found = self._applicable.get(target)
        if found is None:
            endpoint = self.endpoints[target]
            found = [p for p in self.policies if p.applies_to(endpoint.namespace, endpoint.labels)]
            self._applicable[target] = found
        return found

    def governs(self, target: int) -> bool:
        """Whether the mesh has a say: the target is in it and some policy applies."""
        return self.meshed[target] and bool(self.applicable(target))

    def sources(self, target: int, port: int | None) -> int:
        """Every endpoint the mesh lets connect to ``target`` on ``port`` (all when it has no say)."""
        everyone = (1 << len(self.endpoints)) - 1
        if not self.governs(target):
            return everyone
        allowed = 0
        for caller, mask in self.callers.items():
            if self.decide(caller, target, port).allowed:
                allowed |= mask
        return allowed

    def side(self, source: int, target: int, port: int | None) -> Side | None:
        if not self.meshed[target]:
            return None
        return self.decide(self.caller(source), target, port)

    def decide(self, caller: Caller, target: int, port: int | None) -> Side:
        from stockade.network.reach import Side

        subject = self.endpoints[target].key
        policies = self.applicable(target)
        who = caller.principal if caller.meshed else "a caller outside the mesh (no mTLS identity)"
        notes: list[str] = []
        for policy in policies:
            if policy.action == "CUSTOM":
                notes.append(f"{policy.key} hands the decision to an external authorizer")
        for policy in (p for p in policies if p.action == "DENY"):
            found = policy.match(caller, port)
            if found.matches and not found.partial:
                return Side(False, f"denied by {policy.key}", (policy.key,))
            if found.matches:
                notes.append(f"{policy.key} denies some requests ({', '.join(found.partial)} not evaluated)")
        allowing = [p for p in policies if p.action == "ALLOW"]
        suffix = "; " + "; ".join(notes) if notes else ""
        if not allowing:
            return Side(True, f"no ALLOW AuthorizationPolicy applies to {subject}: the mesh allows{suffix}")
        for policy in allowing:
            found = policy.match(caller, port)
            if found.matches:
                partly = f" ({', '.join(found.partial)} not evaluated)" if found.partial else ""
                return Side(True, f"allowed by {policy.key}{partly}{suffix}", (policy.key,))
        names = ", ".join(p.key for p in allowing)
        return Side(False, f"{names} apply to {subject} and none allows {who}{suffix}", tuple(p.key for p in allowing))
