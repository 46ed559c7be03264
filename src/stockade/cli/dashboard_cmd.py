"""``stockade dashboard``: serve the posture dashboard over a history store.

    stockade dashboard --store postgresql://stockade@db/stockade      # http://127.0.0.1:8600/
    STOCKADE_DASHBOARD_TOKEN=… stockade dashboard --host 0.0.0.0 --allow-host kspm.example.com
    stockade dashboard --user-header X-Forwarded-Email                # behind an OIDC proxy

Read-only. Binds to loopback unless ``--host`` says otherwise, and then refuses to start without
a token or a proxy header unless ``--insecure-no-auth`` is given. Runs until interrupted.
Exit codes: 0 stopped, 2 usage error (bad store URL, unreadable token file, port in use).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, fatal
from stockade.cli.history_cmd import add_store_url_option, open_store

TOKEN_ENV = "STOCKADE_DASHBOARD_TOKEN"  # noqa: S105 (the variable's name)
DEFAULT_PORT = 8600


def add_dashboard_parser(sub: Any) -> None:
    dashboard = sub.add_parser(
        "dashboard",
        help="serve the posture dashboard (read-only) over a history store",
        description="A web view of the history store: the posture overview and trend, findings with filters and "
        "lifecycles, the RBAC explorer, attack paths and exceptions, for every cluster the store holds. Binds to "
        f"127.0.0.1:{DEFAULT_PORT} by default. Runs until interrupted.",
    )
    add_store_url_option(dashboard)
    dashboard.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0: any)")
    dashboard.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"require this file's token (Authorization: Bearer, or sign in); also ${TOKEN_ENV}",
    )
    dashboard.add_argument(
        "--user-header",
        metavar="NAME",
        help="require this header, set by an authenticating proxy (e.g. X-Forwarded-Email); the proxy must"
        " strip it from clients' requests",
    )
    dashboard.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host header to accept besides loopback names and --host (repeatable; DNS-rebinding guard)",
    )
    dashboard.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM; with --tls-key)")
    dashboard.add_argument("--tls-key", metavar="FILE", help="the certificate's private key (PEM)")
    dashboard.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve a non-loopback address without a token or proxy header",
    )


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            fatal(f"cannot read the token file {args.token_file}: {error}")
        if not token:
            fatal(f"the token file {args.token_file} is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


def run_dashboard(args: argparse.Namespace) -> int:
    from stockade.dashboard.app import DashboardSettings
    from stockade.dashboard.security import Access
    from stockade.dashboard.server import DashboardServer, Tls, is_loopback

    if not 0 <= args.port <= 65535:
        fatal(f"--port {args.port} is not a port")
    if args.user_header is not None and not args.user_header.replace("-", "").isalnum():
        fatal(f"--user-header {args.user_header!r} is not a header name")
    access = Access(token=_token(args), user_header=args.user_header)
    if access.open and not is_loopback(args.host) and not args.insecure_no_auth:
        fatal(
            f"--host {args.host} serves beyond this machine: give --token-file (or ${TOKEN_ENV}) or --user-header,"
            " or --insecure-no-auth"
        )
    if bool(args.tls_cert) != bool(args.tls_key):
        fatal("--tls-cert and --tls-key go together")
    tls = Tls(Path(args.tls_cert), Path(args.tls_key)) if args.tls_cert else None
    hosts = ("127.0.0.1", "localhost", "[::1]", "::1", args.host, *args.allow_host)
    store = open_store(args)
    settings = DashboardSettings(access, tuple(dict.fromkeys(hosts)))
    try:
        server = DashboardServer(store, settings, host=args.host, port=args.port, tls=tls)
    except ValueError as error:
        store.close()
        fatal(str(error))
    try:
        with server:
            threading.Thread(target=server.warm, name="stockade-dashboard-warm", daemon=True).start()
            sys.stderr.write(f"stockade: dashboard on {server.url}/ (read-only; Ctrl-C stops)\n")
            sys.stderr.flush()
            threading.Event().wait()
    except OSError as error:
        fatal(f"cannot serve on {args.host}:{args.port}: {error}")
    finally:
        store.close()
    return EXIT_CLEAN
