"""A broken rule never reads as a pass: a wrong yielded type or an exception is an error finding,
on one channel, whatever the rule's scope; and it makes the gate fail with 3."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.engine.evaluate import evaluate
from stockade.model.finding import Area, Severity, Stage, Status
from stockade.model.podspec import ContainerRef
from stockade.model.resource import Resource
from stockade.rules.base import (
    Outcome,
    Rule,
    RuleContext,
    Violation,
    container_rule,
    inventory_rule,
    object_rule,
    rule_of,
)
from tests.helpers import inventory_from_yaml

DOC = """A test rule.

## What it does
Nothing useful.

## Why is this bad?
It is a test.

## Example
```yaml
a: 1
```

## Use instead
```yaml
a: 2
```

## Remediation
None.
"""

META = {"severity": Severity.HIGH, "area": Area.CONTAINER_PRIVILEGES, "stage": Stage.CRAWL, "remediation": "none"}

PODS = """
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - {name: a, image: x}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
"""


def _rule(func: object) -> Rule:
    found = rule_of(func)
    assert found is not None
    return found


def yields_a_string(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    yield "privileged!"  # type: ignore[misc]


yields_a_string.__doc__ = DOC
WRONG_TYPE = _rule(container_rule(id="WL-900", name="wrong-type", title="Wrong type", **META)(yields_a_string))  # type: ignore[arg-type]


def raises(ctx: RuleContext, service: Resource) -> Iterator[Violation]:
    raise KeyError("spec")


raises.__doc__ = DOC
RAISES = _rule(object_rule(kinds=["Service"], id="WL-901", name="raises", title="Raises", **META)(raises))  # type: ignore[arg-type]


def inventory_raises(ctx: RuleContext) -> Iterator[Outcome]:
    raise RuntimeError("index broken")


inventory_raises.__doc__ = DOC
INVENTORY_RAISES = _rule(
    inventory_rule(id="WL-902", name="inv-raises", title="Inventory raises", **META)(inventory_raises)
)  # type: ignore[arg-type]


def inventory_wrong(ctx: RuleContext) -> Iterator[Outcome]:
    yield Violation("not an outcome")  # type: ignore[misc]


inventory_wrong.__doc__ = DOC
INVENTORY_WRONG = _rule(inventory_rule(id="WL-903", name="inv-wrong", title="Inventory wrong", **META)(inventory_wrong))  # type: ignore[arg-type]


def test_a_rule_that_yields_the_wrong_type_is_an_error_not_a_pass() -> None:
    result = evaluate(inventory_from_yaml(PODS), [WRONG_TYPE])
    assert [(f.status, f.resource.display) for f in result.findings] == [(Status.ERROR, "Pod/shop/web")]
    assert "yielded str, not a Violation" in result.findings[0].message
    assert result.passes.by_rule == {}
    assert result.gate("high") == 3


def test_a_rule_that_raises_is_an_error_on_its_object() -> None:
    result = evaluate(inventory_from_yaml(PODS), [RAISES])
    assert [(f.status, f.resource.display) for f in result.findings] == [(Status.ERROR, "Service/shop/web")]
    assert "KeyError" in result.findings[0].message
    assert result.gate("none") == 3


def test_inventory_rule_failures_use_the_same_channel() -> None:
    result = evaluate(inventory_from_yaml(PODS), [INVENTORY_RAISES, INVENTORY_WRONG])
    assert [(f.rule_id, f.status) for f in sorted(result.findings, key=lambda f: f.rule_id)] == [
        ("WL-902", Status.ERROR),
        ("WL-903", Status.ERROR),
    ]
    assert result.errors == []  # not an input problem: a rule problem, reported as a finding
    assert "index broken" in next(f.message for f in result.findings if f.rule_id == "WL-902")
    assert result.gate("high") == 3
