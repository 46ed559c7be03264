"""Message and remediation pieces the NP rules share: kubectl commands, counted nouns."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from stockade.model.resource import Resource
from stockade.rules._kubectl import namespace_flag


def apply_command(manifest: Mapping[str, Any]) -> str:
    """A one-line ``kubectl apply`` of ``manifest``."""
    return f"echo '{json.dumps(manifest, separators=(',', ':'))}' | kubectl apply -f -"


def plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def service_target(service: Resource) -> str:
    """``service NAME -n NAMESPACE`` as kubectl commands name it."""
    return f"service {shlex.quote(service.name)}{namespace_flag(service)}"
