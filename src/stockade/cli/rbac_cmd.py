"""``stockade rbac``: who-can, can-i, explain, matrix and the privileged-access review.

Every subcommand reads its objects through the shared source options, builds one RbacIndex (the
default ClusterRoles assumed when the objects bind them without declaring them) and prints a
table or JSON. RBAC problems (a binding to a missing role, a malformed rule) and unreadable inputs
are warnings on stderr and exit code 3, except for ``can-i``, whose 0 (yes) / 1 (no) stands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_source_options

if TYPE_CHECKING:
    from stockade.model.inventory import Inventory
    from stockade.model.result import ScanResult
    from stockade.rbac import Grant, ObjectRef, PolicyRule, RbacIndex, Request, Subject
    from stockade.rbac.danger import DangerMatch
    from stockade.rbac.resources import ResourceSpec
    from stockade.rbac.review import PrivilegedReview

MASTERS_NOTE = "Members of group system:masters can too: the API server authorizes them before RBAC."

# Matrix letters, one per verb; a column lists the verbs worth showing for its resource.
LEGEND = {
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
LETTER = {verb.split()[0]: letter for letter, verb in LEGEND.items()}
CRUD = ("create", "get", "list", "watch", "update", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    resource: str
    verbs: tuple[str, ...] = CRUD


MATRIX_COLUMNS = (
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

SUBJECT_HELP = "user:NAME, group:NAME or sa:NAMESPACE:NAME"


# -- parser --------------------------------------------------------------------------------------
class _RbacParser(argparse.ArgumentParser):
    """Lets the paths follow options: ``who-can get secrets -n shop ./manifests``.

    Plain argparse matches a positional once, so paths after ``-n shop`` would be "unrecognized";
    intermixed parsing reads the options first, then every positional in order.
    """

    _intermixed = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixed:
            return super().parse_known_args(args, namespace)
        self._intermixed = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixed = False

    def error(self, message: str) -> None:  # type: ignore[override]
        fatal(f"{message} (see `{self.prog} --help`)")


def add_rbac_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """The ``rbac`` command and its subcommands (called by ``stockade.cli.main``)."""
    rbac = sub.add_parser(
        "rbac",
        help="who can do what: RBAC queries and the privileged-access review",
        description="Answer RBAC questions from the objects read (files, cluster, snapshots), with the "
        "binding, role and rule behind every answer.",
    )
    commands = rbac.add_subparsers(dest="rbac_command", required=True, parser_class=_RbacParser)

    who = commands.add_parser("who-can", help="subjects allowed to make a request, and why")
    who.add_argument("verb", help="get, list, create, … or a custom verb (bind, escalate, impersonate)")
    who.add_argument("resource", help="pods, pods/exec, deployments.apps, deploy, /healthz …")
    who.add_argument("--name", default="", help="the object's name (matters for resourceNames)")
    who.add_argument("--api-group", help="API group ('' for core); default: from the resource")

    can = commands.add_parser("can-i", help="may SUBJECT make the request? exit 0 yes, 1 no")
    can.add_argument("subject", metavar="SUBJECT", help=SUBJECT_HELP)
    can.add_argument("verb")
    can.add_argument("resource")
    can.add_argument("--name", default="", help="the object's name (matters for resourceNames)")
    can.add_argument("--api-group", help="API group ('' for core); default: from the resource")
    can.add_argument("--groups", default="", metavar="G1,G2", help="extra groups the subject is in (from the IdP)")

    explain = commands.add_parser("explain", help="every permission SUBJECT holds, dangerous ones flagged")
    explain.add_argument("subject", metavar="SUBJECT", help=SUBJECT_HELP)
    explain.add_argument("--groups", default="", metavar="G1,G2", help="extra groups the subject is in (from the IdP)")

    matrix = commands.add_parser("matrix", help="subjects × resources with verb letters (legend below the table)")
    privileged = commands.add_parser(
        "privileged", help="cluster-admin-equivalent identities and the maturity stage reached"
    )
    for command in (who, can, explain, matrix, privileged):
        add_source_options(command)  # after the positionals: the paths come last
        command.add_argument("-n", "--namespace", help="namespace of the request (default: cluster-wide)")
        command.add_argument("-o", "--output", default="table", choices=("table", "json"), help="output format")


# -- running ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Context:
    args: argparse.Namespace
    inventory: Inventory
    index: RbacIndex
    source: ScanResult


def run_rbac(args: argparse.Namespace) -> int:
    spec = None
    subject = None
    if args.rbac_command in ("who-can", "can-i"):
        spec = _resource(args)
    if args.rbac_command in ("can-i", "explain"):
        subject = _subject(args.subject)
    ctx = _load(args)
    if args.rbac_command == "who-can":
        assert spec is not None
        _who_can(ctx, spec)
    elif args.rbac_command == "can-i":
        assert spec is not None and subject is not None
        allowed = _can_i(ctx, subject, spec)
        _warn(ctx)
        return EXIT_CLEAN if allowed else EXIT_FINDINGS
    elif args.rbac_command == "explain":
        assert subject is not None
        _explain(ctx, subject)
    elif args.rbac_command == "matrix":
        _matrix(ctx)
    else:
        _privileged(ctx)
    return EXIT_UNREADABLE if _warn(ctx) else EXIT_CLEAN


def _load(args: argparse.Namespace) -> _Context:
    from stockade.cli.inputs import read_inputs
    from stockade.rbac import RbacIndex

    read = read_inputs(args)
    assert read.inventory is not None
    # Objects read from a live API server carry rules the aggregation controller already filled.
    live = "server_version" in read.facts
    index = RbacIndex.build(read.inventory, recompute_aggregation=not live, assume_defaults=True)
    return _Context(args, read.inventory, index, read)


def _warn(ctx: _Context) -> bool:
    """Print source errors and RBAC problems on stderr; True when there was any."""
    for error in ctx.source.errors:
        line = f":{error.line}" if error.line else ""
        sys.stderr.write(f"stockade: warning: {error.source}{line}: {error.message}\n")
    for problem in ctx.index.problems:
        sys.stderr.write(f"stockade: warning: {problem}\n")
    for note in _notes(ctx):
        sys.stderr.write(f"stockade: note: {note}\n")
    return bool(ctx.source.errors or ctx.index.problems)


def _notes(ctx: _Context) -> list[str]:
    bound = {b.role_ref for b in ctx.index.bindings()}
    notes = [
        f"{ref} is not among the objects read; Kubernetes' default definition is assumed"
        for ref in ctx.index.assumed_roles
        if ref in bound
    ]
    notes += [
        f"{ref} is a built-in role not among the objects read; what it grants is not known here"
        for ref in ctx.index.unknown_builtin_roles
    ]
    return notes


def _resource(args: argparse.Namespace) -> ResourceSpec:
    from stockade.errors import RbacQueryError
    from stockade.rbac.resources import parse_resource

    try:
        return parse_resource(args.resource, args.api_group)
    except RbacQueryError as exc:
        fatal(str(exc))


def _subject(text: str) -> Subject:
    from stockade.rbac import Subject
    from stockade.rbac.model import SERVICE_ACCOUNT_USER_PREFIX

    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind in ("user", "u") and rest:
        # A ServiceAccount's username (user:system:serviceaccount:NS:NAME) is that ServiceAccount.
        if rest.startswith(SERVICE_ACCOUNT_USER_PREFIX):
            namespace, _, name = rest.removeprefix(SERVICE_ACCOUNT_USER_PREFIX).partition(":")
            if namespace and name:
                return Subject.service_account(namespace, name)
        return Subject.user(rest)
    if kind in ("group", "g") and rest:
        return Subject.group(rest)
    if kind in ("sa", "serviceaccount"):
        namespace, _, name = rest.partition(":")
        if namespace and name and ":" not in name:
            return Subject.service_account(namespace, name)
    fatal(f"cannot read subject {text!r}: use {SUBJECT_HELP}")


def _groups(args: argparse.Namespace) -> list[str]:
    return [g.strip() for g in args.groups.split(",") if g.strip()]


def _request(spec: ResourceSpec, verb: str, name: str, namespace: str | None) -> Request:
    from stockade.rbac import Request

    if spec.non_resource_url is not None:
        return Request(verb, non_resource_url=spec.non_resource_url)
    return Request(
        verb,
        spec.resource,
        subresource=spec.subresource,
        api_group=spec.api_group,
        name=name,
        namespace=None if spec.cluster_scoped else namespace,
    )


# -- who-can ---------------------------------------------------------------------------------------
def _who_can(ctx: _Context, spec: ResourceSpec) -> None:
    request = _request(spec, ctx.args.verb, ctx.args.name, ctx.args.namespace)
    answer = ctx.index.who_can(request)
    if ctx.args.output == "json":
        _print_json(
            {
                "request": _request_json(request),
                "subjects": [_grant_json(g) for g in answer.grants],
                "superuser_groups": list(answer.superuser_groups),
                "problems": [str(p) for p in ctx.index.problems],
                "notes": _notes(ctx),
            }
        )
        return
    lines = [f"Who can {request}:{_scope_hint(request, spec)}", ""]
    rows = [_grant_row(g) for g in answer.grants]
    if rows:
        lines += _table(("KIND", "NAME", "NAMESPACE", "BINDING", "ROLE", "RULE"), rows)
    else:
        lines.append("No binding grants it.")
    lines += ["", MASTERS_NOTE]
    _print("\n".join(lines))


def _scope_hint(request: Request, spec: ResourceSpec) -> str:
    if request.scope is None and request.is_resource_request and not spec.cluster_scoped:
        return " (ClusterRoleBindings only; add -n NAMESPACE to include its RoleBindings)"
    return ""


# -- can-i -----------------------------------------------------------------------------------------
def _can_i(ctx: _Context, subject: Subject, spec: ResourceSpec) -> bool:
    from stockade.rbac import implicit_groups

    request = _request(spec, ctx.args.verb, ctx.args.name, ctx.args.namespace)
    extra = _groups(ctx.args)
    decision = ctx.index.can_subject(subject, request, extra)
    groups = [*implicit_groups(subject), *extra]
    if ctx.args.output == "json":
        _print_json(
            {
                "subject": _subject_json(subject),
                "groups": groups,
                "request": _request_json(request),
                "allowed": decision.allowed,
                "superuser": decision.superuser,
                "grants": [_grant_json(g) for g in decision.grants],
                "problems": [str(p) for p in (*ctx.index.problems,)],
                "notes": _notes(ctx),
            }
        )
        return decision.allowed
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
        for problem in decision.problems:
            lines.append(f"  note: {problem}")
    _print("\n".join(lines))
    return decision.allowed


# -- explain ---------------------------------------------------------------------------------------
def _explain(ctx: _Context, subject: Subject) -> None:
    from stockade.rbac import MASTERS_GROUP, implicit_groups
    from stockade.rbac.danger import Classifier

    extra = _groups(ctx.args)
    groups = [*implicit_groups(subject), *extra]
    superuser = MASTERS_GROUP in groups or (subject.kind == "Group" and subject.name == MASTERS_GROUP)
    classify = Classifier()
    permissions = ctx.index.permissions_of(subject, extra)
    if ctx.args.namespace:
        permissions = [p for p in permissions if p.namespace in (None, ctx.args.namespace)]
    permissions.sort(key=lambda p: (p.namespace is not None, p.namespace or ""))
    if ctx.args.output == "json":
        by_namespace: dict[str | None, list[dict[str, Any]]] = {}
        for permission in permissions:
            dangers = classify(permission.rule, permission.namespace is not None)
            entry = {
                **_grant_json(permission.grant),
                "dangers": [_danger_json(m, permission.namespace) for m in dangers],
            }
            by_namespace.setdefault(permission.namespace, []).append(entry)
        _print_json(
            {
                "subject": _subject_json(subject),
                "groups": groups,
                "superuser": superuser,
                "namespaces": [{"namespace": ns, "permissions": items} for ns, items in by_namespace.items()],
                "problems": [str(p) for p in ctx.index.problems],
                "notes": _notes(ctx),
            }
        )
        return
    lines = [f"{subject}" + (f" (groups: {', '.join(groups)})" if groups else "")]
    if superuser:
        lines.append("Member of system:masters: allowed everything, whatever the bindings say.")
    if not permissions:
        lines.append("No binding grants it anything.")
    current: object = object()
    flagged = 0
    for permission in permissions:
        if permission.namespace != current:
            current = permission.namespace
            lines += ["", "Cluster-wide:" if current is None else f"Namespace {current}:"]
        dangers = _headline(classify(permission.rule, permission.namespace is not None))
        mark = "!!" if dangers else "  "
        flagged += bool(dangers)
        lines.append(f" {mark} {permission.rule}")
        lines.append(f"      via {permission.grant.binding} → {_rule_at(permission.grant)}")
        for match in dangers:
            lines.append(f"      danger: {match.info.summary} ({match}): {match.info.leads_to}")
    if permissions:
        lines += ["", f"{flagged} of {len(permissions)} permissions are dangerous (marked !!)."]
    _print("\n".join(lines))


# -- matrix ----------------------------------------------------------------------------------------
def _matrix(ctx: _Context) -> None:
    from stockade.rbac.resources import parse_resource

    namespace = ctx.args.namespace
    subjects = _matrix_subjects(ctx, namespace)
    specs = [(column, parse_resource(column.resource)) for column in MATRIX_COLUMNS]
    rows: list[tuple[Subject, dict[str, str]]] = []
    for subject in subjects:
        cells = {}
        for column, spec in specs:
            letters = ""
            for verb in column.verbs:
                if ctx.index.can_subject(subject, _request(spec, verb, "", namespace)).allowed:
                    letters += LETTER[verb]
            cells[column.label] = letters
        if any(cells.values()):
            rows.append((subject, cells))
    if ctx.args.output == "json":
        _print_json(
            {
                "namespace": namespace,
                "columns": [
                    {
                        "label": c.label,
                        "resource": s.resource + (f"/{s.subresource}" if s.subresource else ""),
                        "api_group": s.api_group,
                        "cluster_scoped": s.cluster_scoped,
                    }
                    for c, s in specs
                ],
                "legend": LEGEND,
                "rows": [{"subject": _subject_json(s), "cells": cells} for s, cells in rows],
                "problems": [str(p) for p in ctx.index.problems],
                "notes": _notes(ctx),
            }
        )
        return
    where = f"namespace {namespace} (and cluster-wide grants)" if namespace else "cluster-wide grants only"
    lines = [f"Access matrix, {where}:", ""]
    headers = ("SUBJECT", *(c.label for c in MATRIX_COLUMNS))
    body = [(str(s), *(cells[c.label] or "-" for c in MATRIX_COLUMNS)) for s, cells in rows]
    lines += _table(headers, body) if body else ["No subject holds any of these permissions."]
    lines += [
        "",
        "Legend: " + ", ".join(f"{k} {v}" for k, v in LEGEND.items()) + ".",
        "pods/exec C = exec into pods (R: WebSocket exec before Kubernetes 1.30); sa/token C = mint tokens; "
        "nodes/proxy = the kubelet API;",
        "users/groups I = impersonate; csr/approval U/P = approve certificate requests. "
        "Cluster-scoped columns only count ClusterRoleBindings.",
        MASTERS_NOTE,
    ]
    _print("\n".join(lines))


def _matrix_subjects(ctx: _Context, namespace: str | None) -> list[Subject]:
    """Subjects of ClusterRoleBindings, plus those of the namespace's RoleBindings when one is given."""
    found: dict[Subject, None] = {}
    for binding in ctx.index.bindings():
        if binding.ref.namespace is None or binding.ref.namespace == namespace:
            found.update(dict.fromkeys(binding.subjects))
    return sorted(found, key=lambda s: (s.kind, s.namespace or "", s.name))


# -- privileged ------------------------------------------------------------------------------------
def _privileged(ctx: _Context) -> None:
    from stockade.rbac.review import review_privileged

    review = review_privileged(ctx.inventory, ctx.index)
    if ctx.args.output == "json":
        _print_json({**_review_json(review), "problems": [str(p) for p in ctx.index.problems], "notes": _notes(ctx)})
        return
    stage = review.stage.value if review.stage is not None else "none (below crawl)"
    lines = ["Privileged-access review: who is cluster-admin-equivalent", "", f"Stage reached: {stage}"]
    following = review.next_check
    if following is not None:
        lines.append(f"Next stage: {following.stage.value} — {following.requirement}")
    lines.append("")
    rows = []
    for holder in review.holders:
        subject = holder.subject
        how = "; ".join(route.detail for route in holder.routes)
        tags = [t for t, on in (("system", holder.system), ("break-glass", holder.break_glass)) if on]
        if holder.workloads:
            tags.append(f"used by {', '.join(holder.workloads)}")
        rows.append(
            (
                subject.kind,
                subject.name,
                subject.namespace or "",
                "direct" if holder.direct else "one step",
                ", ".join(tags) or "-",
                how,
            )
        )
    lines += _table(("KIND", "NAME", "NAMESPACE", "HOW", "NOTES", "WHY"), rows)
    lines.append("")
    for check in review.checks:
        lines.append(f"[{'x' if check.met else ' '}] {check.stage.value}: {check.requirement}")
        lines += [f"      missing: {gap}" for gap in check.gaps]
    users = sum(1 for h in review.holders if h.subject.kind == "User" and not h.system)
    accounts = sum(1 for h in review.holders if h.subject.kind == "ServiceAccount" and not h.system)
    groups = sum(1 for h in review.holders if h.subject.kind == "Group" and not h.system)
    lines += ["", f"Outside Kubernetes' own identities: {users} users, {groups} groups, {accounts} ServiceAccounts."]
    _print("\n".join(lines))


def _review_json(review: PrivilegedReview) -> dict[str, Any]:
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
                **_subject_json(h.subject),
                "direct": h.direct,
                "system": h.system,
                "break_glass": h.break_glass,
                "separate_identity": h.separate_identity,
                "workloads": list(h.workloads),
                "routes": [
                    {
                        "kind": r.kind,
                        "detail": r.detail,
                        "target": _subject_json(r.target) if r.target is not None else None,
                        "grants": [_grant_json(g) for g in r.grants],
                    }
                    for r in h.routes
                ],
            }
            for h in review.holders
        ],
        "bindings_scanned": review.bindings_scanned,
    }


# -- formatting ------------------------------------------------------------------------------------
def _headline(matches: tuple[DangerMatch, ...]) -> tuple[DangerMatch, ...]:
    """A rule that grants everything is shown as that, not as the fourteen dangers it implies."""
    from stockade.rbac.danger import Danger

    everything = tuple(m for m in matches if m.danger is Danger.ALL_ACCESS)
    return everything or matches


def _rule_at(grant: Grant) -> str:
    text = f"{grant.role} rules[{grant.rule_index}]"
    if grant.source != grant.role:
        text += f" (from {grant.source} rules[{grant.source_index}])"
    return text


def _grant_row(grant: Grant) -> tuple[str, ...]:
    subject = grant.subject
    return (subject.kind, subject.name, subject.namespace or "", str(grant.binding), _rule_at(grant), str(grant.rule))


def _ref_json(ref: ObjectRef) -> dict[str, Any]:
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def _subject_json(subject: Subject) -> dict[str, Any]:
    return {"kind": subject.kind, "name": subject.name, "namespace": subject.namespace}


def _rule_json(rule: PolicyRule) -> dict[str, Any]:
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


def _grant_json(grant: Grant) -> dict[str, Any]:
    out = {
        **_subject_json(grant.subject),
        "binding": _ref_json(grant.binding),
        "role": _ref_json(grant.role),
        "rule_index": grant.rule_index,
        "rule": _rule_json(grant.rule),
    }
    if grant.source != grant.role:
        out["declared_in"] = {**_ref_json(grant.source), "rule_index": grant.source_index}
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


def _request_json(request: Request) -> dict[str, Any]:
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


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [tuple(r) for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    out = []
    for row in (tuple(headers), *rows):
        out.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())
    return out


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _print_json(data: object) -> None:
    _print(json.dumps(data, indent=2))
