"""Audit-log detections (AD-): what attackers and mistakes look like in ``audit.k8s.io`` Events.

Each detection is data (id, title, severity, MITRE technique) and a small pure check over one
Event; the few that need memory (repeated denials) keep a bounded window in the `Detector`. Checks
are dispatched by resource, so an Event costs only the checks that can apply to it. Privileged pod
creation is judged by the same Pod Security evaluator as the PSS rules, and RBAC grants by the
same danger classifier as the RB rules.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stockade.model.finding import Severity
from stockade.model.gitops import GITOPS_GROUPS, NO_GITOPS, GitOpsScope, by_hand
from stockade.pss import LATEST, evaluate_pod
from stockade.rbac.danger import Classifier, Danger
from stockade.rbac.parse import RuleInterner, read_rules

MASTERS = "system:masters"
ANONYMOUS = "system:anonymous"
HEALTH_PATHS = ("/healthz", "/readyz", "/livez", "/version")
SYSTEM_PREFIXES = ("system:serviceaccount:", "system:node:", "system:kube-", "system:apiserver")
# Events are dicts (orjson); naming dict first spares the slower abstract check on the hot path.
MAPS = (dict, Mapping)
WORKLOAD_RESOURCES = frozenset({"pods", "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs"})


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """``break_glass``: identities whose every action is an incident; ``networks``: where requests may come from."""

    break_glass: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    denial_threshold: int = 20  # 403s from one identity within the window
    denial_window: float = 60.0  # seconds
    gitops: GitOpsScope = NO_GITOPS  # namespaces only git should change, and who syncs them


@dataclass(frozen=True, slots=True)
class DetectionInfo:
    id: str
    title: str
    severity: Severity
    technique: str


@dataclass(frozen=True, slots=True)
class Detection:
    info: DetectionInfo
    detail: str
    event: Mapping[str, Any] = field(repr=False)
    severity: Severity | None = None  # overrides the detection's own

    @property
    def level(self) -> Severity:
        return self.severity or self.info.severity

    def evidence(self) -> dict[str, Any]:
        """What an incident ticket needs: who, from where, what, when, the answer; never bodies."""
        event = self.event
        user = mapping_of(event.get("user"))
        ref = mapping_of(event.get("objectRef"))
        status = mapping_of(event.get("responseStatus"))
        return {
            "id": self.info.id,
            "title": self.info.title,
            "severity": self.level.value,
            "technique": self.info.technique,
            "detail": self.detail,
            "time": event.get("requestReceivedTimestamp") or event.get("stageTimestamp"),
            "auditID": event.get("auditID"),
            "user": user.get("username"),
            "groups": user.get("groups") or [],
            "impersonatedUser": mapping_of(event.get("impersonatedUser")).get("username"),
            "sourceIPs": event.get("sourceIPs") or [],
            "userAgent": event.get("userAgent"),
            "verb": event.get("verb"),
            "object": object_name(ref),
            "requestURI": event.get("requestURI"),
            "code": status.get("code"),
        }


def mapping_of(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, MAPS) else {}


def object_name(ref: Mapping[str, Any]) -> str:
    resource = ref.get("resource", "")
    if ref.get("subresource"):
        resource += "/" + str(ref["subresource"])
    where = [str(ref[k]) for k in ("namespace", "name") if ref.get(k)]
    return "/".join([resource, *where]) if resource else ""


def _i(id: str, title: str, severity: Severity, technique: str) -> DetectionInfo:
    return DetectionInfo(id, title, severity, technique)


EXEC = _i("AD-001", "Command run in a pod (exec, attach, port-forward)", Severity.MEDIUM, "T1609")
SECRET_READ = _i("AD-002", "Secrets read by a person", Severity.MEDIUM, "T1552.007")
MASTERS_USE = _i("AD-003", "Request as system:masters or a break-glass identity", Severity.HIGH, "T1078")
ANONYMOUS_ALLOWED = _i("AD-004", "Anonymous request allowed", Severity.HIGH, "T1078.001")
PRIVILEGED_POD = _i("AD-005", "Privileged or host-access pod created", Severity.HIGH, "T1610")
RBAC_GRANT = _i("AD-006", "RBAC change grants powerful access", Severity.HIGH, "T1098")
IMPERSONATION = _i("AD-007", "Request made by impersonation", Severity.MEDIUM, "T1078")
TOKEN_OR_CSR = _i("AD-008", "ServiceAccount token or certificate requested by a person", Severity.MEDIUM, "T1528")
WEBHOOK_CHANGE = _i("AD-009", "Admission webhook or policy changed", Severity.HIGH, "T1562.001")
EVENTS_DELETED = _i("AD-010", "Events deleted", Severity.MEDIUM, "T1070")
DENIALS = _i("AD-011", "Repeated denials from one identity", Severity.MEDIUM, "T1069")
OUTSIDE = _i("AD-012", "Request from outside the allowed networks", Severity.HIGH, "T1133")
GITOPS_WRITE = _i("AD-013", "Change in a GitOps-managed namespace not made by the operator", Severity.MEDIUM, "T1578")
CATALOGUE = (
    EXEC,
    SECRET_READ,
    MASTERS_USE,
    ANONYMOUS_ALLOWED,
    PRIVILEGED_POD,
    RBAC_GRANT,
    IMPERSONATION,
    TOKEN_OR_CSR,
    WEBHOOK_CHANGE,
    EVENTS_DELETED,
    DENIALS,
    OUTSIDE,
    GITOPS_WRITE,
)


def _code(event: Mapping[str, Any]) -> int:
    status = event.get("responseStatus")
    code = status.get("code") if isinstance(status, MAPS) else None
    return code if isinstance(code, int) else 0


def _allowed(event: Mapping[str, Any]) -> bool:
    return 0 < _code(event) < 400


def _person(username: str) -> bool:
    """A human (or an outside tool): not a ServiceAccount, a node or a control-plane component."""
    return bool(username) and not username.startswith(SYSTEM_PREFIXES)


Check = Callable[[Mapping[str, Any], Mapping[str, Any], str], Iterator[Detection]]


def _exec(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if ref.get("subresource") in ("exec", "attach", "portforward") and _allowed(event):
        namespace = ref.get("namespace", "")
        severity = Severity.HIGH if namespace == "kube-system" else None
        yield Detection(EXEC, f"{user} ran {ref.get('subresource')} in {namespace}/{ref.get('name')}", event, severity)


def _secrets(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    verb = event.get("verb")
    if ref.get("subresource") or verb not in ("get", "list", "watch") or not _allowed(event):
        return
    if not ref.get("namespace") and verb in ("list", "watch"):
        yield Detection(SECRET_READ, f"{user} listed Secrets in every namespace", event, Severity.HIGH)
    elif _person(user):
        yield Detection(SECRET_READ, f"{user} read {object_name(ref)}", event)


def _pods(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if event.get("verb") != "create" or ref.get("subresource") or not _allowed(event):
        return
    body = event.get("requestObject")
    if not isinstance(body, MAPS):
        return
    template = _pod_template(body)
    if template is None:
        return
    metadata, spec = template
    # The same evaluator as the PSS rules and the webhook: what Pod Security baseline forbids.
    verdict = evaluate_pod(metadata, spec, "baseline", LATEST)
    if not verdict.allowed:
        reasons = "; ".join(v.message for v in verdict.violations)
        yield Detection(PRIVILEGED_POD, f"{user} created {object_name(ref)}: {reasons}", event)


def _pod_template(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(metadata, spec) of the pod a Pod, workload or CronJob body describes."""
    spec = body.get("spec")
    if not isinstance(spec, MAPS):
        return None
    for key in ("jobTemplate", "template"):  # CronJob → Job → pod template; workloads → pod template
        if isinstance(spec.get(key), MAPS):
            return _pod_template(spec[key])
    return mapping_of(body.get("metadata")), spec


_CLASSIFY = Classifier()
GRANT_DANGERS = {Danger.ALL_ACCESS, Danger.READ_SECRETS, Danger.ESCALATE, Danger.BIND, Danger.IMPERSONATE}
POWERFUL_ROLES = frozenset({"cluster-admin", "admin"})


def _rbac(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if event.get("verb") not in ("create", "update", "patch") or not _allowed(event):
        return
    body = event.get("requestObject")
    if not isinstance(body, MAPS):
        return
    resource = ref.get("resource")
    if resource in ("clusterrolebindings", "rolebindings"):
        role = mapping_of(body.get("roleRef"))
        if role.get("name") in POWERFUL_ROLES:
            yield Detection(RBAC_GRANT, f"{user} bound {role.get('name')} with {object_name(ref)}", event)
    elif resource in ("clusterroles", "roles"):
        rules, _ = read_rules(body.get("rules"), RuleInterner(), lambda code, message: None, resource == "roles")
        dangers = {m.danger for rule in rules for m in _CLASSIFY(rule, resource == "roles")} & GRANT_DANGERS
        if dangers:
            listed = ", ".join(sorted(d.value for d in dangers))
            yield Detection(RBAC_GRANT, f"{user} wrote {object_name(ref)} granting {listed}", event)


def _tokens(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if event.get("verb") in ("create", "update", "patch") and _allowed(event) and _person(user):
        yield Detection(TOKEN_OR_CSR, f"{user} {event.get('verb')}d {object_name(ref)}", event)


def _token_request(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if ref.get("subresource") == "token":
        yield from _tokens(event, ref, user)


def _admission(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if event.get("verb") in ("create", "update", "patch", "delete", "deletecollection") and _allowed(event):
        yield Detection(WEBHOOK_CHANGE, f"{user} {event.get('verb')} {object_name(ref)}", event)


def _events(event: Mapping[str, Any], ref: Mapping[str, Any], user: str) -> Iterator[Detection]:
    if event.get("verb") in ("delete", "deletecollection") and _allowed(event) and _person(user):
        yield Detection(EVENTS_DELETED, f"{user} deleted {object_name(ref)}", event)


BY_RESOURCE: Mapping[str, tuple[Check, ...]] = {
    "pods": (_exec, _pods),
    "nodes": (_exec,),  # nodes/proxy
    "secrets": (_secrets,),
    **dict.fromkeys(WORKLOAD_RESOURCES - {"pods"}, (_pods,)),
    "clusterrolebindings": (_rbac,),
    "rolebindings": (_rbac,),
    "clusterroles": (_rbac,),
    "roles": (_rbac,),
    "serviceaccounts": (_token_request,),
    "certificatesigningrequests": (_tokens,),
    "validatingwebhookconfigurations": (_admission,),
    "mutatingwebhookconfigurations": (_admission,),
    "validatingadmissionpolicies": (_admission,),
    "validatingadmissionpolicybindings": (_admission,),
    "events": (_events,),
}


class EventMatcher(Protocol):
    """A detection users wrote (`stockade.audit.user_rules.UserDetection`)."""

    @property
    def info(self) -> DetectionInfo: ...

    def matches(self, event: Mapping[str, Any]) -> bool: ...


class Detector:
    """Every detection over a stream of Events, with the little memory repeated denials need;
    ``extra``: detections users wrote, run on every Event after the built-in ones."""

    def __init__(self, config: AuditConfig = AuditConfig(), extra: Iterable[EventMatcher] = ()) -> None:
        self.config = config
        self.extra = tuple(extra)
        self.events = 0
        self._denials: dict[str, deque[float]] = defaultdict(deque)
        self._reported_denials: dict[str, float] = {}

    def run(self, events: Iterable[Mapping[str, Any]]) -> Iterator[Detection]:
        for event in events:
            self.events += 1
            yield from self.check(event)

    def check(self, event: Mapping[str, Any]) -> Iterator[Detection]:
        if event.get("stage") == "RequestReceived":
            return  # the same request is judged at its completing stage
        user_info = event.get("user")
        user_info = user_info if isinstance(user_info, MAPS) else {}
        user = str(user_info.get("username", ""))
        ref = event.get("objectRef")
        if isinstance(ref, MAPS):
            for check in BY_RESOURCE.get(str(ref.get("resource")), ()):
                yield from check(event, ref, user)
        groups = user_info.get("groups")
        if (isinstance(groups, list) and MASTERS in groups) or user in self.config.break_glass:
            who = f"{user} (break-glass)" if user in self.config.break_glass else f"{user} in {MASTERS}"
            yield Detection(MASTERS_USE, f"{who}: {event.get('verb')} {event.get('requestURI')}", event)
        if user == ANONYMOUS and _allowed(event) and not str(event.get("requestURI", "")).startswith(HEALTH_PATHS):
            yield Detection(ANONYMOUS_ALLOWED, f"anonymous {event.get('verb')} {event.get('requestURI')}", event)
        impersonated = event.get("impersonatedUser")
        if isinstance(impersonated, MAPS):
            yield Detection(IMPERSONATION, f"{user} acted as {impersonated.get('username')}", event)
        if _code(event) == 403:
            yield from self._denied(event, user)
        if self.config.networks:
            yield from self._outside(event, user)
        if self.config.gitops and isinstance(ref, MAPS):
            found = hand_write_in_gitops_namespace(event, ref, user, self.config.gitops)
            if found is not None:
                yield found
        for custom in self.extra:
            if custom.matches(event):
                yield Detection(custom.info, f"{user}: {event.get('verb')} {event.get('requestURI')}", event)

    def _denied(self, event: Mapping[str, Any], user: str) -> Iterator[Detection]:
        moment = _seconds(event)
        window = self._denials[user]
        window.append(moment)
        while window and moment - window[0] > self.config.denial_window:
            window.popleft()
        last = self._reported_denials.get(user)
        if len(window) >= self.config.denial_threshold and (last is None or moment - last > self.config.denial_window):
            self._reported_denials[user] = moment
            yield Detection(
                DENIALS, f"{user}: {len(window)} denied requests within {self.config.denial_window:g} s", event
            )

    def _outside(self, event: Mapping[str, Any], user: str) -> Iterator[Detection]:
        ips = event.get("sourceIPs")
        # The last address is the one the API server saw; the others can be set by the client.
        address = ips[-1] if isinstance(ips, list) and ips else None
        try:
            ip = ipaddress.ip_address(str(address))
        except ValueError:
            return
        if not any(ip in network for network in self.config.networks):
            yield Detection(OUTSIDE, f"{user} from {ip}", event)


WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# What controllers keep up to date in every namespace; git never holds them.
DERIVED_RESOURCES = frozenset({"events", "leases", "endpoints", "endpointslices", "controllerrevisions"})
# Writes through these change the object (kubectl scale, debug, resize); exec, logs and status do not.
CHANGING_SUBRESOURCES = frozenset({"", "scale", "ephemeralcontainers", "resize"})
CONTROL_PLANE_PREFIXES = ("system:node:", "system:kube-", "system:apiserver", "system:serviceaccount:kube-system:")


def hand_write_in_gitops_namespace(
    event: Mapping[str, Any], ref: Mapping[str, Any], user: str, scope: GitOpsScope
) -> Detection | None:
    """A write to a namespace only git should change, by neither the operator, the control plane,
    nor the namespace's own workloads: a person (any client), or another namespace's
    ServiceAccount driven by a hand-held client such as kubectl in a CI job."""
    namespace = ref.get("namespace")
    if (
        namespace not in scope.managed
        or event.get("verb") not in WRITE_VERBS
        or str(ref.get("subresource") or "") not in CHANGING_SUBRESOURCES
        or ref.get("resource") in DERIVED_RESOURCES
        or ref.get("apiGroup") in GITOPS_GROUPS
        or not _allowed(event)
        or user in scope.operators
        or user.startswith(CONTROL_PLANE_PREFIXES)
        or user.startswith(f"system:serviceaccount:{namespace}:")
    ):
        return None
    agent = str(event.get("userAgent") or "")
    if user.startswith("system:serviceaccount:") and not by_hand(agent):
        return None  # another namespace's controller (cert-manager, an ingress controller) doing its job
    client = agent.split(" ", 1)[0] or "an unknown client"
    return Detection(
        GITOPS_WRITE,
        f"{user} {event.get('verb')} {object_name(ref)} with {client}, outside {scope.managed[str(namespace)]}",
        event,
    )


def _seconds(event: Mapping[str, Any]) -> float:
    """Seconds of the event's timestamp (RFC 3339); 0 when missing (denials then share one window)."""
    text = str(event.get("requestReceivedTimestamp") or event.get("stageTimestamp") or "")
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
