"""``stockade rbac``: who-can, can-i, explain, matrix and the privileged-access review.

Every subcommand reads its objects through the shared source options, builds one RbacIndex (the
default ClusterRoles assumed when the objects bind them without declaring them), asks it through
:mod:`stockade.rbac` and prints the answer with :mod:`stockade.report.rbac` (a table or JSON).

Exit codes: 3 when an input could not be read (for every subcommand: an unread binding could
change the answer), and so is a role or binding with a shape the API server rejects (``roleRef:
cluster-admin``, a rule that is a string). Other RBAC problems (a binding to a missing role) are
warnings on stderr and exit 3 too, except for ``can-i``, whose 0 (yes) / 1 (no) then stands.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stockade.cli.config_cmd import add_config_options
from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_namespace_flags, add_source_options, usage_errors
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:
    from stockade.model.result import ScanResult
    from stockade.rbac import RbacIndex, Subject
    from stockade.rbac.resources import ResourceSpec

# A verb as RBAC rules write them: one word (custom verbs included), or "*".
_VERB = re.compile(r"\*|[A-Za-z][-A-Za-z0-9]*")
# Kept here so that building the parser does not load the RBAC code.
SUBJECT_FORMS = "user:NAME, group:NAME or sa:NAMESPACE:NAME"


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


def add_rbac_parser(sub: Any) -> None:
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
    can.add_argument("subject", metavar="SUBJECT", help=SUBJECT_FORMS)
    can.add_argument("verb")
    can.add_argument("resource")
    can.add_argument("--name", default="", help="the object's name (matters for resourceNames)")
    can.add_argument("--api-group", help="API group ('' for core); default: from the resource")
    can.add_argument("--groups", default="", metavar="G1,G2", help="extra groups the subject is in (from the IdP)")

    explain = commands.add_parser("explain", help="every permission SUBJECT holds, dangerous ones flagged")
    explain.add_argument("subject", metavar="SUBJECT", help=SUBJECT_FORMS)
    explain.add_argument("--groups", default="", metavar="G1,G2", help="extra groups the subject is in (from the IdP)")

    matrix = commands.add_parser("matrix", help="subjects × resources with verb letters (legend below the table)")
    privileged = commands.add_parser(
        "privileged", help="cluster-admin-equivalent identities and the maturity stage reached"
    )
    for command in (who, can, explain, matrix, privileged):
        add_source_options(command, namespace_flags=False)  # after the positionals: the paths come last
        add_config_options(command, ("pod-templates",))
        add_namespace_flags(
            command,
            namespace_help="namespace of the request, as kubectl auth can-i -n",
            all_help="ask cluster-wide (the default)",
            repeatable=False,
        )
        add_output_options(command, ("table", "json"), "table")


# -- running ---------------------------------------------------------------------------------------
def run_rbac(args: argparse.Namespace) -> int:
    from stockade.rbac.resources import parse_resource, parse_subject, request_for
    from stockade.report import rbac as report

    verb = getattr(args, "verb", None)
    if verb is not None and not _VERB.fullmatch(verb):
        fatal(f"{verb!r} is not a verb (get, list, create, … or a custom verb such as bind)")
    with usage_errors():  # a resource or subject that cannot be read: exit 2
        spec = parse_resource(args.resource, args.api_group) if args.rbac_command in ("who-can", "can-i") else None
        subject = parse_subject(args.subject) if args.rbac_command in ("can-i", "explain") else None
    read, index = _load(args)
    fmt = args.format
    if args.rbac_command == "who-can":
        assert spec is not None
        request = request_for(spec, args.verb, args.name, args.namespace)
        text = report.render_who_can(index.who_can(request), index, fmt, cluster_scoped=spec.cluster_scoped)
    elif args.rbac_command == "can-i":
        assert spec is not None and subject is not None
        return _can_i(args, read, index, subject, spec)
    elif args.rbac_command == "explain":
        from stockade.rbac.explain import explain_subject

        assert subject is not None
        text = report.render_explain(explain_subject(index, subject, _groups(args), args.namespace), index, fmt)
    elif args.rbac_command == "matrix":
        from stockade.rbac.matrix import access_matrix

        text = report.render_matrix(access_matrix(index, args.namespace), index, fmt)
    else:
        from stockade.rbac.review import review_privileged

        assert read.inventory is not None
        text = report.render_privileged(review_privileged(read.inventory, index), index, fmt)
    write_output(text, args.output)
    _warn(read, index)
    if read.gate("none") == EXIT_UNREADABLE or index.problems:
        return EXIT_UNREADABLE
    return EXIT_CLEAN


def _can_i(args: argparse.Namespace, read: ScanResult, index: RbacIndex, subject: Subject, spec: ResourceSpec) -> int:
    from stockade.rbac import implicit_groups
    from stockade.rbac.resources import request_for
    from stockade.report.rbac import render_can_i

    request = request_for(spec, args.verb, args.name, args.namespace)
    extra = _groups(args)
    decision = index.can_subject(subject, request, extra)
    groups = [*implicit_groups(subject), *extra]
    write_output(render_can_i(subject, groups, decision, request, index, args.format), args.output)
    _warn(read, index)
    if read.gate("none") == EXIT_UNREADABLE or any(p.code.startswith("malformed-") for p in index.problems):
        return EXIT_UNREADABLE
    return EXIT_CLEAN if decision.allowed else EXIT_FINDINGS


def _load(args: argparse.Namespace) -> tuple[ScanResult, RbacIndex]:
    from stockade.cli.inputs import read_inputs
    from stockade.rbac import RbacIndex

    read = read_inputs(args)
    assert read.inventory is not None
    # Objects read from a live API server carry rules the aggregation controller already filled.
    live = "server_version" in read.facts
    index = RbacIndex.build(read.inventory, recompute_aggregation=not live, assume_defaults=True)
    return read, index


def _warn(read: ScanResult, index: RbacIndex) -> None:
    """stderr: the inputs that could not be read or were skipped, then RBAC problems and notes."""
    from stockade.report.problems import render_problems
    from stockade.report.rbac import render_index_messages

    sys.stderr.write(render_problems(read.errors, read.skipped_inputs) + render_index_messages(index))


def _groups(args: argparse.Namespace) -> list[str]:
    return [g.strip() for g in args.groups.split(",") if g.strip()]
