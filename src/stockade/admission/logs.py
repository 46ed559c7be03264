"""The webhook's log: one JSON object per line.

:func:`log_event` writes an event (a denial, dry-run findings, an error, a refused request) through
the ``stockade.admission`` logger: its fields ride on the record (``record.fields``) and the
message is the same object as JSON, so a process that did not install :class:`JsonFormatter`
still logs every field. What is logged names the request (uid, operation, kind, namespace, name,
user) and the rules, never the object's content.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from stockade.admission.review import AdmissionRequest

log = logging.getLogger("stockade.admission")


def request_fields(request: AdmissionRequest) -> dict[str, object]:
    return {
        "uid": request.uid,
        "operation": request.operation,
        "kind": request.kind.kind,
        "resource": request.resource.resource,
        "subresource": request.sub_resource or None,
        "namespace": request.namespace or None,
        "name": request.name or None,
        "user": request.user.username,
        "dry_run": request.dry_run,
    }


def log_event(event: str, request: AdmissionRequest | None, level: int = logging.INFO, **fields: object) -> None:
    record: dict[str, object] = {"event": f"admission.{event}"}
    if request is not None:
        record.update(request_fields(request))
    record.update(fields)
    log.log(level, "%s", orjson.dumps(record, default=str).decode(), extra={"fields": record})


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", ...}`` per record: an event's fields, or ``message`` for plain
    log calls; an exception's traceback as one ``traceback`` string."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()
