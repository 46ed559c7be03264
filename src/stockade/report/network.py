"""``stockade network`` output: verdicts with their reasons, who reaches a workload, what a workload
reaches, the namespace matrix, egress to the internet, the metadata address and the API server.

Sets of sources are written compactly: ``any`` when every endpoint read may connect, ``any`` with
``except`` when most may, a list otherwise. Everything from the objects read is escaped for the
terminal (tables) or for DOT (quoted, with quotes and backslashes escaped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from stockade.model.netpol import Port
from stockade.model.text import visible
from stockade.network.reach import Destination, Reachability, Side, Verdict, bits, egress_allowed
from stockade.paths import Attack, AttackGraph

MATRIX_GRID_LIMIT = 12  # namespaces; beyond it the matrix is written a line per pair


@dataclass(frozen=True, slots=True)
class PortSources:
    target: int
    port: Port | None
    mask: int

    @property
    def label(self) -> str:
        return self.port.label() if self.port is not None else "any"


def sources_by_port(reach: Reachability, target: int, port_filter: str | None) -> list[PortSources]:
    return [PortSources(target, p, reach.sources(target, p)) for p in ports_for(reach, target, port_filter)]


def ports_for(reach: Reachability, target: int, port_filter: str | None) -> list[Port | None]:
    """The target's declared ports (those matching ``port_filter``), or the port asked for when it
    declares none."""
    declared = reach.ports_of(target)
    if port_filter is None:
        return list(declared)
    chosen = [p for p in declared if p is not None and port_filter in (p.name, str(p.number), p.label())]
    if chosen:
        return list(chosen)
    if declared == (None,):
        number = int(port_filter) if port_filter.isdigit() else None
        return [Port(number, "" if number is not None else port_filter, "TCP")]
    return []


def compact(reach: Reachability, mask: int) -> Any:
    """``"any"``, ``{"any_except": [...]}`` or a sorted list of endpoint keys."""
    if mask == reach.everyone:
        return "any"
    count = mask.bit_count()
    if count > len(reach.endpoints) // 2:
        return {"any_except": reach.names(reach.everyone & ~mask)}
    return reach.names(mask)


def _side_json(side: Side) -> dict[str, Any]:
    return {"allowed": side.allowed, "reason": side.reason}


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    found: dict[str, Any] = {
        "from": verdict.source,
        "to": verdict.target,
        "port": verdict.port,
        "allowed": verdict.allowed,
        "egress": _side_json(verdict.egress),
        "ingress": _side_json(verdict.ingress),
    }
    if verdict.mesh is not None:
        found["mesh"] = _side_json(verdict.mesh)
    if verdict.unknown:
        found["unknown"] = list(verdict.unknown)
    return found


def render_verdicts(verdicts: Sequence[Verdict], fmt: str) -> str:
    if fmt == "json":
        return _json({"verdicts": [verdict_json(v) for v in verdicts]})
    lines = []
    for v in verdicts:
        lines.append(f"{v.source} → {v.target} port {v.port}: {'allowed' if v.allowed else 'denied'}")
        lines.append(f"  egress:  {v.egress.reason}")
        lines.append(f"  ingress: {v.ingress.reason}")
        if v.mesh is not None:
            lines.append(f"  mesh:    {v.mesh.reason}")
        if v.unknown:
            lines.append(f"  unknown: {', '.join(v.unknown)} may also apply (not evaluated)")
    if not verdicts:
        lines.append("the target declares no port matching --port")
    return _text(lines)


def render_reachers(reach: Reachability, target: int, port_filter: str | None, fmt: str, limit: int) -> str:
    """Who can reach ``target``, per port, with the reason for each source."""
    per_port = sources_by_port(reach, target, port_filter)
    key = reach.endpoints[target].key
    if fmt == "json":
        return _json(
            {
                "to": key,
                "ports": [
                    {
                        "port": ps.label,
                        "sources": compact(reach, ps.mask),
                        "why": [verdict_json(reach.verdict(s, target, ps.port)) for s in _first(ps.mask, limit)],
                    }
                    for ps in per_port
                ],
            }
        )
    lines = [f"Who can reach {key}:"]
    for ps in per_port:
        lines.append(f"  port {ps.label}: {_count(reach, ps.mask)}")
        if ps.mask == reach.everyone:
            some = next(iter(_first(ps.mask, 1)))
            lines.append(f"    {reach.verdict(some, target, ps.port).ingress.reason}")
            continue
        for source in _first(ps.mask, limit):
            v = reach.verdict(source, target, ps.port)
            mesh = f"; {v.mesh.reason}" if v.mesh is not None else ""
            lines.append(f"    {v.source}: {v.ingress.reason}{mesh}")
        if ps.mask.bit_count() > limit:
            lines.append(f"    … and {ps.mask.bit_count() - limit} more (--limit)")
    return _text(lines)


def render_reached(reach: Reachability, source: int, port_filter: str | None, fmt: str, limit: int) -> str:
    """What ``source`` can reach, per target and port."""
    reached: list[tuple[int, list[str]]] = []
    for target in range(len(reach.endpoints)):
        ports = [ps.label for ps in sources_by_port(reach, target, port_filter) if ps.mask >> source & 1]
        if ports:
            reached.append((target, ports))
    key = reach.endpoints[source].key
    if fmt == "json":
        return _json({"from": key, "reaches": [{"to": reach.endpoints[t].key, "ports": p} for t, p in reached]})
    lines = [f"{key} can reach {len(reached)} of {len(reach.endpoints)} workloads:"]
    for target, ports in reached[:limit]:
        lines.append(f"  {reach.endpoints[target].key} (ports {', '.join(ports)})")
    if len(reached) > limit:
        lines.append(f"  … and {len(reached) - limit} more (--limit)")
    return _text(lines)


def full_matrix(reach: Reachability, port_filter: str | None) -> list[tuple[int, int]]:
    """(target, sources reaching it on some port) for every target."""
    rows = []
    for target in range(len(reach.endpoints)):
        mask = 0
        for ps in sources_by_port(reach, target, port_filter):
            mask |= ps.mask
        rows.append((target, mask))
    return rows


def render_matrix(reach: Reachability, port_filter: str | None, fmt: str) -> str:
    rows = full_matrix(reach, port_filter)
    if fmt == "json":
        return _json(
            {
                "endpoints": len(reach.endpoints),
                "policies": len(reach.policies),
                "targets": [
                    {"to": reach.endpoints[t].key, "sources": compact(reach, mask)} for t, mask in rows if mask
                ],
                "unreachable": [reach.endpoints[t].key for t, mask in rows if not mask],
                "not_evaluated": sorted({p.key for p in reach.outside.policies}),
            }
        )
    if fmt == "dot":
        return _dot(reach, rows)
    return _namespace_matrix(reach, rows)


def _namespace_matrix(reach: Reachability, rows: list[tuple[int, int]]) -> str:
    namespaces = sorted({e.namespace for e in reach.endpoints})
    members = dict.fromkeys(namespaces, 0)
    for i, endpoint in enumerate(reach.endpoints):
        members[endpoint.namespace] |= 1 << i
    reached: dict[tuple[str, str], int] = {}
    for target, mask in rows:
        dst = reach.endpoints[target].namespace
        for src in namespaces:
            count = (mask & members[src]).bit_count()
            reached[(src, dst)] = reached.get((src, dst), 0) + count

    def cell(src: str, dst: str) -> str:
        total = members[src].bit_count() * members[dst].bit_count()
        count = reached.get((src, dst), 0)
        return "all" if count == total else "none" if count == 0 else f"{count}/{total}"

    lines = [
        f"Workload pairs that can connect, by namespace (rows: from, columns: to); {len(reach.endpoints)} workloads, "
        f"{len(reach.policies)} NetworkPolicies."
    ]
    if len(namespaces) <= MATRIX_GRID_LIMIT:
        width = max([len(ns) for ns in namespaces] + [9])
        lines.append(" " * width + "".join(f"  {ns:>{width}}" for ns in namespaces))
        for src in namespaces:
            lines.append(f"{src:<{width}}" + "".join(f"  {cell(src, dst):>{width}}" for dst in namespaces))
    else:
        lines.extend(f"{src} → {dst}: {cell(src, dst)}" for src in namespaces for dst in namespaces)
    if reach.outside.policies:
        lines.append(
            f"{len(reach.outside.policies)} policies are not evaluated (Calico, admin, Linkerd, Cilium with L7, deny "
            "or FQDN rules, or unreadable): "
            "answers for the pods they select are unknown."
        )
    return _text(lines)


def _dot(reach: Reachability, rows: list[tuple[int, int]]) -> str:
    lines = ["digraph reach {", "  rankdir=LR;", '  "any pod" [shape=box];']
    for endpoint in reach.endpoints:
        lines.append(f"  {_quote(endpoint.key)};")
    for target, mask in rows:
        if mask == reach.everyone:
            lines.append(f'  "any pod" -> {_quote(reach.endpoints[target].key)};')
            continue
        for source in bits(mask):
            if source != target:
                lines.append(f"  {_quote(reach.endpoints[source].key)} -> {_quote(reach.endpoints[target].key)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    escaped = visible(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_egress(reach: Reachability, destinations: Sequence[Destination], fmt: str, only_open: bool) -> str:
    rows = []
    for source, endpoint in enumerate(reach.endpoints):
        sides = {d.name: egress_allowed(reach, source, d) for d in destinations}
        if only_open and not any(side.allowed for side in sides.values()):
            continue
        rows.append((endpoint.key, sides))
    if fmt == "json":
        return _json(
            {
                "workloads": [
                    {"workload": key, "egress": {name: _side_json(side) for name, side in sides.items()}}
                    for key, sides in rows
                ]
            }
        )
    lines = []
    for key, sides in rows:
        opened = [name for name, side in sides.items() if side.allowed]
        lines.append(f"{key}: {', '.join(opened) if opened else 'none of them'}")
    counts = {d.name: sum(1 for _, sides in rows if sides[d.name].allowed) for d in destinations}
    lines.append(
        "Workloads that can connect to: "
        + "; ".join(f"{name} {count} of {len(reach.endpoints)}" for name, count in counts.items())
    )
    return _text(lines)


def render_exposed(graph: AttackGraph, fmt: str) -> str:
    """Entry points and the containers they reach (the attack graph's EXPOSED steps), with the fix
    that would close each where a rule names one."""
    rows = []
    for entry in sorted(graph.entries, key=lambda n: n.key):
        reached = [
            graph.edges[i] for i in graph.out_edges[graph.index[entry.key]] if graph.edges[i].attack is Attack.EXPOSED
        ]
        rows.append((entry, sorted(reached, key=lambda e: e.target)))
    if fmt == "json":
        return _json(
            {
                "entry_points": [
                    {
                        "entry": entry.key,
                        "why": entry.entry,
                        "reaches": [
                            {"container": e.target, "how": e.detail, "fixes": [f.rule_id for f in e.fixes]}
                            for e in reached
                        ],
                    }
                    for entry, reached in rows
                ]
            }
        )
    lines = []
    for entry, reached in rows:
        lines.append(f"{entry.key}: {entry.entry}")
        for edge in reached:
            fixes = ", ".join(sorted({f.rule_id for f in edge.fixes}))
            lines.append(f"  → {edge.target} ({edge.detail})" + (f" [fix: {fixes}]" if fixes else ""))
    lines.append(f"{len(rows)} entry points reach {len({e.target for _, r in rows for e in r})} containers.")
    return _text(lines)


def _first(mask: int, limit: int) -> list[int]:
    found: list[int] = []
    for index in bits(mask):
        if len(found) == limit:
            break
        found.append(index)
    return found


def _count(reach: Reachability, mask: int) -> str:
    if mask == reach.everyone:
        return f"any pod ({len(reach.endpoints)} workloads)"
    return f"{mask.bit_count()} of {len(reach.endpoints)} workloads"


def _json(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def _text(lines: Iterable[str]) -> str:
    return "".join(visible(line) + "\n" for line in lines)
