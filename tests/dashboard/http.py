"""Plain HTTP against a running dashboard (the standard library's client: no cookies unless given)."""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: str


def call(
    base: str,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    ca: bytes | None = None,
) -> Reply:
    """``ca``: the certificate authority an https ``base`` must be signed by."""
    parts = urllib.parse.urlsplit(base)
    host = parts.hostname or "127.0.0.1"
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cadata=(ca or b"").decode() or None)
        connection = http.client.HTTPSConnection(host, parts.port, timeout=30, context=context)
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=30)
    try:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection.request(method, path, body=body.encode() if body is not None else None, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.headers.get_all("set-cookie") or [],
            text,
        )
    finally:
        connection.close()


def get(base: str, path: str, **params: str) -> Reply:
    query = urllib.parse.urlencode(params)
    return call(base, f"{path}?{query}" if query else path)
