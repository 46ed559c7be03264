"""Where every command's objects come from: the same source options for scan, rbac and pss."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from stockade.cli.errors import fatal
from stockade.cli.progress import Progress
from stockade.model.inventory import Inventory
from stockade.sources.base import SourceResult


def add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories (.yaml/.yml/.json, kustomize and helm directories); '-' reads stdin",
    )
    parser.add_argument(
        "--pod-template",
        action="append",
        default=[],
        metavar="KIND.GROUP=PATH",
        help="an extra CRD kind carrying a pod template, e.g. Rollout.argoproj.io=spec.template",
    )
    cluster = parser.add_argument_group("live cluster and snapshots")
    cluster.add_argument("--cluster", action="store_true", help="read the cluster of the current kubeconfig context")
    cluster.add_argument("--context", metavar="NAME", help="read the cluster of this kubeconfig context")
    cluster.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    cluster.add_argument(
        "--kinds",
        action="append",
        default=[],
        metavar="LIST",
        help="only these kinds from the cluster, kubectl style (deploy,secrets,roles.rbac.authorization.k8s.io)",
    )
    cluster.add_argument(
        "--namespaces",
        action="append",
        default=[],
        metavar="LIST",
        help="read namespaced kinds inside these namespaces only (for RBAC that covers only them); "
        "cluster-scoped kinds are then not read",
    )
    cluster.add_argument(
        "--snapshot", action="append", default=[], metavar="FILE", help="read a snapshot written by `stockade snapshot`"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display on stderr")


def parse_template_paths(values: list[str]) -> dict[tuple[str, str], tuple[str, ...]]:
    from stockade.model.podspec import DEFAULT_EXTRA_TEMPLATE_PATHS, parse_template_path_option

    paths = dict(DEFAULT_EXTRA_TEMPLATE_PATHS)
    for value in values:
        try:
            key, path = parse_template_path_option(value)
        except ValueError as exc:
            fatal(f"--pod-template: {exc}")
        paths[key] = path
    return paths


@dataclass(frozen=True, slots=True)
class Loaded:
    source: SourceResult
    inventory: Inventory
    progress: Progress


def wants_cluster(args: argparse.Namespace) -> bool:
    return bool(args.cluster or args.context or args.kubeconfig)


def collect_sources(args: argparse.Namespace, progress: Progress) -> SourceResult:
    """Files, the live cluster and snapshots, merged. Source errors are kept, never fatal, except a
    cluster that cannot even be configured (no kubeconfig, unknown context): a usage error."""
    if not args.paths and not wants_cluster(args) and not args.snapshot:
        fatal("nothing to read: give files, directories, '-' for stdin, --cluster/--context or --snapshot")
    source = SourceResult()
    if args.paths:
        from stockade.sources.files import collect_paths

        with progress.phase("reading manifests"):
            stdin = sys.stdin.buffer if "-" in args.paths else None
            source.extend(collect_paths(args.paths, stdin=stdin))
    if wants_cluster(args):
        from stockade.sources.cluster import collect_cluster

        kinds = [k.strip() for value in args.kinds for k in value.split(",") if k.strip()]
        namespaces = [n.strip() for value in args.namespaces for n in value.split(",") if n.strip()]
        cluster = collect_cluster(
            args.context, args.kubeconfig, kinds or None, progress=progress.enabled, namespaces=namespaces or None
        )
        if not cluster.resources and any(e.kind == "config" for e in cluster.errors):
            fatal("; ".join(e.message for e in cluster.errors if e.kind == "config"))
        source.extend(cluster)
    elif args.kinds or args.namespaces:
        option = "--kinds" if args.kinds else "--namespaces"
        fatal(f"{option} selects what to read from a live cluster: add --cluster, --context or --kubeconfig")
    for snapshot in args.snapshot:
        from stockade.sources.snapshot import collect_snapshot

        source.extend(collect_snapshot(snapshot))
    return source


def load_inventory(args: argparse.Namespace) -> Loaded:
    """Read every source the user named into one Inventory."""
    template_paths = parse_template_paths(args.pod_template)
    progress = Progress(enabled=not args.no_progress and sys.stderr.isatty())
    source = collect_sources(args, progress)
    return Loaded(source, Inventory(source.resources, template_paths), progress)
