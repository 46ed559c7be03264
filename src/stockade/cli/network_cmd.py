"""``stockade network``: who can reach whom under NetworkPolicies, and egress out of the pod network.

    stockade network reach k8s/                               # the namespace matrix
    stockade network reach --snapshot s.json --to shop/db     # who reaches a workload, and why
    stockade network reach --cluster --from web --to db --port 5432
    stockade network egress k8s/                              # internet, metadata address, API server
    stockade network exposed k8s/                             # what the outside reaches, and through what

A workload is named ``Kind/namespace/name``, ``namespace/name`` or ``name`` (when that is unique).
Exit codes: 0 answered, 2 usage error, 3 some input could not be read (the answer covers the rest).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import add_source_options, read_inputs
from stockade.cli.output_options import add_output_options, write_output

if TYPE_CHECKING:
    from stockade.network import Reachability


def add_network_parser(sub: Any) -> None:
    network = sub.add_parser(
        "network",
        help="east-west traffic: who can reach whom under NetworkPolicies",
        description="Evaluate NetworkPolicies (ingress and egress, namespace and pod selectors, ipBlocks with except, "
        "named ports, endPort) over the workloads read, and say which can open connections to which and why.",
    )
    commands = network.add_subparsers(dest="network_command", required=True)
    reach = commands.add_parser(
        "reach",
        help="which workloads can connect to which, and the policy that allows or denies it",
        description="Without --from or --to: the matrix of workload pairs that can connect, by namespace (DOT and "
        "JSON list every pair). With --to: who can reach that workload, per port. With --from: what it can reach. "
        "With both: the verdict on each port, egress and ingress side, with the policy rule that decides.",
    )
    add_source_options(reach)
    reach.add_argument("--from", dest="source", metavar="WORKLOAD", help="the workload connections start from")
    reach.add_argument("--to", dest="target", metavar="WORKLOAD", help="the workload connections go to")
    reach.add_argument("--port", metavar="PORT", help="only this port (number or name)")
    reach.add_argument("--limit", type=int, default=50, help="sources or targets listed at most (default 50)")
    add_output_options(reach, ("table", "json", "dot"), "table")
    egress = commands.add_parser(
        "egress",
        help="workloads that can connect to the internet, the cloud metadata address, the API server",
        description="For each workload: may its pods open connections to a public address, to 169.254.169.254 "
        "(cloud credentials), and to the API server (its address from the kubernetes Endpoints when read)?",
    )
    add_source_options(egress)
    egress.add_argument("--open-only", action="store_true", help="list only workloads that can reach one of them")
    add_output_options(egress, ("table", "json"), "table")
    exposed = commands.add_parser(
        "exposed",
        help="entry points from outside and the workloads they reach",
        description="LoadBalancer and NodePort Services, Ingresses, Gateway API routes, Istio VirtualServices bound "
        "to a gateway and host-network pods, resolved through Services and target ports to the containers that "
        "serve them, where NetworkPolicies let outside traffic in (as attack paths see them).",
    )
    add_source_options(exposed)
    add_output_options(exposed, ("table", "json"), "table")


def run_network(args: argparse.Namespace) -> int:
    from stockade.network import Reachability, egress_destinations
    from stockade.report import network as report
    from stockade.report.problems import render_problems

    if getattr(args, "limit", 1) < 1:
        fatal("--limit must be at least 1")
    if args.network_command == "exposed":
        return _exposed(args)
    read = read_inputs(args)
    assert read.inventory is not None
    reach = Reachability(read.inventory)
    if args.network_command == "egress":
        text = report.render_egress(reach, egress_destinations(read.inventory), args.format, args.open_only)
    elif args.source and args.target:
        source, target = _find(reach, args.source, "--from"), _find(reach, args.target, "--to")
        if args.format == "dot":
            fatal("-f dot draws the matrix: leave out --from and --to")
        ports = report.ports_for(reach, target, args.port)
        text = report.render_verdicts([reach.verdict(source, target, p) for p in ports], args.format)
    elif args.target:
        if args.format == "dot":
            fatal("-f dot draws the matrix: leave out --from and --to")
        text = report.render_reachers(reach, _find(reach, args.target, "--to"), args.port, args.format, args.limit)
    elif args.source:
        if args.format == "dot":
            fatal("-f dot draws the matrix: leave out --from and --to")
        text = report.render_reached(reach, _find(reach, args.source, "--from"), args.port, args.format, args.limit)
    else:
        text = report.render_matrix(reach, args.port, args.format)
    write_output(text, args.output)
    sys.stderr.write(render_problems(read.errors, read.skipped_inputs))
    return EXIT_UNREADABLE if read.errors else EXIT_CLEAN


def _exposed(args: argparse.Namespace) -> int:
    from stockade.api import ScanOptions, scan
    from stockade.cli.inputs import progress_display, sources_from_args, usage_errors
    from stockade.paths import PATH_RULES, analyse
    from stockade.report.network import render_exposed
    from stockade.report.problems import render_problems

    sources = sources_from_args(args)
    with usage_errors(), progress_display(args) as progress:
        result = scan(sources, ScanOptions(rules=PATH_RULES, pod_templates=args.pod_template, progress=progress))
    write_output(render_exposed(analyse(result).graph, args.format), args.output)
    sys.stderr.write(render_problems(result.errors, result.skipped_inputs))
    return EXIT_UNREADABLE if result.errors else EXIT_CLEAN


def _find(reach: Reachability, name: str, option: str) -> int:
    """``Kind/namespace/name``, ``namespace/name`` or ``name``; ambiguous or unknown names are usage errors."""
    from stockade.model.text import did_you_mean

    if name in reach.index:
        return reach.index[name]
    parts = name.split("/")
    matches = [
        i
        for i, e in enumerate(reach.endpoints)
        if (len(parts) == 1 and e.key.rsplit("/", 1)[-1] == name)
        or (len(parts) == 2 and e.key.split("/", 1)[1] == name)
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        fatal(
            f"{option} {name!r} names {len(matches)} workloads: " + ", ".join(reach.endpoints[i].key for i in matches)
        )
    spellings = [short for key in reach.index for short in (key, key.split("/", 1)[1], key.rsplit("/", 1)[1])]
    fatal(f"{option} {name!r} is not a workload read{did_you_mean(name, spellings)}")
