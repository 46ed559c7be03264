"""Where every command's objects come from: the same source options for scan, rbac, pss and snapshot,
turned into library :class:`~stockade.sources.base.Source` values."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from stockade.cli.errors import fatal
from stockade.cli.progress import ProgressDisplay
from stockade.errors import StockadeError
from stockade.model.result import ScanResult
from stockade.sources.base import ProgressCallback, Source

# The cluster source's default (stockade.sources.cluster.DEFAULT_TIMEOUT), kept here so that
# building the parser does not import the Kubernetes client.
DEFAULT_CLUSTER_TIMEOUT = 300.0


def add_namespace_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, namespace_help: str, all_help: str, repeatable: bool
) -> None:
    """``-n/--namespace`` and ``-A/--all-namespaces``, as kubectl spells them (they exclude each other)."""
    if repeatable:
        parser.add_argument("-n", "--namespace", action="append", default=[], metavar="NAMESPACE", help=namespace_help)
    else:
        parser.add_argument("-n", "--namespace", metavar="NAMESPACE", help=namespace_help)
    parser.add_argument("-A", "--all-namespaces", action="store_true", help=all_help)


def check_namespace_flags(args: argparse.Namespace) -> None:
    if getattr(args, "all_namespaces", False) and getattr(args, "namespace", None):
        fatal("-n/--namespace and -A/--all-namespaces exclude each other")


def add_pod_template_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--pod-template",
        action="append",
        default=[],
        metavar="KIND.GROUP=PATH",
        help="an extra CRD kind carrying a pod template, e.g. Rollout.argoproj.io=spec.template",
    )


def add_cluster_choice(group: argparse._ArgumentGroup, *, verb: str) -> None:
    """``--cluster``, ``--context`` and ``--kubeconfig``: which cluster (``verb``: what is done with it)."""
    group.add_argument("--cluster", action="store_true", help=f"{verb} the cluster of the current kubeconfig context")
    group.add_argument("--context", metavar="NAME", help=f"{verb} the cluster of this kubeconfig context")
    group.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")


def add_timeout_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_CLUSTER_TIMEOUT,
        metavar="SECONDS",
        help=f"give up reading a live cluster after this long (default: {DEFAULT_CLUSTER_TIMEOUT:g}); "
        "what was not read by then is reported",
    )


def add_cluster_options(group: argparse._ArgumentGroup, *, verb: str, kinds_help: str, namespaces_help: str) -> None:
    """``--cluster``, ``--context``, ``--kubeconfig``, ``--kinds`` and ``--namespaces``: which
    cluster a command reads (``verb``: what it does with it) and what of it."""
    add_cluster_choice(group, verb=verb)
    group.add_argument("--kinds", action="append", default=[], metavar="LIST", help=kinds_help)
    group.add_argument("--namespaces", action="append", default=[], metavar="LIST", help=namespaces_help)


def add_source_options(parser: argparse.ArgumentParser, *, namespace_flags: bool = True) -> None:
    """The inputs every reading command takes. ``namespace_flags`` False: the command gives ``-n``
    a meaning of its own (``rbac``: the namespace of the request)."""
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories (.yaml/.yml/.json, kustomize and helm directories); '-' reads stdin",
    )
    add_pod_template_option(parser)
    cluster = parser.add_argument_group("live cluster and snapshots")
    add_cluster_options(
        cluster,
        verb="read",
        kinds_help="only these kinds from the cluster, kubectl style (deploy,secrets,roles.rbac.authorization.k8s.io)",
        namespaces_help="read namespaced kinds inside these namespaces only (for RBAC that covers only them); "
        "cluster-scoped kinds are then not read",
    )
    if namespace_flags:
        add_namespace_flags(
            cluster,
            namespace_help="read namespaced kinds in this namespace only, as kubectl -n (repeatable; "
            "same as --namespaces)",
            all_help="read every namespace (the default), as kubectl -A",
            repeatable=True,
        )
    cluster.add_argument(
        "--snapshot", action="append", default=[], metavar="FILE", help="read a snapshot written by `stockade snapshot`"
    )
    cluster.add_argument(
        "--audit-kubeconfig",
        action="append",
        default=[],
        metavar="FILE",
        help="check a kubeconfig handed to people (AU-006): only each user's kind of credential and certificate "
        "names and expiry are read, never keys or tokens",
    )
    cluster.add_argument(
        "--cloud-config",
        action="append",
        default=[],
        metavar="FILE",
        help="a managed cluster's description: `aws eks describe-cluster`, `gcloud container clusters describe "
        "--format json` or `az aks show` JSON",
    )
    add_timeout_option(cluster)
    parser.add_argument(
        "--allow-remote-kustomize",
        action="store_true",
        help="let kustomizations load remote bases and resources (URLs, git repositories); off by default",
    )
    parser.add_argument(
        "--follow-links",
        action="store_true",
        help="follow symbolic links that lead outside the paths named; off by default (they are reported)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display on stderr")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def wants_cluster(args: argparse.Namespace) -> bool:
    return bool(args.cluster or args.context is not None or args.kubeconfig is not None)


def _listed(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def listed_option(option: str, values: list[str]) -> list[str]:
    """The comma-separated items of a repeatable option; a value naming nothing (``''``, ``,``) is a
    usage error, not "no filter" (which would quietly widen what runs or is read)."""
    for value in values:
        if not _listed([value]):
            fatal(f"{option} {value!r} names nothing")
    return _listed(values)


def _check_not_empty(args: argparse.Namespace) -> None:
    for option, value in (("--context", args.context), ("--kubeconfig", args.kubeconfig)):
        if value is not None and not value.strip():
            fatal(f"{option} is empty")
    for path in [*args.paths, *args.snapshot, *args.cloud_config, *args.audit_kubeconfig]:
        if not path:
            fatal("an empty path names nothing to read")


def sources_from_args(args: argparse.Namespace) -> list[Source]:
    """Files, the live cluster and snapshots, in that order, as the user named them."""
    _check_not_empty(args)
    if (
        not args.paths
        and not wants_cluster(args)
        and not args.snapshot
        and not getattr(args, "node_results", None)
        and not args.cloud_config
        and not args.audit_kubeconfig
    ):
        fatal("nothing to read: give files, directories, '-' for stdin, --cluster/--context or --snapshot")
    sources: list[Source] = []
    if args.paths:
        from stockade.sources.files import FileSource
        from stockade.sources.limits import ParseLimits

        limits = ParseLimits(allow_remote_kustomize=args.allow_remote_kustomize, follow_links=args.follow_links)
        sources.append(FileSource(tuple(args.paths), limits=limits))
    check_namespace_flags(args)
    read_in = [*args.namespaces, *(args.namespace if isinstance(getattr(args, "namespace", None), list) else [])]
    if wants_cluster(args):
        from stockade.sources.cluster import ClusterSource

        kinds, namespaces = listed_option("--kinds", args.kinds), listed_option("--namespaces", read_in)
        sources.append(
            ClusterSource(args.context, args.kubeconfig, kinds or None, namespaces or None, timeout=args.timeout)
        )
    elif args.kinds or read_in:
        option = "--kinds" if args.kinds else "-n/--namespaces"
        fatal(f"{option} selects what to read from a live cluster: add --cluster, --context or --kubeconfig")
    for path in args.snapshot:
        from stockade.sources.snapshot import SnapshotSource

        sources.append(SnapshotSource(path))
    if args.cloud_config:
        from stockade.sources.cloud import CloudConfigSource

        sources.append(CloudConfigSource(tuple(args.cloud_config)))
    if args.audit_kubeconfig:
        from stockade.sources.kubeconfig_audit import KubeconfigAuditSource

        sources.append(KubeconfigAuditSource(tuple(args.audit_kubeconfig)))
    return sources


def progress_display(args: argparse.Namespace) -> AbstractContextManager[ProgressCallback | None]:
    """A progress bar on stderr when it is a terminal and not turned off, else nothing."""
    if getattr(args, "no_progress", False) or not sys.stderr.isatty():
        return nullcontext(None)
    return ProgressDisplay()


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn the library's usage and source errors into ``stockade: error: …`` and exit 2."""
    try:
        yield
    except StockadeError as exc:
        fatal(str(exc))


def read_inputs(args: argparse.Namespace) -> ScanResult:
    """Read and index what the user named, running no rule (for ``rbac`` and ``pss`` questions)."""
    from stockade.api import ScanOptions, scan

    sources = sources_from_args(args)
    with usage_errors(), progress_display(args) as progress:
        return scan(sources, ScanOptions(run_rules=False, pod_templates=args.pod_template, progress=progress))
