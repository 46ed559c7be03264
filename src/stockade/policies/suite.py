"""``stockade policy test`` for ValidatingAdmissionPolicies (and any user policy): a small suite
format saying, for each object, what the policies should answer.

::

    apiVersion: stockade.io/v1alpha1
    kind: PolicyTest
    metadata: {name: require-team-label}
    policies: [policy.yaml]           # files or directories, relative to this file: the policies,
                                      # their bindings and params
    cases:
    - name: a deployment without the label is denied
      object: samples/unlabelled.yaml # a file (relative) or the object inline
      expect: deny                    # allow | deny | warn | audit | error
      messages: ["team label"]        # each must be part of some violation's message
    - name: an update that keeps the label
      operation: UPDATE               # default CREATE (UPDATE when oldObject is given)
      object: {...}
      oldObject: {...}
      namespace: {name: shop, labels: {env: prod}}   # the Namespace object the policies see
      userInfo: {username: alice, groups: [dev]}
      expect: allow

``expect`` is the strongest action among the violations of every policy read (deny over warn over
audit); ``allow`` means no violation; ``error`` means a policy could not be evaluated. A policy
that fails to load fails every case of the suite, with its problem as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.errors import ConfigFileError
from stockade.model.inventory import Inventory
from stockade.model.request import RequestFacts
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.policies.catalogue import UserPolicy
from stockade.policies.load import PolicySet, read_policies
from stockade.policies.model import Action, PolicyOutcome
from stockade.policies.request import NAME_LABEL, policy_request
from stockade.rules.base import RuleContext
from stockade.sources.configfile import read_config_file

SUITE_API_VERSION = "stockade.io/v1alpha1"
SUITE_KIND = "PolicyTest"
EXPECTATIONS = ("allow", "deny", "warn", "audit", "error")
_ORDER = ((Action.DENY, "deny"), (Action.WARN, "warn"), (Action.AUDIT, "audit"), (Action.DRYRUN, "allow"))


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case of one suite: passed, or why not. ``engine``: which engine ran it (``cel``,
    ``rego``) where a policy has more than one."""

    suite: str
    test: str
    case: str
    passed: bool
    why: str = ""
    engine: str = ""


class SuiteError(Exception):
    """A suite file that cannot be run as written (names the file and what is wrong)."""


def is_policy_test(document: object) -> bool:
    return isinstance(document, Mapping) and document.get("kind") == SUITE_KIND


def run_policy_test(path: str | Path) -> list[CaseResult]:
    """Every case of the PolicyTest in ``path``; raises :class:`SuiteError` for a malformed suite."""
    path = Path(path)
    document = _read(path)
    if not is_policy_test(document) or not isinstance(document, Mapping):
        raise SuiteError(f"{path}: not a {SUITE_KIND} (kind: {SUITE_KIND}, apiVersion: {SUITE_API_VERSION})")
    if document.get("apiVersion") != SUITE_API_VERSION:
        raise SuiteError(f"{path}: apiVersion must be {SUITE_API_VERSION}, found {document.get('apiVersion')!r}")
    metadata = document.get("metadata")
    name = str(metadata.get("name")) if isinstance(metadata, Mapping) and metadata.get("name") else path.stem
    listed = document.get("policies")
    if not isinstance(listed, list) or not listed or not all(isinstance(p, str) and p for p in listed):
        raise SuiteError(f"{path}: policies must list the files or directories holding the policies")
    cases = document.get("cases")
    if not isinstance(cases, list) or not cases:
        raise SuiteError(f"{path}: cases must list at least one case")
    policies = read_policies([str(path.parent / p) for p in listed])
    results = []
    for index, case in enumerate(cases):
        where = f"{path}: cases[{index}]"
        if not isinstance(case, Mapping):
            raise SuiteError(f"{where}: each case is a mapping")
        case_name = str(case.get("name") or f"case {index + 1}")
        results.append(_run_case(name, case_name, case, policies, path.parent, where))
    return results


def _run_case(
    suite: str, name: str, case: Mapping[str, Any], policies: PolicySet, base: Path, where: str
) -> CaseResult:
    expect = case.get("expect")
    if expect not in EXPECTATIONS:
        raise SuiteError(f"{where}: expect must be one of {', '.join(EXPECTATIONS)}, found {expect!r}")
    wanted = case.get("messages", [])
    if not isinstance(wanted, list) or not all(isinstance(m, str) for m in wanted):
        raise SuiteError(f"{where}: messages must be a list of strings")
    if policies.problems:
        reasons = "; ".join(f"{p.source}: {p.message}" for p in policies.problems)
        return CaseResult(suite, name, name, False, f"the policies could not all be read: {reasons}")
    resource = _object(case.get("object"), base, f"{where}: object")
    old = case.get("oldObject")
    old_raw = _object(old, base, f"{where}: oldObject").raw if old is not None else None
    operation = case.get("operation", "UPDATE" if old_raw is not None else "CREATE")
    if operation not in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        raise SuiteError(f"{where}: operation must be CREATE, UPDATE, DELETE or CONNECT, found {operation!r}")
    namespace = _namespace(case.get("namespace"), resource, where)
    user = case.get("userInfo", {})
    if not isinstance(user, Mapping):
        raise SuiteError(f"{where}: userInfo must be a mapping")
    inventory = Inventory([resource, *([namespace] if namespace is not None else [])])
    facts = RequestFacts(operation=str(operation), old_object=old_raw, user_info=user)
    ctx = RuleContext.of(inventory, request=facts)
    request = policy_request(resource, ctx)
    outcomes: list[tuple[UserPolicy, PolicyOutcome]] = [
        (policy, outcome) for policy in policies.policies for outcome in policy.judge(request, ctx)
    ]
    got, messages = _verdict(outcomes)
    if got != expect:
        detail = f": {'; '.join(messages)}" if messages else ""
        return CaseResult(suite, name, name, False, f"expected {expect}, got {got}{detail}")
    missing = [m for m in wanted if not any(m in message for message in messages)]
    if missing:
        return CaseResult(suite, name, name, False, f"no message contains {missing[0]!r} (messages: {messages})")
    return CaseResult(suite, name, name, True)


def _verdict(outcomes: Sequence[tuple[UserPolicy, PolicyOutcome]]) -> tuple[str, list[str]]:
    messages: list[str] = []
    actions: set[Action] = set()
    errors: list[str] = []
    for policy, outcome in outcomes:
        if not outcome.applies:
            continue
        if outcome.error is not None:
            errors.append(f"{policy.rule_id}: {outcome.error}")
            continue
        for violation in outcome.violations:
            messages.append(violation.message)
            actions |= violation.actions or policy.actions
    if errors:
        return "error", errors
    for action, word in _ORDER:
        if action in actions:
            return word, messages
    return "allow", messages


def _read(path: Path) -> object:
    try:
        return read_config_file(str(path))
    except ConfigFileError as exc:
        raise SuiteError(str(exc)) from None


def _object(value: object, base: Path, where: str) -> Resource:
    raw = _read(base / value) if isinstance(value, str) else value
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: expected a Kubernetes object or the file holding one")
    resource = resource_from_raw(raw, Origin(str(base / value) if isinstance(value, str) else where))
    if isinstance(resource, str):
        raise SuiteError(f"{where}: {resource}")
    return resource


def _namespace(value: object, resource: Resource, where: str) -> Resource | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SuiteError(f"{where}: namespace must be a mapping (name, labels)")
    name = value.get("name") or resource.namespace
    labels = value.get("labels", {})
    if not isinstance(name, str) or not isinstance(labels, Mapping):
        raise SuiteError(f"{where}: namespace needs a name (or an object with one) and labels as a mapping")
    # The API server sets the name label on every namespace.
    labels = {NAME_LABEL: name, **labels}
    raw = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    found = resource_from_raw(raw, Origin(where))
    assert not isinstance(found, str)
    return found
