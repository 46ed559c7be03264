"""The HTTP side of the fake API server: discovery, get, list with paging, watch, faults."""

from __future__ import annotations

import contextlib
import hmac
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from stockade.errors import SelectorError
from stockade.testing._catalog import ResourceType
from stockade.testing._protocol import ResourcePath, make_selector, parse_resource_path, status
from stockade.testing._state import Fault, RequestRecord, ServerState
from stockade.testing._store import Event, Gone, Obj
from stockade.testing._writes import MAX_BODY, WriteRequest

_TRUE = ("1", "true")
_STALE_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


class _Dropped(Exception):
    """The fault asked for the connection to be cut."""


class ApiHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP(S) server; the TLS handshake runs in each connection's own thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, state: ServerState, ssl_context: ssl.SSLContext | None) -> None:
        self.state = state
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ApiHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn: socket.socket = request
        if self.ssl_context is not None:
            try:
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
        with self._connections_lock:
            self._connections.add(conn)
        try:
            ApiHandler(conn, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(conn)
            if conn is not request:
                conn.close()

    def cut_connections(self) -> None:
        """Shut every open connection (ends keep-alive waits and open watches)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client going away (mid-answer, or between keep-alive requests) is normal; anything else
        # is a bug worth surfacing to tests.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        self.state.errors.append(traceback.format_exc())


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stockade-fake-apiserver"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 120
    server: ApiHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeApiServer.requests`` instead."""

    # -- entry points ----------------------------------------------------------------------
    def do_GET(self) -> None:
        self._exchange("GET")

    def _write_request(self) -> None:
        """POST, PUT, PATCH, DELETE: the body is read here (at most MAX_BODY bytes), then answered."""
        length = self.headers.get("Content-Length") or "0"
        self._body: bytes | None = None
        if length.isdigit() and int(length) <= MAX_BODY:
            self._body = self.rfile.read(int(length))
        elif length.isdigit() and int(length) <= 16 * MAX_BODY:
            left = int(length)  # read and drop it, so the client hears the 413 instead of a reset
            while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
                left -= len(chunk)
        else:
            self.close_connection = True  # the rest of an oversized body is never read
        self._exchange(self.command)

    do_POST = do_PUT = do_PATCH = do_DELETE = _write_request

    def _exchange(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        self._code = 0
        self._logged = False
        self._drip = 0.0
        self._stuck = False
        self._record = (method, url.path, url.query)
        self._arrival = state.enter()
        try:
            if method == "GET":
                self._serve(state, url.path.rstrip("/") or "/", url.query)
            else:
                self._serve_write(state, method, url.path.rstrip("/") or "/")
        except _Dropped:
            self._code = 0
            self._log_request()
            self._cut()
        except OSError:  # the client went away (or the server is stopping) mid-answer
            self.close_connection = True
        finally:
            self._log_request()

    def _log_request(self) -> None:
        """Log the request once, before its last byte goes out, so a client never sees it missing."""
        if not self._logged:
            self._logged = True
            self.server.state.leave(self._arrival, RequestRecord(*self._record, self._code))

    def _not_allowed(self) -> None:
        self._json(405, status(405, "the server does not allow this method on the requested resource"))

    # -- the request -----------------------------------------------------------------------
    def _serve(self, state: ServerState, path: str, query: str) -> None:
        faults = state.active_faults(path, query)
        self._drip = max((f.drip for f in faults), default=0.0)
        self._stuck = any(f.stuck_continue for f in faults)
        drop_mid = False
        for fault in faults:
            if fault.compact:
                state.store.compact()
        for fault in faults:
            if fault.delay:
                time.sleep(fault.delay)
        for fault in faults:
            if fault.drop == "before":
                raise _Dropped
            drop_mid = drop_mid or fault.drop == "mid"
        for fault in faults:
            if fault.status is not None:
                self._fault_status(fault, drop_mid)
                return
        if state.token is not None and not self._authorized(state.token):
            self._json(401, status(401, "Unauthorized"), drop_mid)
            return
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if path in ("/healthz", "/livez", "/readyz"):
            self._send(200, b"ok", "text/plain", drop_mid)
        elif path == "/version":
            self._json(200, self._version(state), drop_mid)
        elif path == "/api":
            self._json(200, self._api_versions(), drop_mid)
        elif path == "/apis":
            self._json(200, self._group_list(state), drop_mid)
        elif (target := self._discovery_target(path)) is not None:
            self._json(*self._discovery(state, *target), drop_mid)
        else:
            self._resource(state, path, params, drop_mid)

    def _authorized(self, token: str) -> bool:
        scheme, _, presented = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token)

    def _fault_status(self, fault: Fault, drop_mid: bool) -> None:
        code = fault.status or 500
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        message = {
            429: "Too many requests, please try again later.",
            503: "the server is currently unable to handle the request",
        }.get(code, "Internal error occurred: injected fault")
        self._json(code, status(code, message), drop_mid, headers)

    # -- writes ----------------------------------------------------------------------------
    def _serve_write(self, state: ServerState, method: str, path: str) -> None:
        faults = state.active_faults(path, "")
        for fault in faults:
            if fault.delay:
                time.sleep(fault.delay)
        for fault in faults:
            if fault.drop is not None:
                raise _Dropped
            if fault.status is not None:
                self._fault_status(fault, False)
                return
        if state.token is not None and not self._authorized(state.token):
            self._json(401, status(401, "Unauthorized"))
            return
        if self._body is None:
            self._json(413, status(413, f"the request body is over {MAX_BODY} bytes", "RequestEntityTooLarge"))
            return
        target = parse_resource_path(path)
        catalog = state.store.catalog()
        resource = catalog.lookup(target.group, target.version, target.resource) if target else None
        if target is None or resource is None or resource.is_subresource or target.subresource is not None:
            self._json(404, status(404, "the server could not find the requested resource"))
            return
        if (target.namespace is not None) != resource.namespaced:  # writes name the object's namespace
            self._json(404, status(404, "the server could not find the requested resource"))
            return
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        if (method == "POST") == (target.name is not None):
            self._not_allowed()
            return
        key = (resource.name, resource.group)
        if key in state.forbidden or key in state.read_only or not self._within(state, resource, target):
            self._json(403, self._forbidden(state, resource, target, verb))
            return
        writes = WriteRequest(state.store, resource, target, self._body, self.headers.get("Content-Type") or "")
        code, body = writes.answer(method)
        self._json(code, body)

    # -- discovery -------------------------------------------------------------------------
    @staticmethod
    def _version(state: ServerState) -> dict[str, Any]:
        major, _, rest = state.server_version.lstrip("v").partition(".")
        minor = rest.partition(".")[0]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": state.server_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2024-01-01T00:00:00Z",
            "goVersion": "go1.22.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _api_versions(self) -> dict[str, Any]:
        port = self.server.server_port
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}],
        }

    @staticmethod
    def _group(state: ServerState, group: str) -> dict[str, Any]:
        versions = state.store.catalog().versions(group)
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def _group_list(self, state: ServerState) -> dict[str, Any]:
        groups = sorted(g for g in state.store.catalog().groups if g)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group(state, g) for g in groups]}

    @staticmethod
    def _discovery_target(path: str) -> tuple[str, str | None] | None:
        parts = [p for p in path.split("/") if p]
        if parts == ["api", "v1"]:
            return "", "v1"
        if len(parts) == 2 and parts[0] == "apis":
            return parts[1], None
        if len(parts) == 3 and parts[0] == "apis":
            return parts[1], parts[2]
        return None

    def _discovery(self, state: ServerState, group: str, version: str | None) -> tuple[int, dict[str, Any]]:
        catalog = state.store.catalog()
        if group not in catalog.groups or (version is not None and version not in catalog.groups[group]):
            return 404, status(404, "the server could not find the requested resource")
        if version is None:
            return 200, {"kind": "APIGroup", "apiVersion": "v1", **self._group(state, group)}
        body: dict[str, Any] = {
            "kind": "APIResourceList",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [r.discovery() for r in catalog.resources(group, version)],
        }
        if group:
            body["apiVersion"] = "v1"
        return 200, body

    # -- resources -------------------------------------------------------------------------
    def _resource(self, state: ServerState, path: str, params: dict[str, str], drop_mid: bool) -> None:
        target = parse_resource_path(path)
        catalog = state.store.catalog()
        resource = catalog.lookup(target.group, target.version, target.resource) if target else None
        if target is None or resource is None or resource.is_subresource:
            self._json(404, status(404, "the server could not find the requested resource"), drop_mid)
            return
        if target.namespace is not None and not resource.namespaced:
            self._json(404, status(404, "the server could not find the requested resource"), drop_mid)
            return
        if target.subresource is not None:
            known = catalog.lookup(target.group, target.version, f"{target.resource}/{target.subresource}")
            code = 405 if known else 404
            self._json(code, status(code, "the fake API server serves no subresources"), drop_mid)
            return
        watching = params.get("watch", "").lower() in _TRUE
        verb = "get" if target.name is not None else "watch" if watching else "list"
        if verb not in resource.verbs:
            self._not_allowed()
            return
        if (resource.name, resource.group) in state.forbidden or not self._within(state, resource, target):
            self._json(403, self._forbidden(state, resource, target, verb), drop_mid)
            return
        try:
            selector = make_selector(params.get("labelSelector", ""), params.get("fieldSelector", ""))
        except SelectorError as exc:
            self._json(400, status(400, f"unable to parse requested selector: {exc}"), drop_mid)
            return
        if target.name is not None:
            self._get(state, resource, target, drop_mid)
        elif watching:
            self._watch(state, resource, target, params, selector, drop_mid)
        else:
            self._list(state, resource, target, params, selector, drop_mid)

    @staticmethod
    def _within(state: ServerState, resource: ResourceType, target: ResourcePath) -> bool:
        """Whether a namespace-confined user may read this (always, when not confined)."""
        confined = state.confined
        if confined is None:
            return True
        if resource.namespaced:
            return target.namespace in confined
        return resource.group == "" and resource.name == "namespaces" and target.name in confined

    @staticmethod
    def _forbidden(state: ServerState, resource: ResourceType, target: ResourcePath, verb: str) -> dict[str, Any]:
        qualified = f"{resource.name}.{resource.group}" if resource.group else resource.name
        subject = f'{qualified} "{target.name}"' if target.name else qualified
        scope = f'in the namespace "{target.namespace}"' if target.namespace else "at the cluster scope"
        message = (
            f'{subject} is forbidden: User "{state.user}" cannot {verb} resource "{resource.name}" '
            f'in API group "{resource.group}" {scope}'
        )
        details: dict[str, Any] = {"group": resource.group, "kind": resource.name}
        if target.name:
            details["name"] = target.name
        return status(403, message, details=details)

    @staticmethod
    def _served(obj: Obj, group: str, version: str, typed: bool) -> Obj:
        """The object as served at ``group/version``; list items of built-in kinds carry no type."""
        api_version = f"{group}/{version}" if group else version
        if typed:
            return {**obj, "apiVersion": api_version}
        return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}

    def _get(self, state: ServerState, resource: ResourceType, target: ResourcePath, drop_mid: bool) -> None:
        obj = state.store.get(resource.group, resource.kind, target.namespace or "", target.name or "")
        if obj is None:
            details = {"name": target.name, "group": resource.group, "kind": resource.name}
            qualified = f"{resource.name}.{resource.group}" if resource.group else resource.name
            message = f'{qualified} "{target.name}" not found'
            self._json(404, status(404, message, details=details), drop_mid)
            return
        self._json(200, self._served(obj, resource.group, target.version, True), drop_mid)

    def _list(
        self,
        state: ServerState,
        resource: ResourceType,
        target: ResourcePath,
        params: dict[str, str],
        selector: Any,
        drop_mid: bool,
    ) -> None:
        try:
            limit = max(0, int(params.get("limit") or 0))
        except ValueError:
            self._json(400, status(400, f"invalid limit {params['limit']!r}"), drop_mid)
            return
        try:
            page = state.store.list_page(
                resource.group,
                resource.kind,
                target.namespace,
                selector,
                limit,
                None if self._stuck else params.get("continue") or None,
            )
        except Gone:
            self._json(410, status(410, _STALE_CONTINUE), drop_mid)
            return
        # Custom resources are unstructured: their list items keep apiVersion and kind.
        typed_items = not resource.builtin
        metadata: dict[str, Any] = {"resourceVersion": str(page.resource_version)}
        if self._stuck:
            metadata["continue"] = "stuck"  # the same token, whatever was asked
        elif page.token:
            metadata["continue"] = page.token
            metadata["remainingItemCount"] = page.remaining
        body = {
            "kind": f"{resource.kind}List",
            "apiVersion": f"{resource.group}/{target.version}" if resource.group else target.version,
            "metadata": metadata,
            "items": [self._served(o, resource.group, target.version, typed_items) for o in page.items],
        }
        self._json(200, body, drop_mid)

    def _watch(
        self,
        state: ServerState,
        resource: ResourceType,
        target: ResourcePath,
        params: dict[str, str],
        selector: Any,
        drop_mid: bool,
    ) -> None:
        store = state.store
        since_text = params.get("resourceVersion", "")
        bookmarks = params.get("allowWatchBookmarks", "").lower() in _TRUE
        initial_end = params.get("sendInitialEvents", "").lower() in _TRUE and bookmarks
        try:
            timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else state.watch_timeout
            since = int(since_text) if since_text not in ("", "0") else None
        except ValueError:
            self._json(400, status(400, "invalid resourceVersion or timeoutSeconds"), drop_mid)
            return
        deadline = time.monotonic() + timeout
        self._start_chunked()
        gv = f"{resource.group}/{target.version}" if resource.group else target.version

        def bookmark(rv: int, annotations: dict[str, str] | None = None) -> None:
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if annotations:
                meta["annotations"] = annotations
            self._event("BOOKMARK", {"kind": resource.kind, "apiVersion": gv, "metadata": meta})

        def send(events: list[Event]) -> None:
            for event in events:
                self._event(event.type, self._served(event.obj, resource.group, target.version, True))
                if drop_mid:
                    raise _Dropped

        try:
            events, cursor = store.start_watch(resource.group, resource.kind, target.namespace, since, selector)
            send(events)
            if initial_end:
                bookmark(cursor, {"k8s.io/initial-events-end": "true"})
            last_bookmark = time.monotonic()
            while not store.closed and (now := time.monotonic()) < deadline:
                events, cursor = store.events_after(cursor, resource.group, resource.kind, target.namespace, selector)
                send(events)
                if bookmarks and now - last_bookmark >= state.bookmark_interval:
                    bookmark(cursor)
                    last_bookmark = now
                pause = min(deadline - now, 0.5)
                if bookmarks:
                    pause = min(pause, max(0.0, last_bookmark + state.bookmark_interval - now))
                store.wait(cursor, pause)
        except Gone as exc:
            self._event("ERROR", status(410, str(exc)))
        if drop_mid:
            raise _Dropped
        self._log_request()
        self._write_chunk(b"")

    # -- writing ---------------------------------------------------------------------------
    def _json(
        self,
        code: int,
        body: Any,
        drop_mid: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send(code, orjson.dumps(body), "application/json", drop_mid, headers)

    def _send(
        self,
        code: int,
        payload: bytes,
        content_type: str,
        drop_mid: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._code = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if drop_mid:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            raise _Dropped
        self._log_request()
        if self._drip:
            for index in range(len(payload)):
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
                time.sleep(self._drip)
            return
        self.wfile.write(payload)

    def _start_chunked(self) -> None:
        self._code = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _event(self, kind: str, obj: Any) -> None:
        self._write_chunk(orjson.dumps({"type": kind, "object": obj}) + b"\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
