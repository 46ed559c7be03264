"""``stockade deploy manifests | kustomize``: the in-cluster watcher's manifests
(:mod:`stockade.watch.deploy`), printed, or written as the kustomize base in ``deploy/``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, fatal
from stockade.cli.output_options import add_output_options, write_output


def add_deploy_parser(sub: argparse._SubParsersAction[Any]) -> None:
    from stockade.watch.deploy import DEFAULT_IMAGE, DEFAULT_NAMESPACE, DEFAULT_STORE_SECRET, STORE_SECRET_KEY

    deploy = sub.add_parser(
        "deploy",
        help="manifests to run `stockade watch` in a cluster",
        description="Kubernetes manifests that run `stockade watch` in the cluster: two replicas with leader "
        "election, a read-only ClusterRole (get, list, watch; nothing on Secrets), metrics and health probes, "
        "Pod Security restricted.",
    )
    commands = deploy.add_subparsers(dest="deploy_command", required=True, parser_class=type(deploy))
    printed = commands.add_parser(
        "manifests",
        help="print the manifests (kubectl apply -f -)",
        description="Print the manifests. The history store URL is read from the Secret --store-secret (key "
        f"{STORE_SECRET_KEY!r}), which you create in the namespace first.",
    )
    printed.add_argument("--image", default=DEFAULT_IMAGE, metavar="IMAGE", help=f"image (default: {DEFAULT_IMAGE})")
    printed.add_argument(
        "-n",
        "--namespace",
        default=DEFAULT_NAMESPACE,
        metavar="NAMESPACE",
        help="namespace to run in (default: %(default)s)",
    )
    printed.add_argument(
        "--store-secret",
        default=DEFAULT_STORE_SECRET,
        metavar="NAME",
        help=f"Secret holding the store URL under key {STORE_SECRET_KEY!r} (default: %(default)s)",
    )
    printed.add_argument(
        "--policy-reports",
        action="store_true",
        help="also let the watcher write PolicyReports (wgpolicyk8s.io), in a ClusterRole of its own",
    )
    printed.add_argument(
        "--node-agent",
        action="store_true",
        help="print instead the node agent: a DaemonSet running `stockade node watch` on every node, in a "
        "namespace of its own (-n; default stockade-node)",
    )
    add_output_options(printed, ("yaml", "json"), "yaml")
    kustomize = commands.add_parser(
        "kustomize",
        help="write the manifests as a kustomize base (make deploy)",
        description="Write the default manifests into DIRECTORY as a kustomize base (kustomization.yaml and one "
        "file per part).",
    )
    kustomize.add_argument("directory", nargs="?", default="deploy", metavar="DIRECTORY")
    kustomize.add_argument("--check", action="store_true", help="exit 1 when the files on disk are stale")


def run_deploy(args: argparse.Namespace) -> int:
    from stockade.watch.deploy import DeployOptions

    if args.deploy_command == "kustomize":
        return _kustomize(Path(args.directory), args.check)
    if args.node_agent:
        return _node_agent(args)
    try:
        options = DeployOptions(
            image=args.image,
            namespace=args.namespace,
            store_secret=args.store_secret,
            policy_reports=args.policy_reports,
        ).checked()
    except ValueError as error:
        fatal(str(error))
    write_output(_render(options, args.format), args.output)
    return EXIT_CLEAN


def _node_agent(args: argparse.Namespace) -> int:
    from stockade._manifests import dump_yaml
    from stockade.node.deploy import DEFAULT_NAMESPACE, node_agent
    from stockade.watch.deploy import DEFAULT_NAMESPACE as WATCH_NAMESPACE
    from stockade.watch.deploy import DeployOptions

    namespace = DEFAULT_NAMESPACE if args.namespace == WATCH_NAMESPACE else args.namespace
    try:
        DeployOptions(image=args.image, namespace=namespace).checked()
    except ValueError as error:
        fatal(str(error))
    objects = node_agent(args.image, namespace)
    if args.format == "json":
        import orjson

        text = orjson.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, option=orjson.OPT_INDENT_2).decode()
        write_output(text + "\n", args.output)
    else:
        write_output(dump_yaml(objects), args.output)
    return EXIT_CLEAN


def _render(options: Any, format: str) -> str:
    from stockade.watch.deploy import manifests, render_yaml

    if format == "json":
        import orjson

        listed = {"apiVersion": "v1", "kind": "List", "items": manifests(options)}
        return orjson.dumps(listed, option=orjson.OPT_INDENT_2).decode() + "\n"
    return str(render_yaml(options))


def _kustomize(directory: Path, check: bool) -> int:
    from stockade.outputs import write_output as write_file
    from stockade.report._summary import clean
    from stockade.watch.deploy import kustomize_files

    files = kustomize_files()
    stale = [name for name, text in files.items() if _read(directory / name) != text]
    if check:
        if stale:
            sys.stderr.write(
                f"stockade: {clean(str(directory))} is stale ({', '.join(stale)}); run `make deploy`"
                " (stockade deploy kustomize)\n"
            )
            return EXIT_FINDINGS
        return EXIT_CLEAN
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in stale:
            write_file(directory / name, files[name].encode())
    except OSError as error:
        fatal(clean(f"cannot write {directory}: {error}"))
    sys.stdout.write(f"wrote {len(stale)} of {len(files)} files in {clean(str(directory))}\n")
    return EXIT_CLEAN


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        return None
