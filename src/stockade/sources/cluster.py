"""Live clusters: every listable object, read through the official ``kubernetes`` client.

``collect_cluster`` connects the way kubectl does — an explicit kubeconfig file, else
``$KUBECONFIG``, else ``~/.kube/config``, else the pod's service account when running inside a
cluster — and then:

1. reads ``/version`` and discovers every served group at its preferred version (CRDs included);
2. lists every resource that supports ``list`` (subresources and create-only review APIs are
   skipped), cluster-wide, in pages of ``page_size`` with ``continue`` tokens, at most
   ``workers`` requests in flight;
3. retries 429 (after the server's Retry-After), 5xx and broken connections with exponential
   backoff, and restarts a list whose continue token expired (410 Gone);
4. reports every kind it could not list as an :class:`InputProblem` naming the missing RBAC
   permission and carries on — a forbidden kind never reads as "no objects".

Skipped by default, because they churn constantly and hold nothing posture rules read: core and
``events.k8s.io`` Events, ``coordination.k8s.io`` Leases (node heartbeats, leader locks) and the
``metrics.k8s.io`` group (live usage samples). Naming them in ``kinds`` lists them anyway.

Secrets are read for their metadata, type and key names only: every ``data`` / ``stringData``
value is blanked and the ``last-applied-configuration`` annotation (which repeats the values) is
dropped before the object leaves this module (:mod:`stockade.sources.redaction`).
"""

from __future__ import annotations

import datetime
import email.utils
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config import kube_config as k8s_kube_config
from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.incluster_config import InClusterConfigLoader

from stockade.errors import SourceError
from stockade.model.finding import InputProblem, SkippedInput
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.limits import DEFAULT_LIMITS, ParseLimits
from stockade.sources.redaction import redact_secret
from stockade.sources.render import brief_stderr

# The config loaders carry no annotations; keep their untyped surface in one place.
_kubeconfig_api: Any = k8s_config
_kube_config_module: Any = k8s_kube_config
_in_cluster_loader: Any = InClusterConfigLoader
_exec_provider: Any = ExecProvider

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

# (group, plural) pairs and whole groups left out unless selected by name (see the module docstring).
NOISY_RESOURCES: frozenset[tuple[str, str]] = frozenset(
    {("", "events"), ("events.k8s.io", "events"), ("coordination.k8s.io", "leases")}
)
NOISY_GROUPS: frozenset[str] = frozenset({"metrics.k8s.io"})
# Resources served twice: the second name is another view of the first's objects.
_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("events.k8s.io", "events"): ("", "events"),
    ("extensions", "deployments"): ("apps", "deployments"),
    ("extensions", "daemonsets"): ("apps", "daemonsets"),
    ("extensions", "replicasets"): ("apps", "replicasets"),
    ("extensions", "ingresses"): ("networking.k8s.io", "ingresses"),
    ("extensions", "networkpolicies"): ("networking.k8s.io", "networkpolicies"),
    ("extensions", "podsecuritypolicies"): ("policy", "podsecuritypolicies"),
}
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_LIST_RESTARTS = 3
# A whole collection gives up after this long (``--timeout``); one request waits at most
# REQUEST_TIMEOUT for each read, and a credential plugin (``exec`` in the kubeconfig) at most
# PLUGIN_TIMEOUT (cloud plugins that refresh a token take seconds, never a minute).
DEFAULT_TIMEOUT = 300.0
REQUEST_TIMEOUT = 30.0
PLUGIN_TIMEOUT = 60.0
_READ_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    ``attempts`` counts the first try. Waits grow from ``base_delay`` by doubling up to
    ``max_delay`` (with jitter); a Retry-After header is obeyed up to ``max_retry_after``.
    """

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0**attempt)
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True, slots=True)
class ServedResource:
    """One listable resource from discovery, at its group's preferred version."""

    group: str
    version: str
    name: str  # plural
    kind: str
    namespaced: bool
    verbs: frozenset[str]
    singular: str = ""
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_path(self) -> str:
        return f"/apis/{self.group}/{self.version}/{self.name}" if self.group else f"/api/{self.version}/{self.name}"

    def list_path_in(self, namespace: str | None) -> str:
        """The list path, cluster-wide or inside one namespace."""
        if namespace is None:
            return self.list_path
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{base}/namespaces/{namespace}/{self.name}"

    @property
    def display(self) -> str:
        """``deployments.apps`` / ``pods`` — the name kubectl and RBAC use."""
        return f"{self.name}.{self.group}" if self.group else self.name

    def matches(self, token: str) -> bool:
        """Whether a selection token (kind, plural, singular or short name; ``.group`` optional) fits."""
        token = token.strip().lower()
        names = {self.name, self.kind.lower(), self.singular.lower(), *(s.lower() for s in self.short_names)}
        names.discard("")
        if token in names:
            return True
        head, _, group = token.partition(".")
        return bool(group) and head in names and group == self.group.lower()


class ApiError(Exception):
    """The API server answered with a failure ``status`` (0: no usable answer at all).

    ``cause`` tells failures that are not the server's answer apart: ``"deadline"`` (the overall
    time limit passed), ``"limit"`` (a response over the size limit), ``"credentials"`` (the
    credential plugin failed), ``"loop"`` (a list that never ends).
    """

    def __init__(self, status: int, message: str, reason: str = "", attempts: int = 1, cause: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.attempts = attempts
        self.cause = cause


class _Deadline:
    """The overall time limit of one collection, shared by every request of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def error(self) -> ApiError:
        return ApiError(0, f"the cluster was not read within the time limit of {self.seconds:g}s", cause="deadline")


class _Budget:
    """How many response bytes one collection may still read (all pages of all kinds together)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def spend(self, size: int) -> bool:
        with self._lock:
            self._used += size
            return self._used <= self.limit


# -- talking to the API server -------------------------------------------------------------
class _Session:
    """GETs through the official client's ApiClient (auth, TLS, proxies, exec plugins), with retries,
    within one overall deadline and size limits (per response and in total)."""

    def __init__(
        self,
        api: Any,
        retry: RetryPolicy,
        timeout: float,
        deadline: _Deadline | None = None,
        limits: ParseLimits = DEFAULT_LIMITS,
    ) -> None:
        self.api = api
        self.retry = retry
        self.timeout = timeout
        self.deadline = deadline or _Deadline(DEFAULT_TIMEOUT)
        self.max_response = limits.max_file_bytes
        self.budget = _Budget(limits.max_cluster_bytes)

    def get(self, path: str, query: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        last: ApiError | None = None
        for attempt in range(max(1, self.retry.attempts)):
            if self.deadline.remaining() <= 0:
                raise self.deadline.error()
            delay: float | None
            try:
                status, data, headers = self._get_once(path, query)
            except ApiError:
                raise
            except urllib3.exceptions.TimeoutError:
                last = ApiError(0, f"no answer within {self._read_timeout():g}s", attempts=attempt + 1)
                delay = self.retry.backoff(attempt)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                last = ApiError(0, f"connection failed: {_short(exc)}", attempts=attempt + 1)
                delay = self.retry.backoff(attempt)
            except _CredentialProblem as exc:  # the exec plugin failed while refreshing a token
                raise ApiError(0, str(exc), cause="credentials") from None
            except k8s_config.ConfigException as exc:  # an OIDC or other credential refresh failed
                raise ApiError(0, f"cannot get credentials: {_short(exc)}", cause="credentials") from None
            except k8s_client.ApiException as exc:  # the client turns TLS failures into status 0
                last = ApiError(exc.status or 0, f"connection failed: {_short(exc)}", attempts=attempt + 1)
                delay = self.retry.backoff(attempt)
            else:
                if 200 <= status < 300:
                    try:
                        body = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        raise ApiError(status, f"the server sent invalid JSON for {path}") from None
                    if not isinstance(body, dict):
                        raise ApiError(status, f"the server sent a {type(body).__name__} for {path}")
                    return body
                last = _status_error(status, data, attempt + 1)
                if status not in _RETRY_STATUSES:
                    raise last
                delay = retry_after_seconds(headers.get("Retry-After") if headers else None)
                delay = self.retry.backoff(attempt) if delay is None else min(delay, self.retry.max_retry_after)
            if attempt + 1 < self.retry.attempts:
                if delay >= self.deadline.remaining():
                    raise self.deadline.error()  # waiting would outlast the time limit
                time.sleep(delay)
        assert last is not None
        raise last

    def _read_timeout(self) -> float:
        return max(0.001, min(self.timeout, self.deadline.remaining()))

    def _get_once(self, path: str, query: Sequence[tuple[str, str]]) -> tuple[int, bytes, Mapping[str, str]]:
        method, url, headers, body, post = self.api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        wait = self._read_timeout()  # (connect, read): each socket read waits at most this long
        response = self.api.call_api(method, url, headers, body, post, _request_timeout=(wait, wait))
        try:
            data = self._read_body(response.response, path)
        except BaseException:
            response.response.close()  # a half-read connection must not go back to the pool
            raise
        response.response.release_conn()
        return int(response.status), data, response.headers

    def _read_body(self, raw: Any, path: str) -> bytes:
        """The body, read in pieces so that a slow drip meets the deadline and a huge one the limits."""
        declared = raw.headers.get("Content-Length") if raw.headers else None
        if declared is not None and declared.isdigit() and int(declared) > self.max_response:
            raise self._too_big(path, int(declared))
        chunks: list[bytes] = []
        size = 0
        while True:
            if self.deadline.remaining() <= 0:
                raise self.deadline.error()
            chunk = raw.read1(_READ_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_response:
                raise self._too_big(path, size, more=True)
            if not self.budget.spend(len(chunk)):
                raise ApiError(
                    0,
                    f"the cluster's responses add up to more than the {self.budget.limit}-byte limit",
                    cause="limit",
                )
            chunks.append(chunk)

    def _too_big(self, path: str, size: int, *, more: bool = False) -> ApiError:
        amount = f"more than {self.max_response}" if more else str(size)
        return ApiError(
            0, f"the response to {path} is {amount} bytes, over the {self.max_response}-byte limit", cause="limit"
        )


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _status_error(status: int, data: bytes, attempts: int) -> ApiError:
    message, reason = f"HTTP {status}", ""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        reason = str(body.get("reason") or "")
    return ApiError(status, message, reason, attempts)


def retry_after_seconds(value: str | None, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date; None for anything
    else (the caller then backs off as usual)."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text[:9])  # a server cannot ask for a wait longer than the caller's cap anyway
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        when = when.replace(tzinfo=datetime.UTC)
    seconds = (when - (now or datetime.datetime.now(datetime.UTC))).total_seconds()
    return max(0.0, seconds)


# -- connecting ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Connection:
    api: Any
    context: str


class _ConfigProblem(Exception):
    pass


class _CredentialProblem(Exception):
    """The kubeconfig's credential plugin failed, hung or printed no credential."""


def _run_credential_plugin(provider: Any, timeout: float) -> dict[str, Any]:
    """What an ``exec`` credential plugin prints, run without a terminal and within ``timeout``."""
    command = os.path.basename(str(provider.args[0]))
    spec: dict[str, Any] = {"interactive": False}
    if provider.cluster is not None:
        spec["cluster"] = provider.cluster.value
    info = {"apiVersion": provider.api_version, "kind": "ExecCredential", "spec": spec}
    env = {**provider.env, "KUBERNETES_EXEC_INFO": orjson.dumps(info, default=str).decode()}
    try:
        # No shell: the command and its arguments are the kubeconfig's, as kubectl runs them.
        process = subprocess.Popen(  # noqa: S603
            provider.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=provider.cwd,
            env=env,
            start_new_session=True,  # its own process group, so a timeout ends its children too
        )
    except OSError as exc:
        raise _CredentialProblem(f"cannot run the credential plugin {command}: {exc.strerror or exc}") from None
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise _CredentialProblem(f"the credential plugin {command} did not finish within {timeout:g}s") from None
    if process.returncode != 0:
        detail = brief_stderr(err) or "no message"
        raise _CredentialProblem(f"the credential plugin {command} failed (exit status {process.returncode}): {detail}")
    try:
        data = orjson.loads(out)
    except orjson.JSONDecodeError:
        raise _CredentialProblem(f"the credential plugin {command} printed no ExecCredential JSON") from None
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, dict):
        raise _CredentialProblem(f"the credential plugin {command} printed an ExecCredential without status")
    if data.get("apiVersion") != provider.api_version:
        raise _CredentialProblem(
            f"the credential plugin {command} answered apiVersion {data.get('apiVersion')!r}, "
            f"not {provider.api_version!r}"
        )
    if not isinstance(status.get("token"), str) and not (
        isinstance(status.get("clientCertificateData"), str) and isinstance(status.get("clientKeyData"), str)
    ):
        raise _CredentialProblem(
            f"the credential plugin {command} printed neither a token nor a client certificate and key"
        )
    return status


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.communicate()


class _TimedPluginLoader(_kube_config_module.KubeConfigLoader):  # type: ignore[misc]
    """The client's kubeconfig loader, except that an ``exec`` plugin runs within a time limit and
    its failure is raised (the stock loader logs it and carries on without credentials)."""

    plugin_timeout: float = PLUGIN_TIMEOUT

    def _load_from_exec_plugin(self) -> bool | None:
        if "exec" not in self._user:
            return None
        base_path = self._get_base_path(self._cluster.path)
        try:
            provider = _exec_provider(self._user["exec"], base_path, self._cluster)
        except k8s_config.ConfigException as exc:
            raise _CredentialProblem(f"invalid credential plugin: {_short(exc)}") from None
        status = _run_credential_plugin(provider, self.plugin_timeout)
        if isinstance(status.get("token"), str):
            self.token = f"Bearer {status['token']}"
        else:
            file_or_data = _kube_config_module.FileOrData
            for attribute, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
                stored = file_or_data(
                    status,
                    None,
                    data_key_name=key,
                    file_base_path=base_path,
                    base64_file_content=False,
                    temp_file_path=self._temp_file_path,
                )
                setattr(self, attribute, stored.as_file())
        if "expirationTimestamp" in status:
            self.expiry = _kube_config_module.parse_rfc3339(status["expirationTimestamp"])
        return True


@contextmanager
def private_credentials_dir() -> Iterator[str]:
    """A 0700 directory for the certificate and key files the client writes from a kubeconfig,
    removed when the collection ends — also on SIGTERM or SIGINT, which would otherwise leave the
    client's private key on disk."""
    directory = tempfile.mkdtemp(prefix="stockade-credentials-")

    def remove() -> None:
        shutil.rmtree(directory, ignore_errors=True)
        # The client remembers the files it wrote by content; forget ours so a later collection
        # in this process writes them again instead of naming removed files.
        remembered = _kube_config_module._temp_files
        for key in [k for k, name in remembered.items() if str(name).startswith(directory + os.sep)]:
            del remembered[key]

    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: Any) -> None:
        remove()
        handler = previous.get(signum, signal.SIG_DFL)
        signal.signal(signum, handler)
        if callable(handler):
            handler(signum, frame)
        elif handler != signal.SIG_IGN:
            os.kill(os.getpid(), signum)  # the default action, now that the key is gone

    if threading.current_thread() is threading.main_thread():
        for caught in (signal.SIGTERM, signal.SIGINT):
            previous[caught] = signal.signal(caught, on_signal)
    try:
        yield directory
    finally:
        for restored, handler in previous.items():
            signal.signal(restored, handler)
        remove()


def _connect(
    context: str | None,
    kubeconfig: str | None,
    workers: int,
    service_account_dir: Path,
    credentials_dir: str | None = None,
    plugin_timeout: float = PLUGIN_TIMEOUT,
) -> _Connection:
    configuration = k8s_client.Configuration()
    files = kubeconfig or os.environ.get("KUBECONFIG") or ""
    if not files and Path("~/.kube/config").expanduser().is_file():
        files = str(Path("~/.kube/config").expanduser())
    try:
        if files:
            paths = [p for p in files.split(os.pathsep) if p]
            missing = [p for p in paths if not Path(p).expanduser().is_file()]
            if kubeconfig and missing:
                raise _ConfigProblem(f"kubeconfig {missing[0]} does not exist")
            try:
                merged = _kube_config_module.KubeConfigMerger(files)
                if merged.config is None:
                    raise k8s_config.ConfigException("Invalid kube-config file. No configuration found.")
                loader = _TimedPluginLoader(
                    config_dict=merged.config,
                    config_base_path=None,
                    active_context=context,
                    temp_file_path=credentials_dir,
                )
                loader.plugin_timeout = plugin_timeout
                loader.load_and_set(configuration)
            except k8s_config.ConfigException as exc:
                raise _ConfigProblem(_explain(files, context, exc)) from None
            active = context or _current_context(files)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            if context:
                raise _ConfigProblem(f"context {context!r} asked for, but there is no kubeconfig (running in-cluster)")
            _in_cluster_loader(
                token_filename=str(service_account_dir / "token"),
                cert_filename=str(service_account_dir / "ca.crt"),
            ).load_and_set(configuration)
            active = "in-cluster"
        else:
            raise _ConfigProblem(
                "no kubeconfig found (none given, no $KUBECONFIG, no ~/.kube/config) and not in a cluster"
            )
    except k8s_config.ConfigException as exc:
        raise _ConfigProblem(f"invalid cluster configuration: {exc}") from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # unreadable file, bad YAML or base64
        raise _ConfigProblem(f"cannot read the cluster configuration: {_short(exc)}") from None
    # Stockade retries itself (see RetryPolicy); urllib3's silent retries would blur the count.
    configuration.retries = 0
    configuration.connection_pool_maxsize = max(workers, 1)
    return _Connection(k8s_client.ApiClient(configuration), active)


def _current_context(files: str) -> str:
    _, current = _kubeconfig_api.list_kube_config_contexts(config_file=files)
    return str((current or {}).get("name") or "current")


def _explain(files: str, context: str | None, error: Exception) -> str:
    """Say which context is missing when that is the trouble; else pass the loader's message on."""
    if context:
        try:
            contexts, _ = _kubeconfig_api.list_kube_config_contexts(config_file=files)
        except (k8s_config.ConfigException, OSError, ValueError, yaml.YAMLError):
            contexts = None
        names = [str(c.get("name")) for c in contexts or [] if isinstance(c, dict)]
        if contexts is not None and context not in names:
            return f"context {context!r} not found in {files} (contexts: {', '.join(names) or 'none'})"
    return f"invalid cluster configuration: {_short(error)}"


# -- discovery -----------------------------------------------------------------------------
def _served(group: str, version: str, entries: object) -> list[ServedResource]:
    resources: list[ServedResource] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name, kind, verbs = entry.get("name"), entry.get("kind"), entry.get("verbs")
        if not isinstance(name, str) or "/" in name or not isinstance(kind, str):
            continue  # subresources (pods/log, deployments/scale) are not objects
        short = entry.get("shortNames")
        resources.append(
            ServedResource(
                group=group,
                version=version,
                name=name,
                kind=kind,
                namespaced=bool(entry.get("namespaced")),
                verbs=frozenset(v for v in verbs if isinstance(v, str)) if isinstance(verbs, list) else frozenset(),
                singular=str(entry.get("singularName") or ""),
                short_names=tuple(s for s in short if isinstance(s, str)) if isinstance(short, list) else (),
            )
        )
    return resources


def _discover(
    session: _Session, pool: ThreadPoolExecutor, wanted_group: Callable[[str], bool]
) -> tuple[list[ServedResource], list[tuple[str, ApiError]]]:
    """Every resource served at its group's preferred version, and the groups that failed."""
    core = session.get("/api")
    versions = core.get("versions")
    core_version = versions[0] if isinstance(versions, list) and versions else "v1"
    resources = _served("", core_version, session.get(f"/api/{core_version}").get("resources"))
    groups = session.get("/apis").get("groups")
    preferred: list[tuple[str, str]] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            continue
        pref = group.get("preferredVersion")
        if not isinstance(pref, dict):
            listed = group.get("versions")
            pref = listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], dict) else {}
        version = pref.get("version")
        if isinstance(version, str) and wanted_group(group["name"]):
            preferred.append((group["name"], version))

    def one(group: str, version: str) -> list[ServedResource] | ApiError:
        try:
            return _served(group, version, session.get(f"/apis/{group}/{version}").get("resources"))
        except ApiError as exc:
            return exc

    failed: list[tuple[str, ApiError]] = []
    for (group, _), outcome in zip(preferred, pool.map(lambda gv: one(*gv), preferred), strict=True):
        if isinstance(outcome, ApiError):
            failed.append((group, outcome))
        else:
            resources.extend(outcome)
    return resources, failed


def _select(
    served: list[ServedResource], kinds: Sequence[str] | None, include_noisy: bool
) -> tuple[list[ServedResource], list[str]]:
    """Resources to list, and selection tokens that matched nothing listable."""
    listable = [r for r in served if "list" in r.verbs]
    if kinds is None:
        chosen = [
            r
            for r in listable
            if include_noisy or ((r.group, r.name) not in NOISY_RESOURCES and r.group not in NOISY_GROUPS)
        ]
        unmatched: list[str] = []
    else:
        chosen, unmatched = [], []
        for token in kinds:
            hits = [r for r in listable if r.matches(token)]
            if not hits:
                unmatched.append(token)
            chosen.extend(r for r in hits if r not in chosen)
    present = {(r.group, r.name) for r in chosen}
    chosen = [r for r in chosen if _ALIASES.get((r.group, r.name)) not in present]
    return chosen, unmatched


# -- listing -------------------------------------------------------------------------------
@dataclass(slots=True)
class _Listed:
    resource: ServedResource
    items: list[dict[str, Any]] = field(default_factory=list)
    error: ApiError | None = None
    restarts: int = 0
    namespace: str | None = None  # listed inside this namespace only (--namespaces)
    resource_version: str = ""  # of the list's snapshot (where a watch of it starts)


def _list_all(session: _Session, resource: ServedResource, page_size: int, namespace: str | None = None) -> _Listed:
    """Every object of one resource (in one namespace, when given), restarting the list when its
    continue token expires."""
    outcome = _Listed(resource, namespace=namespace)
    while True:
        items: list[dict[str, Any]] = []
        token: str | None = None
        seen: set[str] = set()
        try:
            while True:
                query = [("limit", str(page_size))]
                if token:
                    query.append(("continue", token))
                body = session.get(resource.list_path_in(namespace), query)
                page = body.get("items")
                if page is None:
                    page = []
                if not isinstance(page, list):
                    raise ApiError(200, f"the list of {resource.display} has no items array")
                items.extend(i for i in page if isinstance(i, dict))
                meta = body.get("metadata")
                if not token and isinstance(meta, dict):  # every page is read at the first one's version
                    outcome.resource_version = str(meta.get("resourceVersion") or "")
                token = meta.get("continue") if isinstance(meta, dict) else None
                if not token:
                    outcome.items = items
                    return outcome
                if not isinstance(token, str) or token in seen:
                    # A server that hands back a token it gave before would page forever.
                    raise ApiError(200, "the server repeated a continue token (the list never ends)", cause="loop")
                seen.add(token)
        except ApiError as exc:
            if exc.status == 410 and token and outcome.restarts < _MAX_LIST_RESTARTS:
                outcome.restarts += 1  # the snapshot behind the token was compacted: start over
                continue
            outcome.error = exc
            return outcome


def _describe_failure(resource: ServedResource, error: ApiError, namespace: str | None = None) -> str:
    what = f"{resource.display} in namespace {namespace}" if namespace else resource.display
    where = f" in namespace {namespace}" if namespace else ""
    if error.status == 403:
        return f'cannot list {what} (missing RBAC: list on {resource.name} in API group "{resource.group}"{where})'
    if error.status == 401:
        return f"cannot list {what}: the cluster rejected the credentials (401 Unauthorized)"
    if error.status == 410:
        return f"cannot list {what}: the list kept expiring ({error.message})"
    if error.cause:
        return f"cannot list {what}: {error.message}"
    tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
    code = f"HTTP {error.status}: " if error.status else ""
    return f"cannot list {what}{tries}: {code}{error.message}"


def _get_namespace(session: _Session, resource: ServedResource, namespace: str) -> _Listed:
    """The Namespace object itself (its labels carry the Pod Security levels)."""
    outcome = _Listed(resource, namespace=namespace)
    try:
        outcome.items = [session.get(f"{resource.list_path}/{namespace}")]
    except ApiError as exc:
        outcome.error = exc
    return outcome


def _namespace_failure(namespace: str, error: ApiError) -> str:
    if error.status == 404:
        return f"namespace {namespace} does not exist"
    if error.status == 403:
        return f'cannot get namespace {namespace} (missing RBAC: get on namespaces in API group "")'
    return f"cannot get namespace {namespace}: HTTP {error.status}: {error.message}"


# -- progress ------------------------------------------------------------------------------
class _Meter:
    """Counts listed kinds for the caller's progress callback (lists finish on several threads)."""

    def __init__(self, report: ProgressCallback | None) -> None:
        self.report = report
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()

    def step(self, listed: _Listed) -> None:
        if self.report is None:
            return
        with self._lock:
            self.done += 1
            self.report(f"listing {listed.resource.display}", self.done, self.total)


# -- the source ----------------------------------------------------------------------------
def collect_cluster(
    context: str | None = None,
    kubeconfig: str | None = None,
    kinds: Iterable[str] | None = None,
    *,
    workers: int = 8,
    page_size: int = 500,
    include_noisy: bool = False,
    retry: RetryPolicy | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
    progress: ProgressCallback | None = None,
    service_account_dir: str | os.PathLike[str] | None = None,
    namespaces: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    plugin_timeout: float = PLUGIN_TIMEOUT,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> SourceResult:
    """Read every listable object of a live cluster (or the ``kinds`` selected) into a SourceResult.

    ``namespaces`` reads namespaced kinds inside those namespaces only (what a user whose RBAC is a
    RoleBinding per namespace can list) and gets the Namespace objects; cluster-scoped kinds are
    then not read, and the result says so.

    ``kinds`` entries name resources the way kubectl does: ``Deployment``, ``deployments``,
    ``deploy`` or ``deployments.apps``; None or empty means every listable kind.
    ``progress`` is told each kind listed.
    ``timeout`` bounds the whole collection in seconds (what is read by then is kept, the rest
    reported); each read waits at most ``request_timeout`` and a kubeconfig credential plugin runs
    at most ``plugin_timeout``. One response may hold ``limits.max_file_bytes``, all of them
    together ``limits.max_cluster_bytes``.
    Objects get ``Origin(file="cluster:<context or 'current'>", line=0)``.
    Facts: ``server_version``, ``collected_at`` (UTC, ISO 8601), ``context`` (the one used).
    """
    source = f"cluster:{context or 'current'}"
    origin = Origin(file=source)
    result = SourceResult()
    result.facts["collected_at"] = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
    selection = [k for k in kinds if k.strip()] if kinds is not None else None
    selection = selection or None  # an empty selection means everything, as no selection does
    deadline = _Deadline(timeout)
    with private_credentials_dir() as credentials:
        try:
            connection = _connect(
                context,
                kubeconfig,
                workers,
                Path(service_account_dir) if service_account_dir else SERVICE_ACCOUNT_DIR,
                credentials,
                min(plugin_timeout, timeout),
            )
        except _ConfigProblem as exc:
            result.errors.append(InputProblem(source, str(exc), kind="config"))
            return result
        except _CredentialProblem as exc:
            result.errors.append(InputProblem(source, str(exc)))
            return result
        result.facts["context"] = connection.context
        meter = _Meter(progress)
        session = _Session(connection.api, retry or RetryPolicy(), request_timeout, deadline, limits)
        try:
            pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="stockade-list")
            try:
                scope = sorted({n.strip() for n in namespaces if n.strip()}) if namespaces is not None else None
                _collect(session, pool, source, origin, selection, page_size, include_noisy, meter, result, scope)
            except BaseException:
                # Interrupted: do not wait for reads that may hang until their timeout.
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
        finally:
            connection.api.close()
    return result


def _collect(
    session: _Session,
    pool: ThreadPoolExecutor,
    source: str,
    origin: Origin,
    selection: list[str] | None,
    page_size: int,
    include_noisy: bool,
    meter: _Meter,
    result: SourceResult,
    scope: list[str] | None = None,
) -> None:
    try:
        version = session.get("/version")
        result.facts["server_version"] = str(version.get("gitVersion") or "")
    except ApiError as exc:
        result.errors.append(InputProblem(source, _unreachable(exc)))
        return

    def wanted_group(group: str) -> bool:
        # Skipped groups are not even discovered: aggregated APIs like metrics.k8s.io are often down.
        return include_noisy or selection is not None or group not in NOISY_GROUPS

    try:
        served, failed_groups = _discover(session, pool, wanted_group)
    except ApiError as exc:
        result.errors.append(InputProblem(source, _unreachable(exc)))
        return
    for group, error in failed_groups:
        result.errors.append(InputProblem(source, f"cannot discover API group {group}: {error.message}"))
    chosen, unmatched = _select(served, selection, include_noisy)
    for token in unmatched:
        result.errors.append(
            InputProblem(source, f"the cluster serves no listable resource named {token!r}", kind="config")
        )
    jobs: list[tuple[ServedResource, str | None]] = [(r, None) for r in chosen]
    if scope is not None:
        jobs = [(r, ns) for r in chosen if r.namespaced for ns in scope]
        jobs += [(r, ns) for r in chosen if r.group == "" and r.name == "namespaces" for ns in scope]
        left_out = sorted(r.display for r in chosen if not r.namespaced and r.name != "namespaces")
        if left_out:
            result.skipped.append(
                SkippedInput(source, "cluster-scoped kinds are not read with --namespaces: " + ", ".join(left_out))
            )
    meter.total = len(jobs)

    def job(work: tuple[ServedResource, str | None]) -> _Listed:
        resource, namespace = work
        if namespace is not None and not resource.namespaced:
            listed = _get_namespace(session, resource, namespace)
        else:
            listed = _list_all(session, resource, max(1, page_size), namespace)
        meter.step(listed)
        return listed

    late: list[str] = []  # kinds the time limit left unread: one problem for all of them
    for listed in pool.map(job, jobs):
        resource = listed.resource
        if listed.error is not None and listed.error.cause == "deadline":
            late.append(resource.display + (f" in namespace {listed.namespace}" if listed.namespace else ""))
            continue
        if listed.error is not None:
            if not resource.namespaced and listed.namespace is not None:
                result.errors.append(InputProblem(source, _namespace_failure(listed.namespace, listed.error)))
            elif listed.error.status == 404:
                result.skipped.append(SkippedInput(source, f"{resource.display} is no longer served"))
            else:
                result.errors.append(InputProblem(source, _describe_failure(resource, listed.error, listed.namespace)))
            continue
        for item in listed.items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
            if resource.group == "" and resource.kind == "Secret":
                redact_secret(item)
            made = resource_from_raw(item, origin)
            if isinstance(made, Resource):
                result.resources.append(made)
            else:
                result.errors.append(InputProblem(source, f"{resource.display}: {made}", kind="parse"))
    if late:
        shown = ", ".join(late[:20]) + (f" and {len(late) - 20} more" if len(late) > 20 else "")
        message = f"{session.deadline.error().message} (--timeout); not read: {shown}"
        result.errors.append(InputProblem(source, message, kind="limit"))


def _unreachable(error: ApiError) -> str:
    if error.cause in ("credentials", "deadline", "limit"):
        return error.message
    if error.status == 401:
        return "the cluster rejected the credentials (401 Unauthorized)"
    if error.status == 0:
        return f"cannot reach the cluster: {error.message}"
    return f"cannot read the cluster's API discovery (HTTP {error.status}): {error.message}"


@dataclass(frozen=True, slots=True)
class ClusterSource:
    """A live cluster through the official client: the current kubeconfig context (in a pod, the
    in-cluster config), or ``context`` / ``kubeconfig``. ``kinds`` and ``namespaces`` narrow what is
    read (kubectl-style kind names; namespaced kinds inside those namespaces only). ``timeout``
    (seconds) bounds the whole collection; ``limits`` bounds the size of what the server sends."""

    context: str | None = None
    kubeconfig: str | None = None
    kinds: Sequence[str] | None = None
    namespaces: Sequence[str] | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds for the whole collection
    limits: ParseLimits = DEFAULT_LIMITS

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        if not self.timeout > 0:
            raise SourceError(f"the cluster time limit must be more than 0 seconds, not {self.timeout:g}")
        result = collect_cluster(
            self.context,
            self.kubeconfig,
            self.kinds or None,
            progress=progress,
            namespaces=self.namespaces or None,
            timeout=self.timeout,
            limits=self.limits,
        )
        if not result.resources and any(e.kind == "config" for e in result.errors):
            raise SourceError("; ".join(e.message for e in result.errors if e.kind == "config"))
        return result
