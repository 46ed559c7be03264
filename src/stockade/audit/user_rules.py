"""Users' own audit detections: a CEL expression over the Event, in a YAML file (``--detections``).

    detections:
      - id: ACME-001
        title: Deployment scaled to zero in production
        severity: high
        technique: T1489
        expression: >-
          event.verb == "patch" && event.objectRef.resource == "deployments"
          && event.objectRef.namespace == "prod"
          && has(event.requestObject.spec) && event.requestObject.spec.replicas == 0

The expressions run on the same CEL engine as ValidatingAdmissionPolicies (`stockade.policies.cel`:
cost bound, no I/O), with one variable, ``event``. An Event an expression cannot judge (a field it
reads is absent and it did not check with ``has()``) is not a match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stockade.audit.detections import DetectionInfo
from stockade.model.finding import Severity
from stockade.policies.cel import CelEnvironment, CelEvaluationError, Expression
from stockade.policies.model import PolicyDefinitionError

ENVIRONMENT = CelEnvironment(roots=("event",))


class DetectionsFileError(ValueError):
    """The detections file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class UserDetection:
    info: DetectionInfo
    expression: Expression

    def matches(self, event: Mapping[str, Any]) -> bool:
        try:
            return ENVIRONMENT.run(self.expression, {"event": event}) is True
        except CelEvaluationError:
            return False


def load_detections(path: str, taken: set[str]) -> list[UserDetection]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DetectionsFileError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise DetectionsFileError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    entries = document.get("detections") if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise DetectionsFileError(f"{path}: expected a non-empty `detections:` list")
    found: list[UserDetection] = []
    for index, entry in enumerate(entries):
        where = f"{path}: detections[{index}]"
        if not isinstance(entry, Mapping):
            raise DetectionsFileError(f"{where}: expected a mapping")
        missing = [k for k in ("id", "title", "expression") if not isinstance(entry.get(k), str) or not entry[k]]
        if missing:
            raise DetectionsFileError(f"{where}: missing {', '.join(missing)}")
        if entry["id"] in taken:
            raise DetectionsFileError(f"{where}: id {entry['id']} is already used")
        try:
            severity = Severity.parse(str(entry.get("severity", "medium")))
        except ValueError as exc:
            raise DetectionsFileError(f"{where}: {exc}") from None
        try:
            expression = ENVIRONMENT.compile(entry["expression"], where)
        except PolicyDefinitionError as exc:
            raise DetectionsFileError(str(exc)) from None
        taken.add(entry["id"])
        info = DetectionInfo(entry["id"], entry["title"], severity, str(entry.get("technique", "")))
        found.append(UserDetection(info, expression))
    return found
