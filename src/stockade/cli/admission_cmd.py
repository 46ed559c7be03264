"""``stockade admission serve``: the admission webhook (:mod:`stockade.admission`).

The subcommands hang off one subparser (:func:`add_admission_parser`); a new one adds its parser
in ``_SUBCOMMANDS`` and its runner in ``_RUNNERS``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_USAGE, fatal


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


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[Any]], None]] = [_add_serve]


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


_RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {"serve": _serve}
