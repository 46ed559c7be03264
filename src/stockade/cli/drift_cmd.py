"""``stockade drift``: what git says against what the cluster runs.

    stockade drift deploy/prod --cluster                      # table: missing, not in git, changed
    stockade drift deploy/prod --snapshot prod.json -f diff   # a unified diff per object
    stockade drift deploy/ --context prod -n shop -f json

Exit codes: 0 no drift, 1 drift, 2 usage error, 3 something could not be read (what was read is
still compared).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.inputs import (
    add_cluster_choice,
    add_timeout_option,
    listed_option,
    progress_display,
    usage_errors,
    wants_cluster,
)
from stockade.cli.output_options import add_output_options, write_output


def add_drift_parser(sub: Any) -> None:
    drift = sub.add_parser(
        "drift",
        help="compare manifests in git with a cluster or a snapshot",
        description="Objects in git but not in the cluster, objects in the cluster but not in git (in the namespaces "
        "git's objects are in, and those named with --held-namespace), and the fields that differ. Only fields "
        "someone set are compared: the live object's managedFields say which (server defaults belong to no "
        "manager), else its last-applied-configuration, else only the fields git sets. Status is never compared; "
        "Secrets are compared by their keys, as no value is ever read.",
    )
    drift.add_argument(
        "paths", nargs="+", metavar="GIT_DIR", help="the manifests git holds: files, directories, kustomize, helm"
    )
    live = drift.add_argument_group("the cluster to compare with")
    add_cluster_choice(live, verb="compare with")
    live.add_argument(
        "--namespaces",
        action="append",
        default=[],
        metavar="LIST",
        help="read the cluster in these namespaces only (for RBAC that covers only them); git's objects "
        "elsewhere, and cluster-scoped ones, are then listed as not compared",
    )
    live.add_argument("--snapshot", metavar="FILE", help="compare with a snapshot written by `stockade snapshot`")
    add_timeout_option(live)
    drift.add_argument(
        "-n",
        "--namespace",
        metavar="NAMESPACE",
        help="where git's objects that name no namespace are applied, as kubectl apply -n (default: default)",
    )
    drift.add_argument(
        "--held-namespace",
        action="append",
        default=[],
        metavar="NAMESPACE",
        help="another namespace whose every object must come from git (repeatable)",
    )
    drift.add_argument(
        "--ignore-manager",
        action="append",
        default=[],
        metavar="NAME",
        help="a field manager whose writes are expected, e.g. cainjector or a custom autoscaler (repeatable)",
    )
    drift.add_argument(
        "--allow-remote-kustomize", action="store_true", help="let kustomizations load remote bases (off by default)"
    )
    drift.add_argument("--no-progress", action="store_true", help="no progress display on stderr")
    add_output_options(drift, ("table", "json", "diff"), "table")


def run_drift(args: argparse.Namespace) -> int:
    from stockade.api import find_drift
    from stockade.drift import DriftOptions
    from stockade.report.drift import render_drift
    from stockade.report.problems import render_problems
    from stockade.sources.base import Source
    from stockade.sources.files import FileSource
    from stockade.sources.limits import ParseLimits

    if wants_cluster(args) == bool(args.snapshot):
        fatal("compare with one cluster: give --cluster, --context or --kubeconfig, or --snapshot")
    if any(not path for path in args.paths):
        fatal("an empty path names nothing to read")
    live: Source
    if args.snapshot:
        if args.namespaces:
            fatal("--namespaces selects what to read from a live cluster, not from a snapshot")
        from stockade.sources.snapshot import SnapshotSource

        live = SnapshotSource(args.snapshot)
    else:
        from stockade.sources.cluster import ClusterSource

        namespaces = listed_option("--namespaces", args.namespaces)
        live = ClusterSource(args.context, args.kubeconfig, None, namespaces or None, timeout=args.timeout)
    git = FileSource(tuple(args.paths), limits=ParseLimits(allow_remote_kustomize=args.allow_remote_kustomize))
    options = DriftOptions(
        namespace=args.namespace or "default",
        namespaces=tuple(listed_option("--held-namespace", args.held_namespace)),
        ignore_managers=frozenset(args.ignore_manager),
        read_only=tuple(listed_option("--namespaces", args.namespaces)),
    )
    with usage_errors(), progress_display(args):
        report = find_drift(git, live, options)
    write_output(render_drift(report, args.format), args.output)
    sys.stderr.write(render_problems(list(report.errors), []))
    if report.errors:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if report.drifted else EXIT_CLEAN
