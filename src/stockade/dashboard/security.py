"""The page's own protection: who may read it, what the browser may do with it, and text that
cannot act on a terminal or reorder a line.

* Authentication, when configured: a bearer token (``Authorization: Bearer``, or a session cookie
  set by ``/login``), or a header an authenticating proxy (oauth2-proxy, an OIDC ingress) sets.
* Every response carries a strict Content-Security-Policy (no inline script or style, nothing from
  elsewhere), ``nosniff``, no framing, no referrer, no caching.
* The one form that changes something (``/login``) carries a CSRF token bound to a cookie.
* Every value rendered is shown with its control and bidirectional characters as escapes
  (:func:`stockade.model.text.visible`), so a name cannot act on a terminal or reorder a line.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
SESSION_COOKIE = "stockade_session"
CSRF_COOKIE = "stockade_csrf"
OPEN_PATHS = ("/login", "/static/", "/healthz")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Access:
    """``token``: the shared secret a reader presents; ``user_header``: the header an
    authenticating proxy sets (the request is refused without it). Neither: open, which is safe
    only on loopback (the CLI refuses it elsewhere unless told)."""

    token: str | None = None
    user_header: str | None = None

    @property
    def open(self) -> bool:
        return self.token is None and self.user_header is None

    def session_value(self) -> str:
        """The session cookie's value: derived from the token, so the cookie never holds it."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"stockade-dashboard-session", hashlib.sha256).hexdigest()

    def token_matches(self, presented: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(presented.encode(), self.token.encode())


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, field: str | None) -> bool:
    return bool(cookie) and bool(field) and hmac.compare_digest(str(cookie).encode(), str(field).encode())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (_header(scope, b"cookie") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found.setdefault(name, value)
    return found


def authenticated_user(scope: Scope, access: Access) -> str | None:
    """Who the request comes from ("" when the dashboard is open), or None when it may not read."""
    if access.user_header is not None:
        user = (_header(scope, access.user_header.lower().encode()) or "").strip()
        if not user:
            return None
        if access.token is None:
            return user
    if access.token is not None:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, presented = authorization.partition(" ")
        session = _cookies(scope).get(SESSION_COOKIE, "")
        if scheme.lower() == "bearer" and access.token_matches(presented.strip()):
            return "token"
        if session and hmac.compare_digest(session.encode(), access.session_value().encode()):
            return "token"
        return None
    return ""


def host_of(header: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8600`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: security headers on every response; the Host header must name this
    server (a page whose DNS name was pointed at loopback cannot read it: DNS rebinding); reads
    only (GET/HEAD) but for the login form; authentication before anything but the login page
    and the static files."""

    def __init__(self, app: App, access: Access, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.access = access
        self.allowed_hosts = frozenset(host_of(h) for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: the time the page took here, for the browser's tools and the benchmark.
                took = f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, (b"server-timing", took)]
            await send(message)

        if host_of(_header(scope, b"host") or "") not in self.allowed_hosts:
            await _plain(with_headers, 400, "this server does not answer to that Host header", [])
            return
        path = str(scope.get("path", ""))
        method = str(scope.get("method", "GET"))
        if method not in ("GET", "HEAD") and not (path == "/login" and method == "POST"):
            await _plain(with_headers, 405, "the dashboard is read-only", [(b"allow", b"GET, HEAD")])
            return
        if not path.startswith(OPEN_PATHS):
            user = authenticated_user(scope, self.access)
            if user is None:
                if self.access.token is not None and method in ("GET", "HEAD"):
                    await _plain(with_headers, 303, "sign in", [(b"location", b"/login")])
                else:
                    await _plain(with_headers, 401, "not authenticated", [])
                return
            scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, with_headers)


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
