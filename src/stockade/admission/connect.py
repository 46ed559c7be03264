"""The break-glass trail: who opened a shell, attached or forwarded a port into which pod, and when.

The API server sends a validating webhook an AdmissionReview with ``operation: CONNECT`` for
``pods/exec``, ``pods/attach`` and ``pods/portforward`` (when the webhook's rules list those
subresources); ``request.object`` is the options of the call (``PodExecOptions``,
``PodAttachOptions``, ``PodPortForwardOptions``). :func:`connect_event` turns such a request into
a :class:`ConnectEvent`; pure (the clock is given), no I/O.

:meth:`ConnectEvent.to_json` writes schema ``stockade.connect/v1`` (JSON Schema in
``stockade/schemas/connect-v1.schema.json``). Every key is always present; ``null`` means the
request did not say::

    {
      "schema": "stockade.connect/v1",
      "time": "2025-03-01T09:30:12.345Z",         # when the webhook saw it (RFC 3339, UTC)
      "request_uid": "5cf446fc-…",                # the AdmissionReview request.uid
      "subresource": "exec",                      # exec | attach | portforward
      "user": {
        "username": "alice@example.com",
        "uid": "…" | null,
        "groups": ["system:authenticated", …],    # as sent, in order
        "extra": {"authentication.kubernetes.io/credential-id": ["JTI=…"], …}  # keys sorted
      },
      "pod": {"namespace": "shop", "name": "api-7d9f"},
      "container": "api" | null,                  # exec and attach
      "command": ["/bin/sh", "-c", "id"] | null,  # exec
      "ports": [8080] | null,                     # portforward (kubectl sends them in stream headers: often null)
      "stdin": true | null, "stdout": true | null, "stderr": true | null, "tty": true | null,
      "dry_run": false
    }

The user is the one the API server authorised: an impersonated identity, not the impersonator
(the API server's audit log has both). Commands are recorded as given: a secret typed on a
command line is in the record, as it is in the audit log, so the trail is as sensitive as that log.

Anything malformed (not a CONNECT on one of the three pod subresources, a missing uid, pod name or
username, a field of the wrong type) gives None: the caller answers the request as usual and has
nothing to record.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from stockade.model.podspec import is_list, is_map
from stockade.model.text import visible

SCHEMA: Final = "stockade.connect/v1"
SCHEMA_RESOURCE: Final = "schemas/connect-v1.schema.json"  # inside the stockade package
# Subresource -> the kind of the options object the API server sends with it.
OPTIONS_KINDS: Final = {"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions"}

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class ConnectEvent:
    """One CONNECT to a pod: who, which pod, what, when (see the module docstring for the JSON)."""

    time: dt.datetime  # timezone-aware, UTC
    request_uid: str
    subresource: str
    username: str
    user_uid: str | None
    groups: tuple[str, ...]
    extra: tuple[tuple[str, tuple[str, ...]], ...]  # sorted by key
    namespace: str
    pod: str
    container: str | None = None
    command: tuple[str, ...] | None = None
    ports: tuple[int, ...] | None = None
    stdin: bool | None = None
    stdout: bool | None = None
    stderr: bool | None = None
    tty: bool | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        """The event as schema ``stockade.connect/v1`` (plain JSON values, keys in a stable order)."""
        return {
            "schema": SCHEMA,
            "time": _rfc3339(self.time),
            "request_uid": self.request_uid,
            "subresource": self.subresource,
            "user": {
                "username": self.username,
                "uid": self.user_uid,
                "groups": list(self.groups),
                "extra": {key: list(values) for key, values in self.extra},
            },
            "pod": {"namespace": self.namespace, "name": self.pod},
            "container": self.container,
            "command": None if self.command is None else list(self.command),
            "ports": None if self.ports is None else list(self.ports),
            "stdin": self.stdin,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "tty": self.tty,
            "dry_run": self.dry_run,
        }

    def summary(self) -> str:
        """One line for a log or an Event message, control characters escaped:
        ``alice exec shop/api-7d9f [api]: /bin/sh -c id``."""
        text = f"{self.username} {self.subresource} {self.namespace}/{self.pod}"
        if self.container is not None:
            text += f" [{self.container}]"
        if self.command is not None:
            text += ": " + shlex.join(self.command)
        if self.ports is not None:
            text += ": ports " + ",".join(str(port) for port in self.ports)
        return visible(text)


class _Malformed(Exception):
    """A field of the request is not what the API server sends."""


def connect_event(request: Mapping[str, Any], clock: Clock = utc_now) -> ConnectEvent | None:
    """The event for an AdmissionReview ``request`` that CONNECTs to ``pods/exec``, ``pods/attach``
    or ``pods/portforward``; None for any other request and for a malformed one (never raises).

    ``clock`` gives the event's time; a naive datetime from it is read as UTC.
    """
    try:
        return _event(request, clock)
    except _Malformed:
        return None


def _event(request: object, clock: Clock) -> ConnectEvent | None:
    if not is_map(request) or request.get("operation") != "CONNECT":
        return None
    resource = request.get("resource")
    subresource = request.get("subResource")
    if not (is_map(resource) and resource.get("group", "") == "" and resource.get("resource") == "pods"):
        return None
    if not isinstance(subresource, str) or subresource not in OPTIONS_KINDS:
        return None
    user = request.get("userInfo")
    if not is_map(user):
        raise _Malformed
    options = request.get("object")
    if options is None:
        options = {}
    if not is_map(options) or options.get("kind", OPTIONS_KINDS[subresource]) != OPTIONS_KINDS[subresource]:
        raise _Malformed
    time = clock()
    return ConnectEvent(
        time=time.replace(tzinfo=dt.UTC) if time.tzinfo is None else time.astimezone(dt.UTC),
        request_uid=_text(request, "uid"),
        subresource=subresource,
        username=_text(user, "username", empty=True),
        user_uid=_optional_text(user, "uid"),
        groups=_strings(user.get("groups", [])),
        extra=_extra(user.get("extra", {})),
        namespace=_text(request, "namespace"),
        pod=_text(request, "name"),
        container=_optional_text(options, "container"),
        command=None if options.get("command") is None else _strings(options["command"]),
        ports=_ports(options.get("ports")),
        stdin=_flag(options.get("stdin")),
        stdout=_flag(options.get("stdout")),
        stderr=_flag(options.get("stderr")),
        tty=_flag(options.get("tty")),
        dry_run=_flag(request.get("dryRun")) or False,
    )


def _text(mapping: Mapping[str, Any], key: str, *, empty: bool = False) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not (value or empty):
        raise _Malformed
    return value


def _optional_text(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is None or value == "":  # the API server's zero value: not given
        return None
    if not isinstance(value, str):
        raise _Malformed
    return value


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not is_list(value) or not all(isinstance(item, str) for item in value):
        raise _Malformed
    return tuple(value)


def _extra(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not is_map(value) or not all(isinstance(key, str) for key in value):
        raise _Malformed
    return tuple(sorted((key, _strings(values)) for key, values in value.items()))


def _ports(value: object) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not is_list(value) or not all(type(port) is int and 0 < port < 65536 for port in value):
        raise _Malformed
    return tuple(value)


def _flag(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _Malformed


def _rfc3339(time: dt.datetime) -> str:
    return time.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
