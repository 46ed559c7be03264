"""Istio AuthorizationPolicies: which callers a workload in the mesh accepts. (Who is in the mesh is
decided by :mod:`stockade.rules.ew._mesh`, as the injectors decide it.)

Authorization (Istio, evaluated for a workload in the mesh): a DENY policy that matches the request
denies it; otherwise, when some ALLOW policy applies to the workload, the request needs one that
matches; with none, it is allowed. A policy applies to the workloads its ``selector`` picks in its
namespace (all of them without a selector), and to every namespace from the root namespace
(``istio-system``). ``spec: {}`` is an ALLOW policy with no rules: it matches nothing, so it denies
everything to what it applies to; ``rules: [{}]`` matches everything. Within a rule every field must
match (AND), within a list any item (OR). A caller's principal (``cluster.local/ns/NS/sa/SA``) and
namespace are known only over mutual TLS, so a caller outside the mesh matches neither.

What Stockade cannot decide from objects is said, not guessed: ``when`` conditions, request
principals, IP blocks, CUSTOM (external) actions, ``targetRefs`` and L7 limits (methods, paths,
hosts) make a match *partial* (named in the answer) rather than a plain yes or no.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.errors import SelectorError
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.model.selectors import LabelSelector, parse_label_selector

ISTIO_SECURITY = "security.istio.io"
ROOT_NAMESPACE = "istio-system"
TRUST_DOMAIN = "cluster.local"
# Fields of a source or an operation Stockade cannot match from objects alone.
UNDECIDED_SOURCE = (
    "requestPrincipals",
    "notRequestPrincipals",
    "ipBlocks",
    "notIpBlocks",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
)
L7_FIELDS = ("methods", "notMethods", "paths", "notPaths", "hosts", "notHosts")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who opens the connection: namespace, ServiceAccount, and whether it has a mesh identity."""

    namespace: str
    service_account: str
    meshed: bool

    @property
    def principal(self) -> str:
        return f"{TRUST_DOMAIN}/ns/{self.namespace}/sa/{self.service_account}"


@dataclass(frozen=True, slots=True)
class Match:
    """Whether a rule matches a caller on a port; ``partial``: what was not evaluated."""

    matches: bool
    partial: tuple[str, ...] = ()


def _globs(value: object) -> tuple[str, ...] | None:
    if not is_list(value):
        return None
    return tuple(str(v) for v in value)


def _istio_match(pattern: str, text: str) -> bool:
    """Istio's string match: exact, a prefix (``abc*``), a suffix (``*abc``) or anything (``*``)."""
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return text.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return text.endswith(pattern[1:])
    return text == pattern


def _any_glob(patterns: tuple[str, ...], text: str) -> bool:
    return any(_istio_match(p, text) for p in patterns)


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    name: str
    namespace: str
    action: str  # ALLOW, DENY, AUDIT, CUSTOM
    selector: LabelSelector | None  # None: every workload of its scope
    rules: tuple[Mapping[str, Any], ...] | None  # None: no rules (matches nothing)
    other_target: bool = False  # targetRefs: bound to a Gateway or Service, not read here

    @property
    def key(self) -> str:
        return f"AuthorizationPolicy/{self.namespace}/{self.name}"

    def applies_to(self, namespace: str, labels: Mapping[str, Any]) -> bool:
        if self.other_target:
            return False
        if self.namespace != ROOT_NAMESPACE and self.namespace != namespace:
            return False
        return self.selector is None or self.selector.matches(labels)

    def match(self, caller: Caller, port: int | None) -> Match:
        """Whether some rule matches ``caller`` connecting on ``port`` (None: any port)."""
        partial: list[str] = []
        for rule in self.rules or ():
            found = _rule_match(rule, caller, port)
            if found.matches:
                if not found.partial:
                    return found
                partial.extend(found.partial)
        if partial:
            return Match(True, tuple(dict.fromkeys(partial)))
        return Match(False)


def _rule_match(rule: Mapping[str, Any], caller: Caller, port: int | None) -> Match:
    """A rule matches when one of its ``from`` sources and one of its ``to`` operations do (an
    absent list matches anyone); the parts it cannot judge make the match partial."""
    partial: list[str] = []
    clauses: tuple[tuple[str, str, Callable[[object], Match]], ...] = (
        ("from", "source", lambda source: _source_match(source, caller)),
        ("to", "operation", lambda operation: _operation_match(operation, port)),
    )
    for key, inner, judge in clauses:
        items = rule.get(key)
        if not (is_list(items) and items):
            continue
        found = [judge(item.get(inner)) for item in items if is_map(item)]
        if not any(f.matches for f in found):
            return Match(False)
        if not any(f.matches and not f.partial for f in found):
            partial.extend(p for f in found for p in f.partial)
    if is_list(rule.get("when")) and rule.get("when"):
        partial.append("when conditions")
    return Match(True, tuple(partial))


def _source_match(source: object, caller: Caller) -> Match:
    if not is_map(source):
        return Match(True)
    for field, identity in (("principals", caller.principal), ("namespaces", caller.namespace)):
        wanted, unwanted = _globs(source.get(field)), _globs(source.get("not" + field[0].upper() + field[1:]))
        if wanted is not None and not (caller.meshed and _any_glob(wanted, identity)):
            return Match(False)
        if unwanted is not None and caller.meshed and _any_glob(unwanted, identity):
            return Match(False)
    undecided = [f for f in UNDECIDED_SOURCE if f in source]
    return Match(True, tuple(undecided))


def _operation_match(operation: object, port: int | None) -> Match:
    if not is_map(operation):
        return Match(True)
    ports, not_ports = _globs(operation.get("ports")), _globs(operation.get("notPorts"))
    if port is not None:
        if ports is not None and str(port) not in ports:
            return Match(False)
        if not_ports is not None and str(port) in not_ports:
            return Match(False)
    limits = [f for f in L7_FIELDS if f in operation]
    return Match(True, (f"only some requests ({', '.join(limits)})",) if limits else ())


def read_authorization_policy(resource: Resource, namespace: str) -> AuthorizationPolicy | None:
    spec = resource.raw.get("spec")
    spec = spec if is_map(spec) else {}
    action = str(spec.get("action") or "ALLOW").upper()
    selector: LabelSelector | None = None
    raw_selector = spec.get("selector")
    if is_map(raw_selector):
        try:
            selector = parse_label_selector({"matchLabels": raw_selector.get("matchLabels") or {}})
        except SelectorError:
            return None
    rules = spec.get("rules")
    return AuthorizationPolicy(
        resource.name,
        namespace,
        action,
        selector,
        tuple(r for r in rules if is_map(r)) if is_list(rules) else None,
        other_target=bool(spec.get("targetRef") or spec.get("targetRefs")),
    )
