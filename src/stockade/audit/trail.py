"""The break-glass trail: every action a break-glass or ``system:masters`` identity took, in order.

For an incident ticket: when, who (and as whom, when impersonating), from where, what verb on what
object, the answer, and what changed (the request body the audit policy recorded: for a patch,
the patch itself). Secret values never appear: a Secret's ``data`` and ``stringData`` are blanked,
as everywhere else in Stockade.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from stockade.audit.detections import MASTERS, mapping_of, object_name
from stockade.sources.redaction import redact_secret

CHANGE_LIMIT = 600  # characters of the recorded body shown per action


@dataclass(frozen=True, slots=True)
class TrailEntry:
    time: str
    user: str
    impersonated: str | None
    source: str
    verb: str
    object: str
    code: int | None
    changed: str
    audit_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "user": self.user,
            "impersonatedUser": self.impersonated,
            "sourceIP": self.source,
            "verb": self.verb,
            "object": self.object,
            "code": self.code,
            "changed": self.changed,
            "auditID": self.audit_id,
        }


def _when(event: Mapping[str, Any]) -> str:
    return str(event.get("requestReceivedTimestamp") or event.get("stageTimestamp") or "")


def _changed(event: Mapping[str, Any]) -> str:
    body = event.get("requestObject")
    if not isinstance(body, Mapping):
        return ""
    if body.get("kind") == "Secret" or mapping_of(event.get("objectRef")).get("resource") == "secrets":
        body = redact_secret(orjson.loads(orjson.dumps(body)))
    text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= CHANGE_LIMIT else text[: CHANGE_LIMIT - 1] + "…"


def trail(
    events: Iterable[Mapping[str, Any]],
    identities: Iterable[str],
    masters: bool = True,
    since: dt.datetime | None = None,
) -> Iterator[TrailEntry]:
    """The actions of ``identities`` (and of every ``system:masters`` member when ``masters``)."""
    names = set(identities)
    floor = since.isoformat() if since is not None else ""
    for event in events:
        if event.get("stage") == "RequestReceived":
            continue
        user = mapping_of(event.get("user"))
        name = str(user.get("username", ""))
        listed = user.get("groups")
        groups: list[Any] = listed if isinstance(listed, list) else []
        if name not in names and not (masters and MASTERS in groups):
            continue
        when = _when(event)
        if floor and when.replace("Z", "+00:00") < floor:
            continue
        ips = event.get("sourceIPs")
        yield TrailEntry(
            time=when,
            user=name,
            impersonated=mapping_of(event.get("impersonatedUser")).get("username"),
            source=str(ips[-1]) if isinstance(ips, list) and ips else "",
            verb=str(event.get("verb", "")),
            object=object_name(mapping_of(event.get("objectRef"))) or str(event.get("requestURI", "")),
            code=mapping_of(event.get("responseStatus")).get("code"),
            changed=_changed(event),
            audit_id=str(event.get("auditID", "")),
        )


COLUMNS = ("time", "user", "source IP", "verb", "object", "code", "what changed")


def _cells(entry: TrailEntry) -> list[str]:
    user = entry.user + (f" as {entry.impersonated}" if entry.impersonated else "")
    return [entry.time, user, entry.source, entry.verb, entry.object, str(entry.code or ""), entry.changed]


def render_markdown(entries: list[TrailEntry], title: str) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")

    lines = [f"# {cell(title)}", "", f"{len(entries)} actions, oldest first.", ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in _cells(entry)) + " |" for entry in entries]
    return "\n".join(lines) + "\n"


def render_html(entries: list[TrailEntry], title: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _cells(entry)) + "</tr>" for entry in entries)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>td,th{{border:1px solid #ccc;padding:4px;font:13px monospace}}"
        f"</style></head><body><h1>{html.escape(title)}</h1><p>{len(entries)} actions, oldest first.</p>"
        f"<table><tr>{head}</tr>{rows}</table></body></html>\n"
    )
