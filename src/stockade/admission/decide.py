"""The decision for one admission request: Pod Security, then Stockade's rules, in their modes.

Stockade's rules judge the object exactly as ``stockade scan`` judges a file holding only that
object (:func:`stockade.engine.evaluate.evaluate` on a one-object inventory): the same rule ids,
messages, fingerprints, severities, exceptions files and ``stockade.io/ignore`` annotations. The
rule selection, aliases and exceptions are built once (:class:`AdmissionDecider`), so a request
costs the evaluation of its object and nothing more. Secret values are blanked before any rule
reads the object (:mod:`stockade.sources.redaction`), as every source does.

Each open finding takes its rule's mode:

- ``enforce``: the request is denied (403), the message listing each rule id and message; on an
  UPDATE only findings that are new or worse (higher severity, same fingerprint) than on
  ``oldObject`` deny, the others come back as warnings;
- ``warn``: one AdmissionReview warning per finding;
- ``audit``: an audit annotation per rule (key: the rule id; the API server prefixes the webhook
  name, so keys carry no ``/``);
- ``dry-run``: nothing in the answer; the decision lists it for the log and the metrics.

A rule that raised (an ``error`` finding) in enforce mode, an object the rules cannot read, and any
internal error are answered by the failure policy: ``Fail`` denies (500), ``Ignore`` allows with a
warning. Exceptions-file entries also match an object through its controller (the
``ownerReferences`` entry with ``controller: true``, and for a ReplicaSet's pod the Deployment its
``pod-template-hash`` names), so an exception for a DaemonSet covers the pods it creates, as a
scan of the cluster judges those pods on their controller.

Requests of exempt namespaces, users or groups, subresources (but a pod's
``ephemeralcontainers``), DELETE and CONNECT are not judged by the rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stockade.admission.config import AdmissionConfig, FailurePolicy, Mode
from stockade.admission.namespaces import NamespaceLabels, StaticNamespaces
from stockade.admission.podsecurity import PodSecurityAdmission, PsaOutcome
from stockade.admission.review import AdmissionRequest
from stockade.api import catalogue, template_paths
from stockade.engine.evaluate import evaluate
from stockade.engine.waivers import WaiverBook
from stockade.model.finding import Finding, Status
from stockade.model.inventory import Inventory
from stockade.model.request import RequestFacts
from stockade.model.resource import Origin, resource_from_raw
from stockade.policies.catalogue import FAMILY as POLICY_FAMILY
from stockade.rules import rule_aliases
from stockade.rules.base import Rule
from stockade.sources.redaction import redacted

log = logging.getLogger("stockade.admission")

ORIGIN: Final = Origin("admission")
RULE_SUBRESOURCES: Final = frozenset({"", "ephemeralcontainers"})
EXEMPT_KEY: Final = "stockade-exempt"
EXCEPTED_KEY: Final = "stockade-excepted"
ERROR_KEY: Final = "stockade-error"
MAX_MESSAGES_PER_RULE: Final = 5  # in an audit annotation; the rest are counted


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one finding: ``result`` is deny, warn, audit, dry-run, excepted or error."""

    rule_id: str
    mode: Mode
    result: str
    message: str
    container: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request, before it is written as an AdmissionReview."""

    allowed: bool
    code: int | None = None
    reason: str | None = None
    message: str | None = None
    warnings: tuple[str, ...] = ()
    audit_annotations: Mapping[str, str] = field(default_factory=dict)
    verdicts: tuple[Verdict, ...] = ()
    pod_security: tuple[tuple[str, str, bool], ...] = ()
    error: str | None = None  # an internal error or unreadable object the failure policy answered
    exempt: str | None = None

    @property
    def denied_rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.rule_id for v in self.verdicts if v.result == "deny"))


def failure_decision(policy: FailurePolicy, message: str, code: int = 500, reason: str = "InternalError") -> Decision:
    """What the failure policy answers when the request cannot be judged."""
    if policy == "Fail":
        return Decision(False, code, reason, message, error=message)
    return Decision(
        True,
        warnings=(f"Stockade could not check this request (allowed: failure policy Ignore): {message}",),
        audit_annotations={ERROR_KEY: message},
        error=message,
    )


class _Unreadable(Exception):
    """The object cannot be judged (not a Kubernetes object, or a shape no rule can read)."""


class AdmissionDecider:
    """Decides admission requests by ``config``; ``namespaces`` gives Pod Security the namespaces'
    labels (required when Pod Security is on). ``today`` decides exception expiry."""

    def __init__(
        self,
        config: AdmissionConfig,
        namespaces: NamespaceLabels | None = None,
        *,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        if namespaces is None and config.pod_security.enabled:
            raise ValueError("Pod Security needs the namespaces' labels (namespaces=) unless the configuration is off")
        self.config = config
        self.namespaces: NamespaceLabels = namespaces if namespaces is not None else StaticNamespaces({})
        self.pod_security = PodSecurityAdmission(config.pod_security, self.namespaces)
        self.rules = list(config.rules)
        self.builtin_rules = [rule for rule in self.rules if rule.family != POLICY_FAMILY]
        self.modes = config.rule_modes
        self.aliases = rule_aliases(catalogue(config.policies))
        self.template_paths = template_paths(config.pod_templates)
        self.waivers = list(config.waivers)
        self.today = today

    def decide(self, request: AdmissionRequest) -> Decision:
        """The decision for ``request``; an unexpected error is answered by the failure policy."""
        if request.operation not in ("CREATE", "UPDATE"):
            return Decision(True)
        try:
            psa = self.pod_security.validate(request)
            rules = self._rules(request)
        except Exception as exc:
            log.exception("admission of %s failed", request.display)
            return failure_decision(self.config.failure_policy, f"internal error ({type(exc).__name__})")
        return _combined(psa, rules)

    # -- Stockade's rules ------------------------------------------------------------------------
    def _rules(self, request: AdmissionRequest) -> Decision:
        if request.sub_resource not in RULE_SUBRESOURCES or request.object is None or not self.rules:
            return Decision(True)
        exempt = self.config.exemptions.reason(request.namespace, request.user.username, request.user.groups)
        if exempt is not None:
            return Decision(True, audit_annotations={EXEMPT_KEY: exempt}, exempt=exempt)
        today = self.today()
        try:
            findings = self.findings(request.object, request, today, self._facts(request))
            before = None
            if request.operation == "UPDATE" and request.old_object is not None:
                # Only the built-in rules compare with the old object (user policies see it themselves).
                before = self.findings(
                    request.old_object, request, today, self._facts(None, request.namespace), self.builtin_rules
                )
        except _Unreadable as problem:
            return failure_decision(
                self.config.failure_policy, f"{request.display} cannot be checked: {problem}", 400, "BadRequest"
            )
        return self._judged(findings, before)

    def _facts(self, request: AdmissionRequest | None, namespace: str = "") -> RequestFacts:
        """What user policies read of the request (``None``: judge the object as if created)."""
        name = request.namespace if request is not None else namespace
        known = self.namespaces.labels(name) if name else None
        labels = {str(k): v for k, v in known.items() if isinstance(v, str)} if known is not None else None
        if request is None:
            return RequestFacts(namespace_labels=labels)
        user = request.raw.get("userInfo")
        return RequestFacts(
            operation=request.operation,
            old_object=request.old_object,
            user_info=user if isinstance(user, Mapping) else {},
            sub_resource=request.sub_resource,
            dry_run=request.dry_run,
            namespace_labels=labels,
        )

    def findings(
        self,
        raw: Mapping[str, Any],
        request: AdmissionRequest,
        today: dt.date,
        facts: RequestFacts | None = None,
        rules: list[Rule] | None = None,
    ) -> list[Finding]:
        """The findings of the selected rules on one object, as a scan of it alone gives them
        (excepted ones included), plus the exceptions matched through its controller. ``facts``:
        the request as user policies read it."""
        resource = resource_from_raw(_as_sent(raw, request), ORIGIN)
        if isinstance(resource, str):
            raise _Unreadable(resource)
        result = evaluate(
            Inventory([resource], self.template_paths),
            self.rules if rules is None else rules,
            config=self.config.rule_config,
            exceptions=self.waivers,
            rule_aliases=self.aliases,
            today=today,
            max_findings_per_rule=0,
            severity_overrides=self.config.severity,
            request=facts,
            specific_remediations=False,  # never shown at the door
        )
        if result.errors:
            raise _Unreadable("; ".join(problem.message for problem in result.errors))
        owners = list(_controllers(resource.raw))
        if not owners or not self.waivers:
            return result.findings
        return [self._through_controller(f, owners, today) for f in result.findings]

    def _through_controller(self, finding: Finding, owners: list[tuple[str, str]], today: dt.date) -> Finding:
        if finding.status is not Status.FAIL or finding.waiver is not None:
            return finding
        book = WaiverBook(self.waivers)
        namespace = finding.resource.namespace
        for kind, name in owners:
            entry = book.find(finding.rule_id, kind, namespace, name, finding.container)
            if entry is not None and not entry.waiver(today).expired:
                return dataclasses.replace(finding, status=Status.EXCEPTED, waiver=entry.waiver(today))
        return finding

    def _judged(self, findings: list[Finding], before: list[Finding] | None) -> Decision:
        worst_before = {f.fingerprint: f.severity.rank for f in before or () if f.status is Status.FAIL}
        verdicts: list[Verdict] = []
        denials: list[Finding] = []
        warnings: list[str] = []
        audited: dict[str, list[str]] = {}
        excepted: list[str] = []
        errors: list[Finding] = []
        for found in findings:
            mode = self.modes.get(found.rule_id)
            if mode is None:
                continue
            text = f"[{found.rule_id}] {found.message}"
            if found.status is Status.EXCEPTED:
                verdicts.append(Verdict(found.rule_id, mode, "excepted", found.message, found.container))
                excepted.append(found.rule_id)
                continue
            if found.status is Status.ERROR:
                verdicts.append(Verdict(found.rule_id, mode, "error", found.message, found.container))
                if mode == "enforce":
                    errors.append(found)
                elif mode == "warn":
                    warnings.append(text)
                elif mode == "audit":
                    audited.setdefault(found.rule_id, []).append(found.message)
                continue
            if found.status is not Status.FAIL:
                continue
            result: str = mode
            if mode == "enforce":
                rank = worst_before.get(found.fingerprint)
                # A user policy decides updates itself (it sees oldObject), as the API server runs it.
                policy = found.rule_id.startswith(f"{POLICY_FAMILY}-")
                if policy or before is None or rank is None or found.severity.rank > rank:
                    denials.append(found)
                    result = "deny"
                else:
                    warnings.append(f"{text} (there before this update, so allowed)")
                    result = "warn"
            elif mode == "warn":
                warnings.append(text)
            elif mode == "audit":
                audited.setdefault(found.rule_id, []).append(found.message)
            verdicts.append(Verdict(found.rule_id, mode, result, found.message, found.container))
        annotations = {rule: _joined(messages) for rule, messages in audited.items()}
        if excepted:
            annotations[EXCEPTED_KEY] = ",".join(dict.fromkeys(excepted))
        error = None
        if errors:
            error = "; ".join(f"[{f.rule_id}] {f.message}" for f in errors)
            failed = failure_decision(self.config.failure_policy, error)
            if not failed.allowed:
                return dataclasses.replace(failed, verdicts=tuple(verdicts), warnings=tuple(warnings))
            warnings.extend(failed.warnings)
            annotations.update(failed.audit_annotations)
        if denials:
            listed = "; ".join(f"[{f.rule_id} {self._name(f.rule_id)}] {f.message}" for f in denials)
            return Decision(
                False,
                403,
                "Forbidden",
                f"Stockade denied the request: {listed}",
                tuple(warnings),
                annotations,
                tuple(verdicts),
                error=error,
            )
        return Decision(
            True, warnings=tuple(warnings), audit_annotations=annotations, verdicts=tuple(verdicts), error=error
        )

    def _name(self, rule_id: str) -> str:
        return next((r.name for r in self.rules if r.id == rule_id), rule_id)


def _joined(messages: list[str]) -> str:
    shown = messages[:MAX_MESSAGES_PER_RULE]
    more = len(messages) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")


def _as_sent(raw: Mapping[str, Any], request: AdmissionRequest) -> dict[str, Any]:
    """The object as the rules read it: Secret values blanked, and the namespace and type the
    request names filled in where the object leaves them out (the API server places it there)."""
    copy = redacted(raw) or dict(raw)
    if not copy.get("apiVersion") and request.kind.version:
        group = request.kind.group
        copy["apiVersion"] = f"{group}/{request.kind.version}" if group else request.kind.version
    if not copy.get("kind"):
        copy["kind"] = request.kind.kind
    metadata = copy.get("metadata")
    if request.namespace and isinstance(metadata, Mapping) and not metadata.get("namespace"):
        copy["metadata"] = {**metadata, "namespace": request.namespace}
    return copy


def _controllers(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of the object's controller, and of the Deployment behind a ReplicaSet's pod."""
    metadata = raw.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, Mapping) else None
    if not isinstance(owners, list):
        return
    for owner in owners:
        if not isinstance(owner, Mapping) or owner.get("controller") is not True:
            continue
        kind, name = owner.get("kind"), owner.get("name")
        if not isinstance(kind, str) or not isinstance(name, str):
            continue
        yield kind, name
        labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
        template_hash = labels.get("pod-template-hash") if isinstance(labels, Mapping) else None
        if kind == "ReplicaSet" and isinstance(template_hash, str) and name.endswith(f"-{template_hash}"):
            yield "Deployment", name[: -len(template_hash) - 1]
        return


def _combined(psa: PsaOutcome, rules: Decision) -> Decision:
    """Pod Security's word and the rules', as one answer (either one denies)."""
    denied = [part for part in (psa, rules) if not part.allowed]
    first = denied[0] if denied else None
    messages = [part.message for part in denied if part.message]
    return Decision(
        allowed=not denied,
        code=first.code if first is not None else None,
        reason=first.reason if first is not None else None,
        message="; ".join(messages) or None,
        warnings=(*psa.warnings, *rules.warnings),
        audit_annotations={**psa.audit_annotations, **rules.audit_annotations},
        verdicts=rules.verdicts,
        pod_security=psa.evaluations,
        error=rules.error,
        exempt=rules.exempt or psa.exempt,
    )
