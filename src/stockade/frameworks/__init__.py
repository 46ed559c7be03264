"""Framework catalogues (CIS, NSA-CISA, OWASP, MITRE ATT&CK, Pod Security Standards) kept as data.

Each catalogue is ``data/<id>.json``: ``{"id", "title", "url", "controls": [{"id", "title"}]}``.
Rules map to control ids in their ``frameworks`` metadata; a test checks every mapping exists here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    title: str
    url: str
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)


@cache
def framework_ids() -> tuple[str, ...]:
    folder = resources.files(__package__) / "data"
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")))


@cache
def load_framework(framework_id: str) -> Framework:
    if framework_id not in framework_ids():
        raise KeyError(framework_id)
    text = (resources.files(__package__) / "data" / f"{framework_id}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Framework(
        id=data["id"],
        title=data["title"],
        url=data.get("url", ""),
        controls=tuple(Control(c["id"], c["title"]) for c in data["controls"]),
    )
