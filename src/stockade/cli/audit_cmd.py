"""``stockade audit scan``: detections over the API server's audit log.

    stockade audit scan /var/log/kubernetes/audit/            # the log and its rotated files, oldest first
    stockade audit scan audit.log.gz --break-glass admin@example.com -f json
    kubectl logs … | stockade audit scan -

Exit codes: 0 nothing detected, 1 some detection, 2 usage error, 3 some line could not be read
(the rest was still read and judged).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_cluster_choice
from stockade.cli.output_options import add_output_options, write_output


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser(
        "audit",
        help="detections over the API server's audit log",
        description="Read audit.k8s.io Events (JSON lines, rotated and gzip files, stdin) and report what "
        "attackers and mistakes look like: exec into pods, Secret reads, system:masters and break-glass use, "
        "anonymous access, privileged pods, RBAC grants, impersonation, token and certificate requests, "
        "webhook changes, deleted events, repeated denials, requests from outside the allowed networks.",
    )
    commands = audit.add_subparsers(dest="audit_command", required=True)
    scan = commands.add_parser("scan", help="report detections in audit log files or stdin")
    scan.add_argument("logs", nargs="+", metavar="PATH", help="audit log files or directories; '-' reads stdin")
    _detection_options(scan)
    add_output_options(scan, ("table", "json"), "table")
    serve = commands.add_parser(
        "serve",
        help="the API server's audit webhook backend: detections as events arrive",
        description="Receive the EventLists kube-apiserver posts (--audit-webhook-config-file) over HTTPS and write "
        "detections as JSON lines. Answers at once and never makes the API server wait; when its queue is full it "
        "answers 429 and the API server sends the batch again. Binds to 127.0.0.1 unless --host says otherwise.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8444, help="port (default 8444)")
    serve.add_argument(
        "--certificate-dir",
        required=True,
        metavar="DIR",
        help="tls.crt and tls.key to serve with; made (with ca.crt, key 0600) when DIR has none",
    )
    serve.add_argument(
        "--token-file", metavar="FILE", help="require this bearer token (the webhook kubeconfig's token)"
    )
    serve.add_argument("-o", "--output", metavar="FILE", help="append detections to FILE (0600) instead of stdout")
    serve.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run until stopped)"
    )
    _detection_options(serve)
    trail = commands.add_parser(
        "trail",
        help="every action of break-glass and system:masters identities, in order, for an incident ticket",
    )
    trail.add_argument("logs", nargs="+", metavar="PATH", help="audit log files or directories; '-' reads stdin")
    trail.add_argument(
        "--identity", action="append", default=[], metavar="USER", help="a break-glass identity (repeatable)"
    )
    trail.add_argument(
        "--no-masters", action="store_true", help="leave out other members of system:masters (default: include them)"
    )
    trail.add_argument(
        "--since", metavar="TIME", help="only actions from TIME on (RFC 3339, e.g. 2026-12-05T10:00:00Z)"
    )
    add_output_options(trail, ("markdown", "html", "json"), "markdown")


def _detection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--break-glass", action="append", default=[], metavar="USER", help="an identity whose every action is reported"
    )
    parser.add_argument(
        "--allowed-network", action="append", default=[], metavar="CIDR", help="requests from elsewhere are reported"
    )
    parser.add_argument(
        "--detections", action="append", default=[], metavar="FILE", help="your own detections: CEL over `event` (YAML)"
    )
    gitops = parser.add_argument_group(
        "GitOps namespaces (AD-013: changes there not made by the operator)",
        "Read from a cluster or a snapshot (Argo CD Applications, Flux Kustomizations and HelmReleases, and the "
        "ServiceAccounts their controllers run as or impersonate), or named here.",
    )
    gitops.add_argument(
        "--gitops-namespace", action="append", default=[], metavar="NAMESPACE", help="a namespace only git changes"
    )
    gitops.add_argument(
        "--gitops-operator",
        action="append",
        default=[],
        metavar="USER",
        help="another identity that deploys from git (Argo CD's and Flux's default ones are always known)",
    )
    add_cluster_choice(gitops, verb="find them in")
    gitops.add_argument("--snapshot", metavar="FILE", help="find them in a snapshot written by `stockade snapshot`")


def run_audit(args: argparse.Namespace) -> int:
    if args.audit_command == "trail":
        return _trail(args)
    if args.audit_command == "serve":
        return _serve(args)
    import orjson

    from stockade.audit.read import ReadProblem, read_events
    from stockade.model.text import visible

    detector = _detector(args)
    problems: list[ReadProblem] = []
    found = [d.evidence() for d in detector.run(read_events(args.logs, problems, sys.stdin.buffer))]
    if args.format == "json":
        document = {"events": detector.events, "detections": found, "problems": [str(p) for p in problems]}
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        lines = [f"{d['severity']:<8} {d['id']}  {d['time']}  {d['detail']}  [auditID {d['auditID']}]" for d in found]
        lines.append(f"{len(found)} detections in {detector.events} events.")
        text = "\n".join(visible(line) for line in lines) + "\n"
    write_output(text, args.output)
    for problem in problems:
        sys.stderr.write(f"stockade: {visible(str(problem))}\n")
    if problems:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if found else EXIT_CLEAN


def _trail(args: argparse.Namespace) -> int:
    import datetime as dt

    import orjson

    from stockade.audit.read import ReadProblem, read_events
    from stockade.audit.trail import render_html, render_markdown, trail
    from stockade.model.text import visible

    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            fatal(f"--since {args.since!r} is not an RFC 3339 time")
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    if not args.identity and args.no_masters:
        fatal("--no-masters needs at least one --identity")
    problems: list[ReadProblem] = []
    events = read_events(args.logs, problems, sys.stdin.buffer)
    entries = list(trail(events, args.identity, masters=not args.no_masters, since=since))
    who = ", ".join(args.identity) or "system:masters"
    title = f"Break-glass trail: {who}"
    if args.format == "json":
        text = orjson.dumps({"title": title, "actions": [e.to_json() for e in entries]}, option=orjson.OPT_INDENT_2)
        write_output(text.decode() + "\n", args.output)
    else:
        write_output((render_html if args.format == "html" else render_markdown)(entries, title), args.output)
    for problem in problems:
        sys.stderr.write(f"stockade: {visible(str(problem))}\n")
    return EXIT_UNREADABLE if problems else EXIT_CLEAN


def _detector(args: argparse.Namespace) -> Any:
    """The detections the options ask for: break-glass identities, allowed networks, users' own."""
    from stockade.audit.detections import CATALOGUE, AuditConfig, Detector
    from stockade.audit.user_rules import DetectionsFileError, load_detections

    networks = []
    for text in args.allowed_network:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            fatal(f"--allowed-network {text!r} is not a CIDR")
    taken = {info.id for info in CATALOGUE}
    try:
        extra = [d for path in args.detections for d in load_detections(path, taken)]
    except DetectionsFileError as error:
        fatal(str(error))
    config = AuditConfig(break_glass=frozenset(args.break_glass), networks=tuple(networks), gitops=_gitops(args))
    return Detector(config, extra)


# What GitOps discovery reads from a cluster: the operators' objects and the controllers' workloads.
GITOPS_KINDS = ("applications.argoproj.io", "applicationsets.argoproj.io", "appprojects.argoproj.io")
FLUX_KINDS = ("kustomizations.kustomize.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io")


def _gitops(args: argparse.Namespace) -> Any:
    """The GitOps scope: discovered from a cluster or snapshot, widened by the options."""
    from stockade.cli.inputs import wants_cluster
    from stockade.model.gitops import DEFAULT_OPERATORS, NO_GITOPS
    from stockade.model.text import visible

    named = dict.fromkeys(args.gitops_namespace, "--gitops-namespace")
    operators = frozenset(args.gitops_operator) | (DEFAULT_OPERATORS if named else frozenset())
    if wants_cluster(args) and args.snapshot:
        fatal("read GitOps namespaces from one place: a cluster or --snapshot")
    if not (wants_cluster(args) or args.snapshot):
        return NO_GITOPS.widened(named, operators)
    from stockade.api import gitops_scope
    from stockade.report.problems import render_problems
    from stockade.sources.base import Source

    source: Source
    if args.snapshot:
        from stockade.sources.snapshot import SnapshotSource

        source = SnapshotSource(args.snapshot)
    else:
        from stockade.sources.cluster import ClusterSource

        kinds = [*GITOPS_KINDS, *FLUX_KINDS, "deployments.apps", "statefulsets.apps"]
        source = ClusterSource(args.context, args.kubeconfig, kinds)
    found, read = gitops_scope(source)
    # A cluster without Argo CD or Flux serves none of their kinds: not a problem, just no scope.
    problems = [p for p in read.errors if p.kind != "config"]
    if problems:
        sys.stderr.write(render_problems(problems))
        fatal("could not read the GitOps operators' objects")
    scope = found.widened(named, operators)
    listed = ", ".join(sorted(scope.managed)) or "none"
    sys.stderr.write(visible(f"stockade: GitOps-managed namespaces: {listed}") + "\n")
    return scope


def _serve(args: argparse.Namespace) -> int:
    import datetime as dt
    import signal
    import threading
    from pathlib import Path

    import orjson

    from stockade.admission.certs import issue, write_files
    from stockade.admission.server import AdmissionServer
    from stockade.audit.detections import Detection
    from stockade.audit.ingest import Ingest, create_app
    from stockade.outputs import open_append

    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as exc:
            fatal(f"--token-file: {exc.strerror or exc}")
        if not token:
            fatal("--token-file is empty")
    directory = Path(args.certificate_dir)
    cert, key = directory / "tls.crt", directory / "tls.key"
    if not (cert.exists() and key.exists()):
        now = dt.datetime.now(dt.UTC)
        hosts = sorted({args.host, "localhost", "127.0.0.1"})
        write_files(
            issue("stockade-audit-ca", "stockade-audit", hosts, start=now, end=now + dt.timedelta(days=365)), directory
        )
        sys.stderr.write(f"stockade: wrote a new CA ({directory / 'ca.crt'}) and serving certificate\n")
    stream: Any
    if args.output is None:
        stream = sys.stdout.buffer
    else:
        try:
            stream = open_append(args.output, what="detections")
        except OSError as error:
            fatal(str(error))
    lock = threading.Lock()

    def emit(detection: Detection) -> None:
        with lock:
            stream.write(orjson.dumps(detection.evidence()) + b"\n")
            stream.flush()

    ingest = Ingest(_detector(args), emit)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = AdmissionServer(create_app(ingest, token), cert_file=cert, key_file=key, host=args.host, port=args.port)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        fatal(f"cannot serve on {args.host}:{args.port}: {exc}")
    sys.stderr.write(f"stockade: audit webhook on {server.url}\n")
    stop.wait(args.duration)
    server.stop()
    ingest.drain()
    if args.output is not None:
        stream.close()
    stats = ingest.stats
    sys.stderr.write(
        f"stockade: {stats.received} events received, {stats.judged} judged, {stats.detections} detections, "
        f"{stats.refused} refused while busy (sent again by the API server)\n"
    )
    return EXIT_CLEAN
