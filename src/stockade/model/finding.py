"""What a scan produces: findings, input errors and skipped inputs. Pure data for every output."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 … info=0."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r} (choose from {', '.join(s.value for s in cls)})") from None


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Status(StrEnum):
    FAIL = "fail"
    PASS = "pass"  # noqa: S105 - a status name, not a password
    ERROR = "error"
    SKIPPED = "skipped"
    EXCEPTED = "excepted"


class Stage(StrEnum):
    CRAWL = "crawl"
    WALK = "walk"
    RUN = "run"


class Area(StrEnum):
    """The seed areas: rules, posture and reports are organised by these (value = the id users type)."""

    CONTROL_PLANE = "control-plane"
    AUTHENTICATION = "authentication"
    RBAC = "rbac"
    GITOPS = "gitops"
    CONTAINER_PRIVILEGES = "container-privileges"
    LOGGING = "logging"
    MONITORING = "monitoring"
    ADMISSION = "admission"
    EAST_WEST = "east-west"
    NODE_FILES = "node-files"
    SECRETS = "secrets"
    SERVICE_ACCOUNTS = "service-accounts"
    NAMESPACES = "namespaces"
    REGISTRIES = "registries"

    @property
    def label(self) -> str:
        """How people read the area: ``rbac`` → "RBAC least privilege"."""
        return _AREA_LABELS[self]


_AREA_LABELS = {
    Area.CONTROL_PLANE: "control plane & API access",
    Area.AUTHENTICATION: "authentication",
    Area.RBAC: "RBAC least privilege",
    Area.GITOPS: "GitOps",
    Area.CONTAINER_PRIVILEGES: "container privileges",
    Area.LOGGING: "cluster logging",
    Area.MONITORING: "real-time monitoring",
    Area.ADMISSION: "admission control",
    Area.EAST_WEST: "east-west traffic",
    Area.NODE_FILES: "key configuration files",
    Area.SECRETS: "secrets",
    Area.SERVICE_ACCOUNTS: "service accounts",
    Area.NAMESPACES: "namespaces",
    Area.REGISTRIES: "trusted registries",
}


@dataclass(frozen=True, slots=True)
class ResourceRef:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @property
    def display(self) -> str:
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int = 0  # 1-based; 0 when unknown (cluster objects)


@dataclass(frozen=True, slots=True)
class Waiver:
    """Why a finding is excepted (or was, when ``expired``)."""

    source: str  # "annotation" or the exceptions file path (with entry number)
    reason: str
    expires: str | None = None  # ISO date
    expired: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    status: Status
    severity: Severity  # the rule's, or the violation's own when it overrides (e.g. hostPath "/")
    resource: ResourceRef
    message: str
    location: Location
    fingerprint: str
    path: str = ""  # dotted path inside the object, e.g. spec.template.spec.containers[0].image
    container: str | None = None
    remediation: str = ""
    waiver: Waiver | None = None


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Something the user gave us that could not be read or evaluated. Always reported."""

    source: str  # file path, "<stdin>", "cluster", …
    message: str
    line: int | None = None
    object: str | None = None  # "Kind/ns/name" when the error concerns one object
    kind: str = "read"  # read | parse | limit | render | evaluate | config


@dataclass(frozen=True, slots=True)
class SkippedInput:
    """An input that was read but holds nothing to scan (e.g. a docker-compose file)."""

    source: str
    reason: str
    line: int | None = None


@dataclass(slots=True)
class PassCounts:
    """Pass results per rule, kept as counts unless ``--include-passed`` asks for findings."""

    by_rule: dict[str, int] = field(default_factory=dict)

    def add(self, rule_id: str, count: int = 1) -> None:
        self.by_rule[rule_id] = self.by_rule.get(rule_id, 0) + count
