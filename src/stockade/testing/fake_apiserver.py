"""FakeApiServer: an in-process Kubernetes API server for tests (see :mod:`stockade.testing`)."""

from __future__ import annotations

import base64
import shutil
import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from stockade.testing._handler import ApiHTTPServer
from stockade.testing._state import Drop, Fault, RequestRecord, ServerState, parse_resource_names
from stockade.testing._store import Store
from stockade.testing._tls import make_server_certificate, write_private

DEFAULT_CONTEXT = "stockade-fake"


class FakeApiServer:
    """Serves raw Kubernetes objects over the real API protocol on 127.0.0.1: discovery, get, list,
    watch, and writes (POST, PUT, PATCH with merge or JSON patch, DELETE) with resourceVersion
    preconditions answered 409 when stale.

    ``objects`` are the initial objects (their watch history starts compacted). ``tls`` serves
    HTTPS with a throwaway CA (see :attr:`ca_pem`). ``token``, when set, is the bearer token every
    request must carry. ``forbidden`` lists resources the user may not use at all (403 to every
    verb), written ``plural`` for the core group or ``plural.group`` (``secrets``,
    ``deployments.apps``); ``read_only`` lists resources the user may read but not create, update,
    patch or delete.
    ``history`` is how many change events watches can replay (at least that many are kept).
    """

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]] = (),
        *,
        tls: bool = False,
        token: str | None = None,
        user: str = "stockade-test",
        forbidden: Iterable[str] = (),
        read_only: Iterable[str] = (),
        history: int = 1000,
        bookmark_interval: float = 1.0,
        watch_timeout: float = 300.0,
        server_version: str = "v1.31.4",
    ) -> None:
        store = Store(history)
        store.load(objects)
        self._state = ServerState(
            store=store,
            user=user,
            token=token,
            server_version=server_version,
            bookmark_interval=bookmark_interval,
            watch_timeout=watch_timeout,
            forbidden=parse_resource_names(forbidden),
            read_only=parse_resource_names(read_only),
        )
        self._tls = tls
        self._dir: Path | None = None
        self._ca_pem: bytes | None = None
        self._httpd: ApiHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeApiServer:
        if self._httpd is not None:
            return self
        self._state.store.closed = False
        context: ssl.SSLContext | None = None
        if self._tls:
            self._dir = Path(tempfile.mkdtemp(prefix="stockade-fake-apiserver-"))
            cert = make_server_certificate(self._dir)
            self._ca_pem = cert.ca_pem
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(cert.cert_file, cert.key_file)
        self._httpd = ApiHTTPServer(self._state, context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-apiserver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open watches and connections, remove the certificate files."""
        self._state.store.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.cut_connections()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- where it listens ------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:<port>``."""
        if self._httpd is None:
            raise RuntimeError("the fake API server is not started")
        host, port = self._httpd.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host!s}:{port}"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake API server is not started")
        return int(self._httpd.server_address[1])

    @property
    def ca_pem(self) -> bytes | None:
        """PEM of the CA that signed the serving certificate (None over plain HTTP)."""
        return self._ca_pem

    def kubeconfig(
        self,
        path: str | Path,
        *,
        context: str = DEFAULT_CONTEXT,
        namespace: str | None = None,
        current: bool = True,
        token: str | None = None,
    ) -> Path:
        """Write (or merge into) a kubeconfig file, mode 0600, whose ``context`` points here.

        Entries of other contexts already in the file are kept, so two servers can share one
        file. ``current`` makes ``context`` the current context. ``token`` overrides the token
        written (default: the server's own).
        """
        target = Path(path)
        config: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {}}
        if target.exists():
            loaded = yaml.safe_load(target.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                config.update(loaded)
        cluster: dict[str, Any] = {"server": self.url}
        if self._ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self._ca_pem).decode()
        user: dict[str, Any] = {}
        if token or self._state.token:
            user["token"] = token or self._state.token
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        for section, entry in (("clusters", {"name": context, "cluster": cluster}),
                               ("users", {"name": context, "user": user}),
                               ("contexts", {"name": context, "context": ctx})):  # fmt: skip
            kept = [e for e in config.get(section) or [] if isinstance(e, dict) and e.get("name") != context]
            config[section] = [*kept, entry]
        if current or not config.get("current-context"):
            config["current-context"] = context
        target.parent.mkdir(parents=True, exist_ok=True)
        write_private(target, yaml.safe_dump(config, sort_keys=False).encode())
        return target

    # -- objects ---------------------------------------------------------------------------
    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Add a new object (watchers see ADDED); returns it as stored, with its resourceVersion."""
        return self._state.store.put(obj, "create")

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Replace an existing object (watchers see MODIFIED)."""
        return self._state.store.put(obj, "update")

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace."""
        return self._state.store.put(obj, "apply")

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        """Remove an object (watchers see DELETED); returns its last state."""
        return self._state.store.delete(api_version, kind, name, namespace)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """A copy of a stored object (Secrets with their values), or None."""
        return self._state.store.find(api_version, kind, name, namespace)

    def objects(self) -> list[dict[str, Any]]:
        """Copies of every stored object."""
        return self._state.store.all_objects()

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out."""
        return self._state.store.resource_version

    def compact(self) -> None:
        """Forget the watch history: older resourceVersions and every continue token get 410 Gone."""
        self._state.store.compact()

    # -- faults and access -----------------------------------------------------------------
    def inject(
        self,
        path: str = "*",
        *,
        query: str = "",
        times: int = 1,
        status: int | None = None,
        retry_after: int | str | None = None,
        delay: float = 0.0,
        drop: Drop | None = None,
        compact: bool = False,
        drip: float = 0.0,
        stuck_continue: bool = False,
    ) -> Fault:
        """Add a :class:`Fault` for the next ``times`` matching requests; returns it (see ``hits``)."""
        fault = Fault(
            path,
            query=query,
            times=times,
            status=status,
            retry_after=retry_after,
            delay=delay,
            drop=drop,
            compact=compact,
            drip=drip,
            stuck_continue=stuck_continue,
        )
        with self._state.lock:
            self._state.faults.append(fault)
        return fault

    def drop_connections(self) -> None:
        """Cut every open connection now (open watches end as if the network failed)."""
        if self._httpd is not None:
            self._httpd.cut_connections()

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def forbid(self, *resources: str) -> None:
        """Answer 403 to every request for these resources (``secrets``, ``deployments.apps``):
        get, list and watch as well as writes."""
        with self._state.lock:
            self._state.forbidden |= parse_resource_names(resources)

    def allow(self, *resources: str) -> None:
        with self._state.lock:
            self._state.forbidden -= parse_resource_names(resources)
            self._state.read_only -= parse_resource_names(resources)

    def forbid_writes(self, *resources: str) -> None:
        """Answer 403 to create, update, patch and delete of these resources (reads still work)."""
        with self._state.lock:
            self._state.read_only |= parse_resource_names(resources)

    def confine(self, *namespaces: str) -> None:
        """Act as a user whose RBAC covers only ``namespaces`` (RoleBindings there, no ClusterRole):
        cluster-wide lists and cluster-scoped kinds get 403, except getting those Namespace
        objects. ``confine()`` with no namespace forbids everything; see :meth:`unconfine`."""
        with self._state.lock:
            self._state.confined = frozenset(namespaces)

    def unconfine(self) -> None:
        with self._state.lock:
            self._state.confined = None

    # -- what happened ---------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in the order they arrived."""
        return self._state.log()

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was handling at one time."""
        with self._state.lock:
            return self._state.max_in_flight

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the server failed to handle (a bug in the fake if not empty)."""
        return list(self._state.errors)

    def reset_stats(self) -> None:
        with self._state.lock:
            self._state.records.clear()
            self._state.max_in_flight = self._state.in_flight
