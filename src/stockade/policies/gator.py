"""Gatekeeper's gator suites (``kind: Suite``, ``test.gatekeeper.sh/v1alpha1``), run as
``gator verify`` runs them, once per engine the template provides.

Each test names a template and a constraint (files relative to the suite); each case an object
(a plain object, or an AdmissionReview whose request gives the operation and the old object), an
optional ``inventory`` (objects Rego sees as ``data.inventory``) and assertions:
``violations: yes | no | N`` (default ``yes``) counting the violations whose message matches the
optional ``message`` regular expression.

As gator does: a test or case with ``skip: true`` is not run (and not reported); a test with
``invalid: true`` passes when its constraint is refused by the template's schema (its cases are not
run); a case's object file holds exactly one object, while an inventory file may hold several
(``---``-separated, or a ``List``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from stockade.errors import ConfigFileError
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.policies.gatekeeper import Constraint, bind_constraint, compile_template
from stockade.policies.model import PolicyDefinitionError, PolicyRequest
from stockade.policies.request import policy_request
from stockade.policies.suite import CaseResult, SuiteError
from stockade.rules.base import RuleContext
from stockade.sources.configfile import parse_config_text, read_config_file, read_config_text
from stockade.sources.documents import split_documents

SUITE_API_VERSION: Final = "test.gatekeeper.sh/v1alpha1"


def is_gator_suite(document: object) -> bool:
    return isinstance(document, Mapping) and document.get("kind") == "Suite"


def run_suite(path: str | Path, engines: tuple[str, ...] | None = None) -> list[CaseResult]:
    """Every case of the suite at ``path`` with every engine of its templates (or ``engines``);
    :class:`SuiteError` for a suite that cannot be read."""
    path = Path(path)
    document = _read(path)
    if not is_gator_suite(document) or not isinstance(document, Mapping):
        raise SuiteError(f"{path}: not a gator Suite (kind: Suite, apiVersion: {SUITE_API_VERSION})")
    metadata = document.get("metadata")
    suite = str(metadata.get("name")) if isinstance(metadata, Mapping) and metadata.get("name") else path.stem
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests:
        raise SuiteError(f"{path}: tests must list at least one test")
    results: list[CaseResult] = []
    for index, test in enumerate(tests):
        where = f"{path}: tests[{index}]"
        if isinstance(test, Mapping) and test.get("skip") is True:
            continue
        if isinstance(test, Mapping) and test.get("invalid") is True:
            results.extend(_run_invalid(suite, str(test.get("name") or f"test {index + 1}"), test, path.parent))
            continue
        if not isinstance(test, Mapping) or not isinstance(test.get("cases"), list):
            raise SuiteError(f"{where}: a test needs template, constraint and cases")
        results.extend(
            _run_test(suite, str(test.get("name") or f"test {index + 1}"), test, path.parent, where, engines)
        )
    return results


def _run_test(
    suite: str, name: str, test: Mapping[str, Any], base: Path, where: str, engines: tuple[str, ...] | None
) -> list[CaseResult]:
    cases = [c for c in test["cases"] if isinstance(c, Mapping) and c.get("skip") is not True]
    names = [str(c.get("name") or f"case {n + 1}") for n, c in enumerate(cases)]
    try:
        template_file = base / str(test.get("template"))
        template = compile_template(_mapping(_read(template_file), template_file), str(template_file))
        constraint_file = base / str(test.get("constraint"))
        raw_constraint = _mapping(_read(constraint_file), constraint_file)
        if raw_constraint.get("kind") != template.kind:
            kind = raw_constraint.get("kind")
            raise PolicyDefinitionError(f"{constraint_file}: kind {kind!r} is not the template's {template.kind!r}")
        chosen = [e for e in template.engines if engines is None or e in engines]
        constraints = {e: bind_constraint(template, raw_constraint, str(constraint_file), e) for e in chosen}
    except (PolicyDefinitionError, SuiteError) as exc:
        return [CaseResult(suite, name, case, False, f"cannot load the policy: {exc}") for case in names]
    results = []
    for engine, constraint in constraints.items():
        for case_name, case in zip(names, cases, strict=True):
            try:
                why = _run_case(constraint, case, base, f"{where}: case {case_name!r}")
            except SuiteError as exc:
                why = str(exc)
            results.append(CaseResult(suite, name, case_name, why is None, why or "", engine))
    return results


def _run_invalid(suite: str, name: str, test: Mapping[str, Any], base: Path) -> list[CaseResult]:
    """A test whose constraint must be refused by the template's schema: one result, for the test."""
    case = "the constraint is refused"
    try:
        template_file = base / str(test.get("template"))
        template = compile_template(_mapping(_read(template_file), template_file), str(template_file))
        constraint_file = base / str(test.get("constraint"))
        bind_constraint(template, _mapping(_read(constraint_file), constraint_file), str(constraint_file))
    except PolicyDefinitionError as exc:
        if "do not match" in str(exc):
            return [CaseResult(suite, name, case, True)]
        return [CaseResult(suite, name, case, False, f"expected a schema error, got: {exc}")]
    except SuiteError as exc:
        return [CaseResult(suite, name, case, False, f"cannot load the policy: {exc}")]
    return [
        CaseResult(suite, name, case, False, "expected the constraint to be refused by the schema, it was accepted")
    ]


def _run_case(constraint: Constraint, case: Mapping[str, Any], base: Path, where: str) -> str | None:
    """None when the case passes, else why not."""
    request, resource = _request(case.get("object"), base, where)
    listed = case.get("inventory") or []
    if not isinstance(listed, list):
        raise SuiteError(f"{where}: inventory must list files")
    inventory_objects = [
        _object(raw, f"{where}: inventory {item}") for item in listed for raw in _read_all(base / str(item))
    ]
    # The object's Namespace, when the inventory holds it, is what namespaceSelector reads.
    ctx = RuleContext.of(Inventory([*([resource] if resource is not None else []), *inventory_objects]))
    full = _merged(policy_request(resource, ctx), request) if resource is not None else request
    outcome = constraint.evaluate(full, _inventory_document(inventory_objects) if inventory_objects else None)
    if outcome.error is not None:
        return f"the constraint could not be evaluated: {outcome.error}"
    messages = [v.message for v in outcome.violations]
    assertions = case.get("assertions")
    if not isinstance(assertions, list) or not assertions:
        raise SuiteError(f"{where}: assertions must list at least one assertion")
    for assertion in assertions:
        why = _check(assertion, messages, where)
        if why is not None:
            return why
    return None


def _check(assertion: object, messages: list[str], where: str) -> str | None:
    if not isinstance(assertion, Mapping):
        raise SuiteError(f"{where}: an assertion is a mapping")
    pattern = assertion.get("message")
    matching = messages
    if pattern is not None:
        try:
            compiled = re.compile(str(pattern))
        except re.error as exc:
            raise SuiteError(f"{where}: message {pattern!r} is not a regular expression: {exc}") from None
        matching = [m for m in messages if compiled.search(m)]
    wanted = assertion.get("violations", "yes")
    about = f" matching {pattern!r}" if pattern is not None else ""
    if wanted in ("yes", True):
        return None if matching else f"expected violations{about}, got none (all: {messages})"
    if wanted in ("no", False):
        return None if not matching else f"expected no violations{about}, got {matching}"
    if isinstance(wanted, int) and wanted >= 0:
        return (
            None if len(matching) == wanted else f"expected {wanted} violations{about}, got {len(matching)}: {matching}"
        )
    raise SuiteError(f"{where}: violations must be yes, no or a count, found {wanted!r}")


# -- objects ------------------------------------------------------------------------------------------
def _read(path: Path) -> object:
    try:
        return read_config_file(str(path))
    except ConfigFileError as exc:
        raise SuiteError(str(exc)) from None


def _read_all(path: Path) -> list[object]:
    """Every document of ``path`` (a ``List``'s items in its place); SuiteError when none."""
    try:
        text = read_config_text(str(path))
        documents = [
            parse_config_text(str(path), text[segment.start : segment.end])
            for segment in split_documents(text)
            if not segment.empty
        ]
    except ConfigFileError as exc:
        raise SuiteError(str(exc)) from None
    found: list[object] = []
    for document in documents:
        items = document.get("items") if isinstance(document, Mapping) and document.get("kind") == "List" else None
        found.extend(items if isinstance(items, list) else [document])
    if not found:
        raise SuiteError(f"{path}: holds no object")
    return found


def _mapping(value: object, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SuiteError(f"{path}: expected one object")
    return value


def _object(raw: object, where: str) -> Resource:
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: expected a Kubernetes object")
    resource = resource_from_raw(raw, Origin(where))
    if isinstance(resource, str):
        raise SuiteError(f"{where}: {resource}")
    return resource


def _request(value: object, base: Path, where: str) -> tuple[PolicyRequest, Resource | None]:
    """The case's object as a request: a plain object is a CREATE of it; an AdmissionReview gives
    its request's operation, object and old object."""
    if not isinstance(value, str):
        raise SuiteError(f"{where}: object must name a file")
    documents = _read_all(base / value)
    if len(documents) != 1:
        raise SuiteError(f"{where}: {value} holds {len(documents)} objects; a case reviews exactly one")
    raw = documents[0]
    if isinstance(raw, Mapping) and raw.get("kind") == "AdmissionReview":
        request = raw.get("request")
        if not isinstance(request, Mapping):
            raise SuiteError(f"{where}: the AdmissionReview has no request")
        obj, old = request.get("object"), request.get("oldObject")
        source = obj if isinstance(obj, Mapping) else old
        resource = _object(source, f"{where}: object")
        ctx = RuleContext.of(Inventory([resource]))
        made = policy_request(resource, ctx)
        operation = str(request.get("operation") or "CREATE")
        user = request.get("userInfo")
        return (
            PolicyRequest(
                object=obj if isinstance(obj, Mapping) else None,
                kind=made.kind,
                resource=made.resource,
                operation=operation,
                old_object=old if isinstance(old, Mapping) else None,
                name=made.name,
                namespace=str(request.get("namespace") or made.namespace),
                user_info=user if isinstance(user, Mapping) else {},
                namespace_object=made.namespace_object,
            ),
            None,
        )
    resource = _object(raw, f"{where}: object")
    return policy_request(resource, RuleContext.of(Inventory([resource]))), resource


def _merged(made: PolicyRequest, given: PolicyRequest) -> PolicyRequest:
    """``made`` (from the object and its namespace) with what the case said of the request."""
    return replace(
        made,
        operation=given.operation,
        old_object=given.old_object,
        user_info=given.user_info,
        namespace_object=given.namespace_object or made.namespace_object,
    )


def _inventory_document(objects: list[Resource]) -> dict[str, Any]:
    """``data.inventory`` as Gatekeeper's sync fills it."""
    cluster: dict[str, Any] = {}
    namespaced: dict[str, Any] = {}
    for item in objects:
        if item.namespace:
            slot = namespaced.setdefault(item.namespace, {}).setdefault(item.api_version, {})
        else:
            slot = cluster.setdefault(item.api_version, {})
        slot.setdefault(item.kind, {})[item.name] = item.raw
    return {"cluster": cluster, "namespace": namespaced}
