"""``stockade rbac`` output: who-can, can-i, explain, matrix and the privileged-access review.

Each answer renders as text for people or as JSON (``fmt="json"``); every JSON document carries
the index's problems and notes. :func:`render_index_messages` gives the stderr lines for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stockade.model.text import visible
from stockade.rbac import Decision, Grant, ObjectRef, PolicyRule, RbacIndex, Request, Subject, WhoCan
from stockade.rbac.danger import Danger, DangerMatch
from stockade.rbac.explain import Explanation
from stockade.rbac.matrix import LEGEND, AccessMatrix
from stockade.rbac.review import PrivilegedReview
from stockade.report._table import table_lines
from stockade.report._text import json_text
from stockade.report.problems import note, warning

MASTERS_NOTE = "Members of group system:masters can too: the API server authorizes them before RBAC."


# -- what every answer shares --------------------------------------------------------------------
def index_notes(index: RbacIndex) -> list[str]:
    """Roles the answers assumed or could not know (bound, but not among the objects read)."""
    bound = {b.role_ref for b in index.bindings()}
    notes = [
        f"{ref} is not among the objects read; Kubernetes' default definition is assumed"
        for ref in index.assumed_roles
        if ref in bound
    ]
    notes += [
        f"{ref} is a built-in role not among the objects read; what it grants is not known here"
        for ref in index.unknown_builtin_roles
    ]
    return notes


def render_index_messages(index: RbacIndex) -> str:
    """stderr: a warning per RBAC problem (a binding to a missing role, a malformed rule), then the notes."""
    return "".join(warning(str(p)) for p in index.problems) + "".join(note(n) for n in index_notes(index))


def _with_index(data: dict[str, Any], index: RbacIndex) -> str:
    return json_text({**data, "problems": [str(p) for p in index.problems], "notes": index_notes(index)})


def _text(lines: Sequence[str]) -> str:
    """Lines as text; names and messages from the inputs cannot add lines or drive the terminal."""
    return "\n".join(visible(line) for line in lines) + "\n"


# -- who-can -------------------------------------------------------------------------------------
def render_who_can(answer: WhoCan, index: RbacIndex, fmt: str, cluster_scoped: bool) -> str:
    """``cluster_scoped``: the resource asked about lives outside namespaces (no namespace hint then)."""
    request = answer.request
    if fmt == "json":
        return _with_index(
            {
                "request": request_json(request),
                "subjects": [grant_json(g) for g in answer.grants],
                "superuser_groups": list(answer.superuser_groups),
            },
            index,
        )
    hint = ""
    if request.scope is None and request.is_resource_request and not cluster_scoped:
        hint = " (ClusterRoleBindings only; add -n NAMESPACE to include its RoleBindings)"
    lines = [f"Who can {request}:{hint}", ""]
    rows = [grant_row(g) for g in answer.grants]
    headers = ("KIND", "NAME", "NAMESPACE", "BINDING", "ROLE", "RULE")
    lines += table_lines(headers, rows) if rows else ["No binding grants it."]
    lines += ["", MASTERS_NOTE]
    return _text(lines)


# -- can-i ---------------------------------------------------------------------------------------
def render_can_i(
    subject: Subject, groups: Sequence[str], decision: Decision, request: Request, index: RbacIndex, fmt: str
) -> str:
    if fmt == "json":
        return _with_index(
            {
                "subject": subject_json(subject),
                "groups": list(groups),
                "request": request_json(request),
                "allowed": decision.allowed,
                "superuser": decision.superuser,
                "grants": [grant_json(g) for g in decision.grants],
            },
            index,
        )
    verdict = "yes" if decision.allowed else "no"
    lines = [f"{verdict}: {subject} {'can' if decision.allowed else 'cannot'} {request}"]
    if groups:
        lines.append(f"  groups considered: {', '.join(groups)}")
    if decision.superuser:
        lines.append("  member of system:masters, which the API server authorizes before RBAC")
    for grant in decision.grants:
        lines.append(f"  {grant.binding} → {_rule_at(grant)} {grant.rule} (as {grant.subject})")
    if not decision.allowed:
        lines.append("  no binding of the subject or its groups grants it")
        lines += [f"  note: {problem}" for problem in decision.problems]
    return _text(lines)


# -- explain -------------------------------------------------------------------------------------
def render_explain(explanation: Explanation, index: RbacIndex, fmt: str) -> str:
    if fmt == "json":
        by_namespace: dict[str | None, list[dict[str, Any]]] = {}
        for item in explanation.permissions:
            namespace = item.permission.namespace
            entry = {
                **grant_json(item.permission.grant),
                "dangers": [_danger_json(m, namespace) for m in item.dangers],
            }
            by_namespace.setdefault(namespace, []).append(entry)
        return _with_index(
            {
                "subject": subject_json(explanation.subject),
                "groups": list(explanation.groups),
                "superuser": explanation.superuser,
                "namespaces": [{"namespace": ns, "permissions": items} for ns, items in by_namespace.items()],
            },
            index,
        )
    groups = explanation.groups
    lines = [f"{explanation.subject}" + (f" (groups: {', '.join(groups)})" if groups else "")]
    if explanation.superuser:
        lines.append("Member of system:masters: allowed everything, whatever the bindings say.")
    if not explanation.permissions:
        lines.append("No binding grants it anything.")
    current: object = object()
    flagged = 0
    for item in explanation.permissions:
        permission = item.permission
        if permission.namespace != current:
            current = permission.namespace
            lines += ["", "Cluster-wide:" if current is None else f"Namespace {current}:"]
        dangers = _headline(item.dangers)
        flagged += bool(dangers)
        lines.append(f" {'!!' if dangers else '  '} {permission.rule}")
        lines.append(f"      via {permission.grant.binding} → {_rule_at(permission.grant)}")
        lines += [f"      danger: {m.info.summary} ({m}): {m.info.leads_to}" for m in dangers]
    if explanation.permissions:
        total = len(explanation.permissions)
        lines += ["", f"{flagged} of {total} permissions are dangerous (marked !!)."]
    return _text(lines)


def _headline(matches: tuple[DangerMatch, ...]) -> tuple[DangerMatch, ...]:
    """A rule that grants everything is shown as that, not as the fourteen dangers it implies."""
    everything = tuple(m for m in matches if m.danger is Danger.ALL_ACCESS)
    return everything or matches


# -- matrix --------------------------------------------------------------------------------------
def render_matrix(matrix: AccessMatrix, index: RbacIndex, fmt: str) -> str:
    if fmt == "json":
        return _with_index(
            {
                "namespace": matrix.namespace,
                "columns": [
                    {
                        "label": column.label,
                        "resource": spec.resource + (f"/{spec.subresource}" if spec.subresource else ""),
                        "api_group": spec.api_group,
                        "cluster_scoped": spec.cluster_scoped,
                    }
                    for column, spec in matrix.columns
                ],
                "legend": dict(LEGEND),
                "rows": [{"subject": subject_json(s), "cells": dict(cells)} for s, cells in matrix.rows],
            },
            index,
        )
    namespace = matrix.namespace
    where = f"namespace {namespace} (and cluster-wide grants)" if namespace else "cluster-wide grants only"
    labels = [column.label for column, _ in matrix.columns]
    lines = [f"Access matrix, {where}:", ""]
    body = [(str(s), *(cells[label] or "-" for label in labels)) for s, cells in matrix.rows]
    lines += table_lines(("SUBJECT", *labels), body) if body else ["No subject holds any of these permissions."]
    lines += [
        "",
        "Legend: " + ", ".join(f"{k} {v}" for k, v in LEGEND.items()) + ".",
        "pods/exec C = exec into pods (R: WebSocket exec before Kubernetes 1.30); sa/token C = mint tokens; "
        "nodes/proxy = the kubelet API;",
        "users/groups I = impersonate; csr/approval U/P = approve certificate requests. "
        "Cluster-scoped columns only count ClusterRoleBindings.",
        MASTERS_NOTE,
    ]
    return _text(lines)


# -- privileged ----------------------------------------------------------------------------------
def render_privileged(review: PrivilegedReview, index: RbacIndex, fmt: str) -> str:
    if fmt == "json":
        return _with_index(review_json(review), index)
    stage = review.stage.value if review.stage is not None else "none (below crawl)"
    lines = ["Privileged-access review: who is cluster-admin-equivalent", "", f"Stage reached: {stage}"]
    following = review.next_check
    if following is not None:
        lines.append(f"Next stage: {following.stage.value} — {following.requirement}")
    lines.append("")
    rows = []
    for holder in review.holders:
        subject = holder.subject
        tags = [t for t, on in (("system", holder.system), ("break-glass", holder.break_glass)) if on]
        if holder.workloads:
            tags.append(f"used by {', '.join(holder.workloads)}")
        how = "direct" if holder.direct else "one step"
        why = "; ".join(route.detail for route in holder.routes)
        rows.append((subject.kind, subject.name, subject.namespace or "", how, ", ".join(tags) or "-", why))
    lines += table_lines(("KIND", "NAME", "NAMESPACE", "HOW", "NOTES", "WHY"), rows)
    lines.append("")
    for check in review.checks:
        lines.append(f"[{'x' if check.met else ' '}] {check.stage.value}: {check.requirement}")
        lines += [f"      missing: {gap}" for gap in check.gaps]
    users = sum(1 for h in review.holders if h.subject.kind == "User" and not h.system)
    accounts = sum(1 for h in review.holders if h.subject.kind == "ServiceAccount" and not h.system)
    groups = sum(1 for h in review.holders if h.subject.kind == "Group" and not h.system)
    lines += ["", f"Outside Kubernetes' own identities: {users} users, {groups} groups, {accounts} ServiceAccounts."]
    return _text(lines)


def review_json(review: PrivilegedReview) -> dict[str, Any]:
    following = review.next_check
    return {
        "stage": review.stage.value if review.stage is not None else None,
        "next_stage": following.stage.value if following is not None else None,
        "missing": list(following.gaps) if following is not None else [],
        "checks": [
            {"stage": c.stage.value, "met": c.met, "requirement": c.requirement, "gaps": list(c.gaps)}
            for c in review.checks
        ],
        "holders": [
            {
                **subject_json(h.subject),
                "direct": h.direct,
                "system": h.system,
                "break_glass": h.break_glass,
                "separate_identity": h.separate_identity,
                "workloads": list(h.workloads),
                "routes": [
                    {
                        "kind": r.kind,
                        "detail": r.detail,
                        "target": subject_json(r.target) if r.target is not None else None,
                        "grants": [grant_json(g) for g in r.grants],
                    }
                    for r in h.routes
                ],
            }
            for h in review.holders
        ],
        "bindings_scanned": review.bindings_scanned,
    }


# -- pieces --------------------------------------------------------------------------------------
def _rule_at(grant: Grant) -> str:
    text = f"{grant.role} rules[{grant.rule_index}]"
    if grant.source != grant.role:
        text += f" (from {grant.source} rules[{grant.source_index}])"
    return text


def grant_row(grant: Grant) -> tuple[str, ...]:
    subject = grant.subject
    return (subject.kind, subject.name, subject.namespace or "", str(grant.binding), _rule_at(grant), str(grant.rule))


def ref_json(ref: ObjectRef) -> dict[str, Any]:
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def subject_json(subject: Subject) -> dict[str, Any]:
    return {"kind": subject.kind, "name": subject.name, "namespace": subject.namespace}


def rule_json(rule: PolicyRule) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": list(rule.verbs)}
    for key, values in (
        ("apiGroups", rule.api_groups),
        ("resources", rule.resources),
        ("resourceNames", rule.resource_names),
        ("nonResourceURLs", rule.non_resource_urls),
    ):
        if values:
            out[key] = list(values)
    return out


def grant_json(grant: Grant) -> dict[str, Any]:
    out = {
        **subject_json(grant.subject),
        "binding": ref_json(grant.binding),
        "role": ref_json(grant.role),
        "rule_index": grant.rule_index,
        "rule": rule_json(grant.rule),
    }
    if grant.source != grant.role:
        out["declared_in"] = {**ref_json(grant.source), "rule_index": grant.source_index}
    return out


def _danger_json(match: DangerMatch, namespace: str | None) -> dict[str, Any]:
    info = match.info
    severity = info.cluster if namespace is None else info.namespaced
    return {
        "danger": match.danger.value,
        "summary": info.summary,
        "allows": str(match),
        "leads_to": info.leads_to,
        "severity": severity.value if severity is not None else None,
    }


def request_json(request: Request) -> dict[str, Any]:
    if request.non_resource_url is not None:
        return {"verb": request.verb, "non_resource_url": request.non_resource_url}
    return {
        "verb": request.verb,
        "resource": request.resource,
        "subresource": request.subresource,
        "api_group": request.api_group,
        "name": request.name,
        "namespace": request.scope,
    }
