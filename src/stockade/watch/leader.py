"""Leader election through a coordination.k8s.io/v1 Lease, so that of several watcher replicas
exactly one writes (the others stay warm and take over when it goes).

The algorithm is the one client-go's leaderelection package uses:

- a candidate reads the Lease; it acquires it when the Lease is absent, when it holds it already,
  or when the holder has not renewed it for ``lease_duration`` — judged by the candidate's own
  clock since it last saw the record change, never by comparing clocks of two machines;
- writes go through the Lease's resourceVersion (optimistic concurrency): of two candidates
  writing the same version, the API server lets one through and answers the other 409;
- the leader renews every ``retry_period`` and stops leading as soon as ``renew_deadline`` has
  passed without a successful renew (before any other candidate can take over, since
  ``renew_deadline`` < ``lease_duration``);
- a leader that stops cleanly releases the Lease (empty holder, 1 s duration), so another replica
  takes over at once instead of after ``lease_duration``.

:attr:`LeaderElector.is_leader` is what the watcher checks before each write (fencing).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

log = logging.getLogger("stockade.watch")


def default_identity() -> str:
    """The pod's name in a cluster (POD_NAME from the downward API), else the host name; with a
    random suffix, so two processes on one host are two candidates."""
    base = os.environ.get("POD_NAME") or socket.gethostname() or "stockade"
    return f"{base}_{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class LeaseConfig:
    name: str = "stockade-watch"
    namespace: str = "stockade"
    identity: str = field(default_factory=default_identity)
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError("leader election needs 0 < retry_period < renew_deadline < lease_duration")


@dataclass(slots=True)
class _Observed:
    holder: str
    renew_time: str
    resource_version: str
    at: float  # our clock when the record was last seen to change


class LeaderElector:
    """Campaigns for the Lease of ``config`` until stopped (see the module docstring)."""

    def __init__(
        self,
        api_client: Any,
        config: LeaseConfig,
        *,
        on_started_leading: Callable[[], None] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.api = k8s_client.CoordinationV1Api(api_client)
        self.config = config
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.clock = clock
        self.wall = wall
        self.transitions_seen = 0
        self.problem: str | None = None  # why the last attempt failed, when it did
        self._observed: _Observed | None = None
        self._last_renew: float | None = None  # our clock at the last successful acquire or renew
        self._leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def is_leader(self) -> bool:
        """True only while the Lease is ours and renewed within the renew deadline."""
        renewed = self._last_renew
        return self._leading and renewed is not None and self.clock() - renewed < self.config.renew_deadline

    # -- running ---------------------------------------------------------------------------
    def start(self) -> LeaderElector:
        self._thread = threading.Thread(target=self.run, args=(self._stop,), name="stockade-leader", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self) -> None:
        self.stop()

    def wait_for_leadership(self, timeout: float) -> bool:
        deadline = self.clock() + timeout
        while not self.is_leader:
            if self.clock() >= deadline or self._stop.is_set():
                return False
            time.sleep(min(0.05, self.config.retry_period))
        return True

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                renewed = self.try_acquire_or_renew()
                self._update(renewed)
                wait = self.config.retry_period * (1.0 if self._leading else random.uniform(1.0, 1.2))  # noqa: S311
                stop.wait(wait)
        finally:
            if self._leading:
                self._release()
                self._set_leading(False)

    # -- one round -------------------------------------------------------------------------
    def try_acquire_or_renew(self) -> bool:
        """One attempt; True when we hold the Lease afterwards."""
        try:
            renewed = self._attempt()
        except ApiException as error:
            self._failed(self._explain(error))
            return False
        except (urllib3.exceptions.HTTPError, OSError) as error:
            self._failed(f"cannot reach the API server for the leader Lease: {error}")
            return False
        if renewed:
            self._last_renew = self.clock()
            if self.problem is not None:
                log.info("leader Lease %s/%s: working again", self.config.namespace, self.config.name)
            self.problem = None
        return renewed

    def _attempt(self) -> bool:
        config, now = self.config, self.wall()
        try:
            lease = self.api.read_namespaced_lease(config.name, config.namespace)
        except ApiException as error:
            if error.status != 404:
                raise
            return self._create(now)
        spec = lease.spec or k8s_client.V1LeaseSpec()
        holder = spec.holder_identity or ""
        version = lease.metadata.resource_version if lease.metadata is not None else None
        record = (holder, str(spec.renew_time or ""), str(version or ""))
        observed = self._observed
        if observed is None or (observed.holder, observed.renew_time, observed.resource_version) != record:
            self._observed = observed = _Observed(*record, at=self.clock())
        duration = float(spec.lease_duration_seconds or config.lease_duration)
        if holder and holder != config.identity and self.clock() < observed.at + duration:
            return False  # held by another candidate that is still renewing
        if holder != config.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = config.identity
        spec.lease_duration_seconds = int(config.lease_duration)
        spec.renew_time = now
        lease.spec = spec
        try:
            stored = self.api.replace_namespaced_lease(config.name, config.namespace, lease)
        except ApiException as error:
            if error.status == 409:  # another candidate wrote first: this round is theirs
                return False
            raise
        self.transitions_seen = (stored.spec.lease_transitions if stored.spec is not None else None) or 0
        return True

    def _create(self, now: dt.datetime) -> bool:
        config = self.config
        body = k8s_client.V1Lease(
            metadata=k8s_client.V1ObjectMeta(name=config.name, namespace=config.namespace),
            spec=k8s_client.V1LeaseSpec(
                holder_identity=config.identity,
                lease_duration_seconds=int(config.lease_duration),
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            self.api.create_namespaced_lease(config.namespace, body)
        except ApiException as error:
            if error.status == 409:  # created by another candidate meanwhile
                return False
            raise
        return True

    def _release(self) -> None:
        """Give the Lease up (clean stop), so another replica takes over at once."""
        try:
            lease = self.api.read_namespaced_lease(self.config.name, self.config.namespace)
            if lease.spec is None or lease.spec.holder_identity != self.config.identity:
                return
            lease.spec.holder_identity = ""
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time = self.wall()
            self.api.replace_namespaced_lease(self.config.name, self.config.namespace, lease)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            log.warning("could not release the leader Lease (another replica takes over when it expires): %s", error)

    # -- state -----------------------------------------------------------------------------
    def _update(self, renewed: bool) -> None:
        if renewed and not self._leading:
            self._set_leading(True)
        elif self._leading and not self.is_leader:
            self._set_leading(False)

    def _set_leading(self, leading: bool) -> None:
        self._leading = leading
        where = f"{self.config.namespace}/{self.config.name}"
        if leading:
            log.info("%s is now the leader (Lease %s): it writes", self.identity, where)
            if self.on_started_leading is not None:
                self.on_started_leading()
        else:
            log.warning("%s is no longer the leader (Lease %s): it stops writing", self.identity, where)
            if self.on_stopped_leading is not None:
                self.on_stopped_leading()

    def _failed(self, message: str) -> None:
        if message != self.problem:
            log.warning("%s", message)
        self.problem = message

    def _explain(self, error: ApiException) -> str:
        where = f'Lease {self.config.name} in namespace "{self.config.namespace}"'
        if error.status == 403:
            return (
                f"cannot use the leader {where} (missing RBAC: get, create and update on leases in API group"
                ' "coordination.k8s.io")'
            )
        if error.status == 404:
            return f"cannot create the leader {where}: the namespace does not exist"
        return f"cannot use the leader {where}: HTTP {error.status}: {error.reason}"
