"""Only the fields expressions read are given to CEL: what they read is found right, and pruning
never changes an answer (checked on every expression of the repository's policies, over every
object of the demo and the corpus)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cel
import pytest
from cel import stdlib

import stockade
from stockade.api import collect
from stockade.policies.cel import CelEnvironment, CelEvaluationError, inline_variables
from stockade.policies.cel_k8s import kubernetes_functions
from stockade.policies.cel_paths import PathTree, prune, read_paths

ROOT = Path(__file__).resolve().parents[2]
ROOTS = frozenset({"object", "oldObject", "params", "anyObject"})


def shape(tree: PathTree) -> Any:
    return "ALL" if tree.whole else {name: shape(below) for name, below in tree.children.items()}


def read(text: str, root: str = "object") -> Any:
    return shape(read_paths(text, ROOTS)[root])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("object.spec.replicas <= 5", {"spec": {"replicas": "ALL"}}),
        ("has(object.metadata.labels)", {"metadata": {"labels": {}}}),
        ("object.spec.containers.all(c, c.image.startsWith('r/'))", {"spec": {"containers": {"*": {"image": "ALL"}}}}),
        ("object.spec.containers.map(c, c.name).size() > 0", {"spec": {"containers": {"*": {"name": "ALL"}}}}),
        ("object.spec.containers[0].name == 'x'", {"spec": {"containers": "ALL"}}),
        ("size(object.spec) > 1", {"spec": "ALL"}),
        ("object == null", "ALL"),
        ("'object.spec.x' == object.kind", {"kind": "ALL"}),
        (
            "(object.spec.a + (has(object.spec.b) ? object.spec.b : [])).all(x, x.name != '')",
            {"spec": {"a": {"*": {"name": "ALL"}}, "b": {"*": {"name": "ALL"}}}},
        ),
        # a branch that is compared, not iterated, is kept whole
        (
            "(object.spec.a == 1 ? object.spec.b : object.spec.c).all(x, x.n)",
            {"spec": {"a": "ALL", "b": {"*": {"n": "ALL"}}, "c": {"*": {"n": "ALL"}}}},
        ),
        ("object.metadata.labels.all(k, k.startsWith('a'))", {"metadata": {"labels": {"*": "ALL"}}}),
        (
            "object.spec.x.exists(a, object.spec.y.all(b, a == b.z))",
            {"spec": {"x": {"*": "ALL"}, "y": {"*": {"z": "ALL"}}}},
        ),
    ],
)
def test_what_an_expression_reads(text: str, expected: Any) -> None:
    assert read(text) == expected


def test_an_untouched_root_is_not_read() -> None:
    assert read("object.a == 1", "params") == {}


def test_prune_keeps_what_is_read_and_nothing_else() -> None:
    obj = {
        "kind": "Deployment",
        "metadata": {"name": "a", "labels": {"team": "x"}, "annotations": {"big": "y" * 100}},
        "spec": {"containers": [{"name": "c", "image": "i", "env": [{"name": "A"}]}], "volumes": [{"name": "v"}]},
    }
    tree = read_paths("object.spec.containers.all(c, c.image != '') && has(object.metadata.labels)", ROOTS)["object"]
    assert prune(obj, tree) == {"spec": {"containers": [{"image": "i"}]}, "metadata": {"labels": {}}}


def _objects() -> list[dict[str, Any]]:
    read_result = collect(
        [stockade.FileSource([str(ROOT / "examples" / "demo"), str(ROOT / "tests" / "data" / "corpus")])]
    )
    return [dict(r.raw) for r in read_result.resources]


def _expressions() -> list[tuple[str, str]]:
    """(where, expression with its variables written in) for every CEL expression of the
    repository's policies and the vendored Gatekeeper templates."""
    found: list[tuple[str, str]] = []
    files = [
        *sorted((ROOT / "examples" / "policies").glob("*.yaml")),
        *sorted((ROOT / "benchmarks" / "policies").rglob("*.yaml")),
    ]
    files += sorted((ROOT / "tests" / "data" / "gatekeeper").rglob("template.yaml"))
    for path in files:
        documents = read_all(path)
        for document in documents:
            for where, source in _sources(document):
                definitions = (
                    {"anyObject": "anyObject", "params": "params"} if "Constraint" in str(document.get("kind")) else {}
                )
                for variable in source.get("variables") or []:
                    definitions[variable["name"]] = inline_variables(variable["expression"], definitions)
                for key in ("validations", "matchConditions"):
                    for item in source.get(key) or []:
                        for field in ("expression", "messageExpression"):
                            if field in item:
                                found.append((f"{path.name}: {where}", inline_variables(item[field], definitions)))
    return found + [(f"tricky {n}", text) for n, text in enumerate(TRICKY)]


# Shapes the analysis must get right, over real objects.
TRICKY = (
    "has(object.spec.template) ? object.spec.template.spec.containers.map(c, c.name) : []",
    "(has(object.spec.containers) ? object.spec.containers : []).filter(c, has(c.ports)).map(c, c.ports.size())",
    "size(object.metadata) > 2",
    "object.spec.template.spec.containers.exists(c, c.env.exists(e, e.name == 'PORT'))",
    "object.kind == 'Deployment' && object.spec.replicas > 1",
    "string(object.metadata.name) + '/' + object.kind",
    "object.spec.template.spec.containers.map(c, c.image).filter(i, i.contains(':'))",
    "has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith('kubectl'))",
    "object.spec.template.spec.containers.all(c, !has(c.resources) || !has(c.resources.limits) || 'memory' in c.resources.limits)",
    "[object.spec.template.spec.containers, object.spec.template.spec.volumes].size() == 2",
    "object.spec.template.spec.containers[0].name != ''",
)


def read_all(path: Path) -> list[dict[str, Any]]:
    import yaml

    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def _sources(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    spec = document.get("spec") or {}
    if document.get("kind") == "ValidatingAdmissionPolicy":
        return [(document["metadata"]["name"], spec)]
    if document.get("kind") == "ConstraintTemplate":
        return [
            (document["metadata"]["name"], code["source"])
            for target in spec.get("targets", [])
            for code in target.get("code", [])
            if code.get("engine") == "K8sNativeValidation"
        ]
    return []


EXPRESSIONS = _expressions()
OBJECTS = _objects()


def test_there_is_something_to_compare() -> None:
    assert len(EXPRESSIONS) >= 35
    assert len(OBJECTS) >= 100


def _plain(expression: str, activation: dict[str, Any]) -> tuple[str, Any]:
    context = cel.Context()
    stdlib.add_stdlib_to_context(context)
    for name, function in kubernetes_functions().items():
        context.add_function(name, function)
    for name in ("object", "oldObject", "params", "anyObject", "namespaceObject", "request", "variables"):
        context.add_variable(name, activation.get(name))
    try:
        return "value", cel.compile(expression).execute(context)
    except Exception:
        return "error", None


@pytest.mark.parametrize(("where", "expression"), EXPRESSIONS, ids=[w for w, _ in EXPRESSIONS])
def test_pruning_never_changes_an_answer(where: str, expression: str) -> None:
    environment = CelEnvironment(("object", "oldObject", "params", "anyObject", "request", "variables"))
    compiled = environment.compile(expression, where)
    params = {
        "labels": [{"key": "owner"}],
        "exemptImages": ["safe/*"],
        "allowedCapabilities": ["NET_BIND_SERVICE"],
        "requiredDropCapabilities": ["ALL"],
        "repos": ["registry.example.com/"],
        "cpu": "2",
        "memory": "4Gi",
        "data": {"maxReplicas": "10"},
    }
    for obj in OBJECTS:
        activation = {
            "object": obj,
            "oldObject": None,
            "anyObject": obj,
            "params": params,
            "request": {"operation": "CREATE"},
            "variables": {},
        }
        try:
            pruned: tuple[str, Any] = ("value", environment.run(compiled, activation))
        except CelEvaluationError:
            pruned = ("error", None)
        assert pruned == _plain(expression, activation), (
            f"{where}: {expression} on {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        )
