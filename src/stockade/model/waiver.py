"""One entry of an exceptions file: which findings it waives, why, by whom and until when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fnmatch import fnmatchcase

from stockade.model.finding import Waiver


@dataclass(frozen=True, slots=True)
class WaiverEntry:
    rules: tuple[str, ...]  # rule ids (names are resolved by the caller)
    reason: str
    source: str  # "file.yaml#3"
    namespace: str = "*"
    kind: str = "*"
    name: str = "*"
    container: str | None = None
    owner: str | None = None
    expires: dt.date | None = None

    def matches(self, rule_id: str, kind: str, namespace: str | None, name: str, container: str | None) -> bool:
        if rule_id not in self.rules:
            return False
        if self.kind != "*" and self.kind.lower() != kind.lower():
            return False
        if self.namespace != "*" and not fnmatchcase(namespace or "", self.namespace):
            return False
        if self.name != "*" and not fnmatchcase(name, self.name):
            return False
        return self.container is None or self.container == container

    def waiver(self, today: dt.date) -> Waiver:
        expired = self.expires is not None and self.expires < today
        who = f" (accepted by {self.owner})" if self.owner else ""
        return Waiver(
            source=self.source,
            reason=self.reason + who,
            expires=self.expires.isoformat() if self.expires else None,
            expired=expired,
        )
