"""Pod Security at the door, decided as the API server's Pod Security Admission plugin decides.

What the plugin does, and so what this does (``kubernetes/pod-security-admission``, admission.go):

- **Pods** (CREATE, UPDATE, and every subresource but exec, attach, binding, eviction, log,
  portforward, proxy and status) are *enforced*: denied (403) when they fail the namespace's
  enforce level, with ``audit-violations`` and ``enforce-policy`` audit annotations and warnings
  for the warn level (no warnings on a denial; one warning per failed check, where the plugin
  writes one for all, so that each stays within the 120 characters a warning may have). An
  UPDATE that changes no container image, no seccomp annotation, no container count and adds no
  ephemeral container is allowed unchecked: the rest of a pod's spec cannot change.
- **Workload resources** (ReplicationController, PodTemplate, ReplicaSet, Deployment, StatefulSet,
  DaemonSet, Job, CronJob; no subresources) are only *warned and audited*: never denied.
- **Namespaces**: a CREATE, or an UPDATE that changes them, with ``pod-security.kubernetes.io/*``
  labels the plugin cannot parse is refused (422). Existing pods are not evaluated against a new
  enforce level here (the plugin's namespace dry run).
- Exempt namespaces and usernames are allowed with an ``exempt`` audit annotation, as is a pod
  whose ``runtimeClassName`` is exempt; a namespace whose three modes are privileged (and whose
  labels parse) is allowed at once; a namespace that cannot be looked up is an internal error
  (500) for pods and workloads alike.
- A label that names no valid level or version is replaced as the plugin replaces it (enforce:
  restricted, audit/warn: privileged, version: latest), with an ``error`` audit annotation; a
  valid level label without a version label means ``latest``, not the configured default version.

Audit annotation keys carry no ``/``: the API server prefixes them with the webhook's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from stockade.admission.config import PodSecurity
from stockade.admission.namespaces import NamespaceLabels
from stockade.admission.review import AdmissionRequest
from stockade.model.resource import EMPTY
from stockade.pss.model import LATEST, LEVELS, Level, PolicyVersion, PssResult
from stockade.pss.namespaces import MODES, Default, Mode, level_label, policy_from_labels, version_label
from stockade.pss.registry import evaluate_pod

IGNORED_POD_SUBRESOURCES: Final = frozenset(
    {"exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"}
)
# (API group, resource) -> where the pod template sits, as the plugin's default extractor reads it.
POD_CONTROLLERS: Final[Mapping[tuple[str, str], tuple[str, ...]]] = {
    ("", "replicationcontrollers"): ("spec", "template"),
    ("", "podtemplates"): ("template",),
    ("apps", "replicasets"): ("spec", "template"),
    ("apps", "deployments"): ("spec", "template"),
    ("apps", "statefulsets"): ("spec", "template"),
    ("apps", "daemonsets"): ("spec", "template"),
    ("batch", "jobs"): ("spec", "template"),
    ("batch", "cronjobs"): ("spec", "jobTemplate", "spec", "template"),
}
SECCOMP_POD_ANNOTATION: Final = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_PREFIX: Final = "container.seccomp.security.alpha.kubernetes.io/"

EXEMPT_KEY: Final = "exempt"
ENFORCE_POLICY_KEY: Final = "enforce-policy"
AUDIT_VIOLATIONS_KEY: Final = "audit-violations"
ERROR_KEY: Final = "error"


@dataclass(frozen=True, slots=True)
class LevelVersion:
    level: Level
    version: PolicyVersion

    def __str__(self) -> str:
        return f"{self.level}:{self.version}"


@dataclass(frozen=True, slots=True)
class PsaOutcome:
    """What Pod Security says of one request. ``evaluations``: (mode, policy, allowed) for metrics."""

    allowed: bool = True
    code: int | None = None
    reason: str | None = None
    message: str | None = None
    warnings: tuple[str, ...] = ()
    audit_annotations: Mapping[str, str] = field(default_factory=dict)
    evaluations: tuple[tuple[str, str, bool], ...] = ()
    exempt: str | None = None


ALLOWED: Final = PsaOutcome()


def _exempt(reason: str) -> PsaOutcome:
    return PsaOutcome(audit_annotations={EXEMPT_KEY: reason}, exempt=reason)


def _internal_error(message: str) -> PsaOutcome:
    return PsaOutcome(False, 500, "InternalError", message)


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """The level and version of each mode for one namespace, and the label values that did not parse."""

    enforce: LevelVersion
    audit: LevelVersion
    warn: LevelVersion
    errors: tuple[str, ...] = ()

    def mode(self, mode: Mode) -> LevelVersion:
        return self.enforce if mode == "enforce" else self.audit if mode == "audit" else self.warn


def policy_to_evaluate(labels: Mapping[str, object], settings: PodSecurity) -> NamespacePolicy:
    """The policy the plugin applies for a namespace with ``labels`` (see the module docstring)."""
    chosen: dict[Mode, LevelVersion] = {}
    errors: list[str] = []
    for mode in MODES:
        default = settings.default(mode)
        parsed = policy_from_labels("", labels, default).mode(mode)
        version = parsed.version
        level_valid = parsed.labelled and labels.get(level_label(mode)) in LEVELS
        if level_valid and version_label(mode) not in labels:
            version = LATEST
        chosen[mode] = LevelVersion(parsed.level, version)
    for label in sorted(labels):
        error = _label_error(label, labels[label])
        if error:
            errors.append(error)
    return NamespacePolicy(chosen["enforce"], chosen["audit"], chosen["warn"], tuple(errors))


def _label_error(label: str, value: object) -> str | None:
    """The plugin's field error for one ``pod-security.kubernetes.io/*`` label, or None."""
    for mode in MODES:
        if label == level_label(mode) and value not in LEVELS:
            return f"metadata.labels[{label}]: Invalid value: {_quoted(value)}: must be one of {', '.join(LEVELS)}"
        if label == version_label(mode):
            parsed = policy_from_labels("", {label: value}, Default()).mode(mode)
            if value != "latest" and parsed.version == LATEST:
                return f'metadata.labels[{label}]: Invalid value: {_quoted(value)}: must be "latest" or "v1.x"'
    return None


def _quoted(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else EMPTY


def _annotations(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(_mapping(raw.get("metadata")).get("annotations"))


def significant_pod_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether a pod UPDATE changes what Pod Security judges (the plugin's ``isSignificantPodUpdate``);
    a shape it cannot compare counts as a change."""
    annotations, old_annotations = _annotations(new), _annotations(old)
    if annotations.get(SECCOMP_POD_ANNOTATION) != old_annotations.get(SECCOMP_POD_ANNOTATION):
        return True
    spec, old_spec = _mapping(new.get("spec")), _mapping(old.get("spec"))
    for key in ("containers", "initContainers"):
        containers, old_containers = spec.get(key) or [], old_spec.get(key) or []
        if not isinstance(containers, list) or not isinstance(old_containers, list):
            return True
        if len(containers) != len(old_containers):
            return True
        for container, old_container in zip(containers, old_containers, strict=True):
            if _container_changed(container, old_container, annotations, old_annotations):
                return True
    ephemeral, old_ephemeral = spec.get("ephemeralContainers") or [], old_spec.get("ephemeralContainers") or []
    if not isinstance(ephemeral, list) or not isinstance(old_ephemeral, list):
        return True
    before = {_mapping(c).get("name"): c for c in old_ephemeral}
    for container in ephemeral:
        name = _mapping(container).get("name")
        if name not in before or _container_changed(container, before[name], annotations, old_annotations):
            return True
    return False


def _container_changed(
    container: object, old: object, annotations: Mapping[str, Any], old_annotations: Mapping[str, Any]
) -> bool:
    if not isinstance(container, Mapping) or not isinstance(old, Mapping):
        return True
    if container.get("image") != old.get("image"):
        return True
    key = f"{SECCOMP_CONTAINER_PREFIX}{container.get('name')}"
    return bool(annotations.get(key) != old_annotations.get(key))


def _template(raw: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any] | None:
    """The pod template at ``path`` (None when the controller holds none)."""
    node: object = raw
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node if isinstance(node, Mapping) else None


def _detail(result: PssResult) -> str:
    return ", ".join(v.message for v in result.violations)


class PodSecurityAdmission:
    """Pod Security decisions for admission requests (see the module docstring)."""

    def __init__(self, settings: PodSecurity, namespaces: NamespaceLabels) -> None:
        self.settings = settings
        self.namespaces = namespaces

    def validate(self, request: AdmissionRequest) -> PsaOutcome:
        if not self.settings.enabled or request.operation not in ("CREATE", "UPDATE"):
            return ALLOWED
        resource = (request.resource.group, request.resource.resource)
        if resource == ("", "namespaces"):
            return self._namespace(request)
        if resource == ("", "pods"):
            return self._pod(request)
        path = POD_CONTROLLERS.get(resource)
        return ALLOWED if path is None else self._controller(request, path)

    # -- the three kinds of request ---------------------------------------------------------
    def _namespace(self, request: AdmissionRequest) -> PsaOutcome:
        if request.sub_resource or request.object is None:
            return ALLOWED
        labels = _mapping(_mapping(request.object.get("metadata")).get("labels"))
        errors = policy_to_evaluate(labels, self.settings).errors
        if not errors:
            return ALLOWED
        if request.operation == "UPDATE" and request.old_object is not None:
            old_labels = _mapping(_mapping(request.old_object.get("metadata")).get("labels"))
            if policy_to_evaluate(old_labels, self.settings).errors == errors:
                return ALLOWED  # the invalid labels were already there: only a change is refused
        name = request.name or _mapping(request.object.get("metadata")).get("name") or ""
        return PsaOutcome(False, 422, "Invalid", f'Namespace "{name}" is invalid: {", ".join(errors)}')

    def _screen(self, request: AdmissionRequest) -> PsaOutcome | NamespacePolicy:
        """The exemptions and the namespace lookup, shared by pods and workloads."""
        if request.namespace and request.namespace in self.settings.exempt_namespaces:
            return _exempt("namespace")
        if request.user.username and request.user.username in self.settings.exempt_usernames:
            return _exempt("user")
        labels = self.namespaces.labels(request.namespace)
        if labels is None:
            return _internal_error(f"failed to lookup namespace {request.namespace}")
        return policy_to_evaluate(labels, self.settings)

    def _pod(self, request: AdmissionRequest) -> PsaOutcome:
        if request.sub_resource in IGNORED_POD_SUBRESOURCES or request.object is None:
            return ALLOWED
        screened = self._screen(request)
        if isinstance(screened, PsaOutcome):
            return screened
        privileged = all(screened.mode(m).level == "privileged" for m in MODES)
        if privileged and not screened.errors:
            return PsaOutcome(evaluations=(("enforce", str(screened.enforce), True),))
        pod = request.object
        old = request.old_object
        if request.operation == "UPDATE" and old is not None and not significant_pod_update(pod, old):
            return ALLOWED
        return self._evaluate(screened, _mapping(pod.get("metadata")), pod.get("spec"), enforce=True)

    def _controller(self, request: AdmissionRequest, path: Sequence[str]) -> PsaOutcome:
        if request.sub_resource or request.object is None:
            return ALLOWED
        screened = self._screen(request)
        if isinstance(screened, PsaOutcome):
            return screened
        quiet = screened.warn.level == "privileged" and screened.audit.level == "privileged"
        if quiet and not screened.errors:
            return ALLOWED
        template = _template(request.object, path)
        if template is None:
            return ALLOWED
        return self._evaluate(screened, _mapping(template.get("metadata")), template.get("spec"), enforce=False)

    # -- evaluation ----------------------------------------------------------------------------
    def _evaluate(
        self, policy: NamespacePolicy, metadata: Mapping[str, Any], spec: object, *, enforce: bool
    ) -> PsaOutcome:
        runtime_class = _mapping(spec).get("runtimeClassName")
        if isinstance(runtime_class, str) and runtime_class in self.settings.exempt_runtime_classes:
            return _exempt("runtimeClass")
        annotations: dict[str, str] = {}
        if policy.errors:
            annotations[ERROR_KEY] = f"Failed to parse policy: {', '.join(policy.errors)}"
        results: dict[LevelVersion, PssResult] = {}

        def evaluated(level_version: LevelVersion) -> PssResult:
            found = results.get(level_version)
            if found is None:
                # A spec that is not a mapping is judged malformed by the evaluator (denied), as
                # the plugin would refuse to decode it.
                pod_spec = cast(Mapping[str, Any], spec)
                found = results[level_version] = evaluate_pod(
                    metadata, pod_spec, level_version.level, level_version.version
                )
            return found

        evaluations: list[tuple[str, str, bool]] = []
        allowed, code, reason, message = True, None, None, None
        if enforce:
            annotations[ENFORCE_POLICY_KEY] = str(policy.enforce)
            result = evaluated(policy.enforce)
            evaluations.append(("enforce", str(policy.enforce), result.allowed))
            if not result.allowed:
                allowed, code, reason = False, 403, "Forbidden"
                message = f'pod violates PodSecurity "{policy.enforce}": {_detail(result)}'
        audit = evaluated(policy.audit)
        if not audit.allowed:
            annotations[AUDIT_VIOLATIONS_KEY] = f'would violate PodSecurity "{policy.audit}": {_detail(audit)}'
            evaluations.append(("audit", str(policy.audit), False))
        warnings: list[str] = []
        if allowed:
            warned = evaluated(policy.warn)
            if not warned.allowed:
                # One warning per check, so each stays readable within the API server's length limit.
                warnings = [f'would violate PodSecurity "{policy.warn}": {v.message}' for v in warned.violations]
                evaluations.append(("warn", str(policy.warn), False))
        return PsaOutcome(allowed, code, reason, message, tuple(warnings), annotations, tuple(evaluations))
