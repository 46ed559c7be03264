"""``stockade admission serve|manifests``: the admission webhook (:mod:`stockade.admission`).

The subcommands hang off one subparser (:func:`add_admission_parser`); a new one adds its parser
in ``_SUBCOMMANDS`` and its runner in ``_RUNNERS``. ``serve`` runs the webhook; ``manifests`` prints
what runs it in a cluster (:mod:`stockade.admission.manifests`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_USAGE, fatal

if TYPE_CHECKING:
    from stockade.admission.assess import Assessment
    from stockade.admission.certs import ServingCertificate

STDOUT = "-"


def add_admission_parser(sub: argparse._SubParsersAction[Any]) -> None:
    admission = sub.add_parser(
        "admission",
        help="the admission webhook: Stockade's rules and Pod Security at the API server's door",
        description="Run Stockade as a validating (and mutating) admission webhook: the same rules, ids, "
        "messages and exceptions as `stockade scan`, each in a mode (enforce, warn, audit, dry-run), and Pod "
        "Security exactly as the Pod Security Admission plugin.",
    )
    commands = admission.add_subparsers(dest="admission_command", required=True, parser_class=type(admission))
    for add in _SUBCOMMANDS:
        add(commands)


def _add_serve(commands: argparse._SubParsersAction[Any]) -> None:
    from stockade.admission.server import DEFAULT_PORT

    serve = commands.add_parser(
        "serve",
        help="serve the webhook over HTTPS",
        description="Serve POST /validate and /mutate (AdmissionReview v1), /metrics, /healthz and /readyz over "
        "HTTPS. The certificate and key are reloaded when their files change. Runs until interrupted.",
    )
    serve.add_argument("--config", metavar="FILE", help="admission configuration (YAML; default: built-in defaults)")
    serve.add_argument(
        "--check-config",
        metavar="FILE",
        help="validate FILE, print OK or every problem, and exit (0: valid, 2: not)",
    )
    serve.add_argument("--cert", metavar="FILE", help="serving certificate (PEM; with its chain)")
    serve.add_argument("--key", metavar="FILE", help="private key of the certificate (PEM)")
    serve.add_argument(
        "--address", default="127.0.0.1", metavar="HOST", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="PORT", help="(default: %(default)s)")
    cluster = serve.add_argument_group("namespaces (Pod Security reads their labels)")
    cluster.add_argument("--cluster", action="store_true", help="the cluster of the current kubeconfig context")
    cluster.add_argument("--context", metavar="NAME", help="the cluster of this kubeconfig context")
    cluster.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    serve.add_argument("--quiet", action="store_true", help="only warnings and errors in the log")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return int(text)


def run_admission(args: argparse.Namespace) -> int:
    return _RUNNERS[args.admission_command](args)


def _problems(error: Exception) -> int:
    """Every problem of a configuration on a line of its own; exit 2."""
    from stockade.model.text import visible

    for problem in getattr(error, "problems", None) or [str(error)]:
        sys.stderr.write(f"stockade: error: {visible(problem)}\n")
    return EXIT_USAGE


def _check_config(path: str) -> int:
    from stockade.admission.config import load_admission_config
    from stockade.errors import StockadeError
    from stockade.model.text import visible

    try:
        config = load_admission_config(path)
    except StockadeError as error:
        return _problems(error)
    sys.stdout.write(f"OK: {visible(path)}: {config.summary()}\n")
    if config.not_at_admission:
        sys.stdout.write(f"not judged at admission (they read other objects): {', '.join(config.not_at_admission)}\n")
    return EXIT_CLEAN


def _serve(args: argparse.Namespace) -> int:
    if args.check_config is not None:
        return _check_config(args.check_config)
    from stockade.admission.logs import JsonFormatter

    if not args.cert or not args.key:
        fatal("--cert and --key are required to serve (or give --check-config FILE)")
    for option, value in (("--context", args.context), ("--kubeconfig", args.kubeconfig), ("--config", args.config)):
        if value is not None and not value.strip():
            fatal(f"{option} is empty")
    with _json_log(JsonFormatter(), logging.WARNING if args.quiet else logging.INFO):
        return _run_service(args)


def _run_service(args: argparse.Namespace) -> int:
    from stockade.admission.config import AdmissionConfigError
    from stockade.admission.service import AdmissionService, AdmissionServiceOptions
    from stockade.cli.inputs import usage_errors

    options = AdmissionServiceOptions(
        cert_file=args.cert,
        key_file=args.key,
        config=args.config,
        address=args.address,
        port=args.port,
        cluster=args.cluster,
        context=args.context,
        kubeconfig=args.kubeconfig,
    )
    with usage_errors():
        try:
            service = AdmissionService.open(options)
        except AdmissionConfigError as error:
            return _problems(error)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    for caught in (signal.SIGTERM, signal.SIGINT):
        signal.signal(caught, on_signal)
    try:
        service.run(stop)
    finally:
        service.close()
    return EXIT_CLEAN


@contextlib.contextmanager
def _json_log(formatter: logging.Formatter, level: int) -> Iterator[None]:
    """Stockade's log as JSON lines on stderr while the command runs (then as it was)."""
    logger = logging.getLogger("stockade")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


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
        check_config(text, base=Path(path).parent)
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


# -- dry-run ----------------------------------------------------------------------------------------


def _add_dry_run(commands: argparse._SubParsersAction[Any]) -> None:
    from stockade.cli.inputs import add_source_options

    assessed = commands.add_parser(
        "dry-run",
        help="what the webhook would deny, warn on or audit among the objects that exist today",
        description="Send every object read (files, a live cluster, snapshots) through the webhook's own decision as "
        "a CREATE, with the configured modes, exceptions and Pod Security settings, and report by namespace and "
        "rule what would be denied, warned on, audited or only logged: the report to read before switching a "
        "mode from dry-run to enforce. Exit 1 when something would be denied.",
    )
    assessed.add_argument("--config", metavar="FILE", help="admission configuration (default: built-in defaults)")
    assessed.add_argument("--format", choices=("table", "json"), default="table", help="(default: %(default)s)")
    assessed.add_argument(
        "--each", type=_whole, default=5, metavar="N", help="objects listed per namespace and rule in the table"
    )
    add_source_options(assessed)


def _run_dry_run(args: argparse.Namespace) -> int:
    import orjson

    from stockade.admission.assess import assess
    from stockade.admission.config import AdmissionConfig, load_admission_config
    from stockade.cli.errors import EXIT_FINDINGS, EXIT_UNREADABLE
    from stockade.cli.inputs import read_inputs
    from stockade.errors import StockadeError
    from stockade.report.problems import render_notices, render_problems

    try:
        config = load_admission_config(args.config) if args.config else AdmissionConfig.default()
    except StockadeError as error:
        return _problems(error)
    read = read_inputs(args)
    assert read.inventory is not None
    assessment = assess(read.inventory, config)
    sys.stderr.write(render_problems(read.errors, read.skipped_inputs) + render_notices(read.notices))
    if args.format == "json":
        sys.stdout.write(orjson.dumps(assessment.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(_assessment_table(assessment, args.each))
    if read.gate("none") == EXIT_UNREADABLE:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if assessment.counts()["denied"] else EXIT_CLEAN


def _assessment_table(assessment: Assessment, each: int) -> str:
    from stockade.model.text import visible

    lines: list[str] = []
    for effect in assessment.effects():
        where = effect.namespace or "(cluster-scoped)"
        lines.append(f"{visible(where)}  {effect.rule}  {effect.result}: {len(effect.objects)} object(s)")
        for name, message in effect.objects[:each]:
            lines.append(f"    {visible(name)}: {visible(message)}")
        if len(effect.objects) > each:
            lines.append(f"    ... and {len(effect.objects) - each} more")
    counts = assessment.counts()
    lines.append(
        f"{len(assessment.objects)} object(s): {counts['denied']} would be denied, {counts['warned']} warned,"
        f" {counts['audited']} audited, {counts['dry-run']} only logged (dry-run), {counts['allowed']} allowed"
    )
    if assessment.unlabelled_namespaces:
        names = ", ".join(visible(n) for n in assessment.unlabelled_namespaces)
        lines.append(f"namespaces not among the inputs, taken as unlabelled (Pod Security defaults apply): {names}")
    if assessment.skipped:
        never = ", ".join(f"{count} {kind}" for kind, count in assessment.skipped.items())
        lines.append(f"not sent to the webhook: {never}")
    return "\n".join(lines) + "\n"


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[Any]], None]] = [_add_serve, _add_manifests, _add_dry_run]
_RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve,
    "manifests": _run_manifests,
    "dry-run": _run_dry_run,
}
