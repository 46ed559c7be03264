"""``stockade admission ...``: Stockade's rules at the API server's door.

Each subcommand is a pair of functions here, ``_add_<name>(commands)`` and ``_run_<name>(args)``,
listed once in :data:`SUBCOMMANDS`; ``manifests`` prints what runs the webhook in a cluster
(:mod:`stockade.admission.manifests`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, fatal

if TYPE_CHECKING:
    from stockade.admission.certs import ServingCertificate

STDOUT = "-"


def add_admission_parser(sub: argparse._SubParsersAction[Any]) -> None:
    admission = sub.add_parser(
        "admission",
        help="admission webhook: Stockade's rules at the API server's door",
        description="The admission webhook: the same rules, exceptions and Pod Security evaluation as "
        "`stockade scan`, applied when objects are created or changed.",
    )
    commands = admission.add_subparsers(dest="admission_command", required=True, parser_class=type(admission))
    for add, _ in SUBCOMMANDS.values():
        add(commands)


def run_admission(args: argparse.Namespace) -> int:
    _, run = SUBCOMMANDS[args.admission_command]
    return run(args)


# -- manifests --------------------------------------------------------------------------------------


def _failure_policy(text: str) -> str:
    from stockade.admission.manifests import FAILURE_POLICIES

    for policy in FAILURE_POLICIES:
        if text.lower() == policy.lower():
            return policy
    raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(FAILURE_POLICIES)}")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _add_manifests(commands: argparse._SubParsersAction[Any]) -> None:
    from stockade.admission.certs import DEFAULT_DAYS
    from stockade.admission.manifests import (
        DEFAULT_IMAGE,
        DEFAULT_NAME,
        DEFAULT_NAMESPACE,
        DEFAULT_TIMEOUT,
        MAX_TIMEOUT,
        TLS_MODES,
    )

    printed = commands.add_parser(
        "manifests",
        help="print the webhook's manifests (kubectl apply -f -)",
        description="Print (or write into a directory) what runs `stockade admission serve` in a cluster: "
        "namespace, ServiceAccount, a ClusterRole reading Namespaces, the configuration as a ConfigMap, TLS, a "
        "two-replica Deployment with a PodDisruptionBudget (Pod Security restricted), the Service, and the "
        "Validating (and with --mutate, Mutating) WebhookConfiguration. The webhook's own namespace and "
        "kube-system are never sent to it. With --tls self-signed (the default) a new CA and serving certificate "
        "are generated and the output holds the private key: keep it out of version control.",
    )
    printed.add_argument(
        "-n",
        "--namespace",
        default=DEFAULT_NAMESPACE,
        metavar="NAMESPACE",
        help="namespace to run in (default: %(default)s)",
    )
    printed.add_argument(
        "--name",
        default=DEFAULT_NAME,
        metavar="NAME",
        help="name of the Service, Deployment and webhook configurations (default: %(default)s)",
    )
    printed.add_argument("--image", default=DEFAULT_IMAGE, metavar="IMAGE", help=f"image (default: {DEFAULT_IMAGE})")
    printed.add_argument("--replicas", type=_whole, default=2, metavar="N", help="replicas (default: %(default)s)")
    printed.add_argument(
        "--failure-policy",
        type=_failure_policy,
        default="Fail",
        metavar="Fail|Ignore",
        help="what the API server does when the webhook cannot answer: refuse (Fail, the default) or let the "
        "object in (Ignore). exec/attach/port-forward recording always uses Ignore",
    )
    printed.add_argument(
        "--timeout",
        type=_whole,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long the API server waits for an answer, 1 to {MAX_TIMEOUT} (default: %(default)s)",
    )
    printed.add_argument("--mutate", action="store_true", help="also a MutatingWebhookConfiguration (safe defaults)")
    printed.add_argument(
        "--tls",
        choices=TLS_MODES,
        default="self-signed",
        help="self-signed: generate a CA and serving certificate now; cert-manager: an Issuer and a Certificate "
        "(no key material in the output) (default: %(default)s)",
    )
    printed.add_argument(
        "--days",
        type=_whole,
        default=DEFAULT_DAYS,
        metavar="N",
        help="validity of the self-signed certificates (default: %(default)s)",
    )
    printed.add_argument(
        "--config",
        metavar="FILE",
        help="the server's configuration file, shipped in a ConfigMap (default: every setting at its default)",
    )
    printed.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="SEL",
        help="send the webhook the kinds these rules judge (ids, names, families or areas; default: the default rules)",
    )
    printed.add_argument("--skip-rules", action="append", default=[], metavar="SEL", help="leave these rules out")
    printed.add_argument(
        "--topology-spread", action="store_true", help="spread the replicas over zones (topology.kubernetes.io/zone)"
    )
    printed.add_argument(
        "-o",
        "--output",
        default=STDOUT,
        metavar="DIR|-",
        help="write one file per part (and kustomization.yaml; with self-signed TLS also ca.crt, tls.crt and "
        "tls.key, 0600) into DIR, or print one YAML stream (-, the default)",
    )


def _tokens(values: list[str]) -> tuple[str, ...]:
    return tuple(token.strip() for value in values for token in value.split(",") if token.strip())


def _read_config(path: str) -> str:
    from stockade.admission.manifests import MAX_CONFIG_BYTES, check_config
    from stockade.report._summary import clean

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        fatal(clean(f"cannot read --config {path}: {error.strerror or error}"))
    if len(data) > MAX_CONFIG_BYTES:
        fatal(clean(f"--config {path}: larger than a ConfigMap holds (1 MiB)"))
    try:
        text = data.decode("utf-8")
        check_config(text)
    except UnicodeDecodeError:
        fatal(clean(f"--config {path}: not UTF-8 text"))
    except ValueError as error:
        fatal(clean(f"--config {path}: {error}"))
    return text


def _run_manifests(args: argparse.Namespace) -> int:
    from stockade.admission import certs
    from stockade.admission.manifests import DEFAULT_CONFIG, ManifestOptions, render_files, render_yaml
    from stockade.report._summary import clean

    try:
        options = ManifestOptions(
            namespace=args.namespace,
            name=args.name,
            image=args.image,
            replicas=args.replicas,
            failure_policy=args.failure_policy,
            timeout_seconds=args.timeout,
            mutate=args.mutate,
            tls=args.tls,
            config=DEFAULT_CONFIG if args.config is None else _read_config(args.config),
            rules=_tokens(args.rules),
            skip_rules=_tokens(args.skip_rules),
            topology_spread=args.topology_spread,
        ).checked()
    except ValueError as error:
        fatal(clean(str(error)))
    certificate = None
    if options.tls == "self-signed":
        try:
            certificate = certs.generate(options.name, options.namespace, days=args.days)
        except ValueError as error:
            fatal(f"--days: {error}")
    bundle = certificate.ca_pem if certificate else None
    if args.output == STDOUT:
        sys.stdout.write(render_yaml(options, bundle, certificate))
        sys.stdout.flush()
        return EXIT_CLEAN
    _write_directory(Path(args.output), render_files(options, bundle, certificate), certificate)
    return EXIT_CLEAN


def _write_directory(directory: Path, files: dict[str, str], certificate: ServingCertificate | None) -> None:
    from stockade.admission.certs import write_files
    from stockade.admission.manifests import SECRET_FILES
    from stockade.outputs import PRIVATE, write_output
    from stockade.report._summary import clean

    if directory.exists() and not directory.is_dir():
        fatal(clean(f"-o {directory}: not a directory (give a directory, or - for standard output)"))
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, text in files.items():
            write_output(directory / name, text.encode("utf-8"), mode=PRIVATE if name in SECRET_FILES else None)
        written = len(files)
        if certificate is not None:
            write_files(certificate, directory)
            written += 3
    except OSError as error:
        fatal(clean(f"cannot write {directory}: {error}"))
    sys.stdout.write(f"wrote {written} files in {clean(str(directory))}\n")


# name -> (add the parser, run it). `serve` and `dry-run` join here.
SUBCOMMANDS: dict[
    str, tuple[Callable[[argparse._SubParsersAction[Any]], None], Callable[[argparse.Namespace], int]]
] = {
    "manifests": (_add_manifests, _run_manifests),
}
