"""The Gatekeeper library's own suites (vendored unchanged in tests/data/gatekeeper): every case
passes with every engine its template provides; and gator's semantics where the six suites do not
reach (DELETE, UPDATE matching the old object, skip, invalid constraints, inventory files)."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from stockade.policies.gator import run_suite
from stockade.policies.suite import CaseResult

DATA = Path(__file__).resolve().parents[1] / "data" / "gatekeeper"
SUITES = sorted(DATA.rglob("suite.yaml"))


def engines_of(template: Path) -> set[str]:
    """What the template file itself provides, read without the code under test."""
    found: set[str] = set()
    for target in yaml.safe_load(template.read_text())["spec"]["targets"]:
        if "rego" in target:
            found.add("rego")
        for code in target.get("code", []):
            found.add({"Rego": "rego", "K8sNativeValidation": "cel"}[code["engine"]])
    return found


def listed_cases() -> list[tuple[Path, str, str, str]]:
    cases: list[tuple[Path, str, str, str]] = []
    for suite in SUITES:
        for test in yaml.safe_load(suite.read_text())["tests"]:
            for engine in sorted(engines_of(suite.parent / test["template"])):
                cases.extend((suite, test["name"], case["name"], engine) for case in test["cases"])
    return cases


CASES = listed_cases()


@cache
def results_of(suite: Path) -> dict[tuple[str, str, str], CaseResult]:
    return {(r.test, r.case, r.engine): r for r in run_suite(suite)}


def test_the_six_suites_and_their_cases_are_there() -> None:
    assert [p.parent.name for p in SUITES] == [
        "allowedrepos",
        "containerlimits",
        "httpsonly",
        "requiredlabels",
        "capabilities",
        "privileged-containers",
    ]
    assert len(CASES) == 49
    both = sorted(p.parent.name for p in SUITES if engines_of(p.parent / "template.yaml") == {"rego", "cel"})
    assert both == ["capabilities", "privileged-containers", "requiredlabels"]


@pytest.mark.parametrize(
    ("suite", "test", "case", "engine"), CASES, ids=[f"{s.parent.name}/{t}/{c}/{e}" for s, t, c, e in CASES]
)
def test_every_case_passes_with_every_engine(suite: Path, test: str, case: str, engine: str) -> None:
    result = results_of(suite).get((test, case, engine))
    assert result is not None, f"{test}/{case} did not run with {engine}"
    assert result.passed, result.why


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.parent.name)
def test_nothing_runs_that_the_suite_does_not_list(suite: Path) -> None:
    listed = {(t, c, e) for s, t, c, e in CASES if s == suite}
    assert set(results_of(suite)) == listed
    assert len(run_suite(suite)) == len(listed)  # each case once per engine


def copy_suite(name: str, tmp_path: Path) -> Path:
    source = next(p.parent for p in SUITES if p.parent.name == name)
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_a_wrong_expectation_fails_with_the_reason(tmp_path: Path) -> None:
    folder = copy_suite("requiredlabels", tmp_path)
    suite = folder / "suite.yaml"
    suite.write_text(suite.read_text().replace("violations: no", "violations: yes", 1))
    failed = [r for r in run_suite(suite) if not r.passed]
    assert {(r.case, r.engine) for r in failed} == {("example-allowed", "rego"), ("example-allowed", "cel")}
    assert all(r.why.startswith("expected violations, got none") for r in failed)


# -- gator semantics beyond the six suites -------------------------------------------------------------
LABELLED = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}


def write_suite(folder: Path, tests: list[dict[str, Any]], files: dict[str, Any]) -> Path:
    for name, documents in files.items():
        (folder / name).write_text(yaml.safe_dump_all(documents if isinstance(documents, list) else [documents]))
    suite = folder / "suite.yaml"
    suite.write_text(yaml.safe_dump({"kind": "Suite", "apiVersion": "test.gatekeeper.sh/v1alpha1", "tests": tests}))
    return suite


def privileged_pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": True}}]},
    }


def review(operation: str, obj: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "uid": "1",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "web",
        "namespace": "shop",
        "operation": operation,
        "userInfo": {"username": "alice"},
    }
    if obj is not None:
        request["object"] = obj
    if old is not None:
        request["oldObject"] = old
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def selecting_constraint(**match: Any) -> dict[str, Any]:
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": "K8sPSPPrivilegedContainer",
        "metadata": {"name": "privileged"},
        "spec": {"match": {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}], **match}},
    }


def test_delete_reviews_the_old_object_and_update_matches_the_old_labels(tmp_path: Path) -> None:
    folder = copy_suite("privileged-containers", tmp_path)
    delete_rego = {
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sdenydelete"},
        "spec": {
            "crd": {"spec": {"names": {"kind": "K8sDenyDelete"}}},
            "targets": [
                {
                    "target": "admission.k8s.gatekeeper.sh",
                    "rego": 'package k8sdenydelete\n\nviolation[{"msg": msg}] {\n'
                    '  input.review.operation == "DELETE"\n'
                    '  msg := sprintf("deleting %v", [input.review.object.metadata.name])\n}\n',
                }
            ],
        },
    }
    suite = write_suite(
        folder,
        [
            {
                "name": "delete",
                "template": "deny-delete.yaml",
                "constraint": "deny-delete-constraint.yaml",
                "cases": [
                    {
                        "name": "the old object is the object",
                        "object": "delete.yaml",
                        "assertions": [{"violations": 1, "message": "^deleting web$"}],
                    }
                ],
            },
            {
                "name": "selected by the old labels",
                "template": "template.yaml",
                "constraint": "selecting.yaml",
                "cases": [
                    {
                        # The label was removed by the update; Gatekeeper still applies the constraint.
                        "name": "label removed",
                        "object": "update-removing-label.yaml",
                        "assertions": [{"violations": "no"}],  # the template itself exempts updates
                    },
                    {"name": "create unlabelled", "object": "unlabelled.yaml", "assertions": [{"violations": "no"}]},
                    {"name": "create labelled", "object": "labelled.yaml", "assertions": [{"violations": 1}]},
                ],
            },
        ],
        {
            "deny-delete.yaml": delete_rego,
            "deny-delete-constraint.yaml": {
                "apiVersion": "constraints.gatekeeper.sh/v1beta1",
                "kind": "K8sDenyDelete",
                "metadata": {"name": "no-delete"},
                "spec": {"match": {"kinds": [{"apiGroups": [], "kinds": []}]}},  # empty lists: any
            },
            "delete.yaml": review("DELETE", None, privileged_pod("web")),
            "selecting.yaml": selecting_constraint(labelSelector={"matchLabels": {"tier": "web"}}),
            "update-removing-label.yaml": review(
                "UPDATE", privileged_pod("web"), privileged_pod("web", {"tier": "web"})
            ),
            "unlabelled.yaml": privileged_pod("web"),
            "labelled.yaml": privileged_pod("web", {"tier": "web"}),
        },
    )
    results = run_suite(suite)
    assert {(r.test, r.case, r.engine) for r in results} == {
        ("delete", "the old object is the object", "rego"),
        *{
            ("selected by the old labels", case, engine)
            for case in ("label removed", "create unlabelled", "create labelled")
            for engine in ("rego", "cel")
        },
    }
    assert [r.why for r in results if not r.passed] == []


def test_the_old_object_alone_brings_an_update_into_scope(tmp_path: Path) -> None:
    """An UPDATE whose new object no longer carries the selected label is still judged."""
    folder = copy_suite("requiredlabels", tmp_path)
    constraint = yaml.safe_load((folder / "samples/all-must-have-owner/constraint.yaml").read_text())
    constraint["spec"]["match"]["labelSelector"] = {"matchLabels": {"tier": "web"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {}}}
    old = {**namespace, "metadata": {"name": "shop", "labels": {"tier": "web"}}}
    update = review("UPDATE", namespace, old)
    update["request"]["kind"] = {"group": "", "version": "v1", "kind": "Namespace"}
    suite = write_suite(
        folder,
        [
            {
                "name": "update",
                "template": "template.yaml",
                "constraint": "selecting.yaml",
                "cases": [
                    {"name": "old labelled", "object": "update.yaml", "assertions": [{"violations": "yes"}]},
                    {"name": "neither labelled", "object": "plain.yaml", "assertions": [{"violations": "no"}]},
                ],
            }
        ],
        {"selecting.yaml": constraint, "update.yaml": update, "plain.yaml": namespace},
    )
    results = run_suite(suite)
    assert len(results) == 4
    assert [f"{r.case}/{r.engine}: {r.why}" for r in results if not r.passed] == []


def test_skipped_and_invalid_tests_and_inventory_files(tmp_path: Path) -> None:
    folder = copy_suite("requiredlabels", tmp_path)
    bad = yaml.safe_load((folder / "samples/all-must-have-owner/constraint.yaml").read_text())
    bad["spec"]["parameters"]["labels"] = "owner"  # the schema wants a list
    good = yaml.safe_load((folder / "samples/all-must-have-owner/constraint.yaml").read_text())
    suite = write_suite(
        folder,
        [
            {"name": "refused", "template": "template.yaml", "constraint": "bad.yaml", "invalid": True},
            {"name": "wrongly invalid", "template": "template.yaml", "constraint": "good.yaml", "invalid": True},
            {"name": "skipped", "template": "template.yaml", "constraint": "bad.yaml", "skip": True, "cases": []},
            {
                "name": "cases",
                "template": "template.yaml",
                "constraint": "good.yaml",
                "cases": [
                    {"name": "skipped case", "skip": True, "object": "missing.yaml", "assertions": []},
                    {
                        "name": "with an inventory of two objects",
                        "object": "samples/all-must-have-owner/example_allowed.yaml",
                        "inventory": ["inventory.yaml"],
                        "assertions": [{"violations": "no"}],
                    },
                    {"name": "two objects", "object": "inventory.yaml", "assertions": [{"violations": "no"}]},
                ],
            },
        ],
        {"bad.yaml": bad, "good.yaml": good, "inventory.yaml": [LABELLED, {**LABELLED, "metadata": {"name": "b"}}]},
    )
    results = {(r.test, r.case, r.engine): r for r in run_suite(suite)}
    assert results[("refused", "the constraint is refused", "")].passed
    wrong = results[("wrongly invalid", "the constraint is refused", "")]
    assert not wrong.passed and "accepted" in wrong.why
    assert not any(test == "skipped" or case == "skipped case" for test, case, _ in results)
    for engine in ("rego", "cel"):
        assert results[("cases", "with an inventory of two objects", engine)].passed
        two = results[("cases", "two objects", engine)]
        assert not two.passed and "holds 2 objects" in two.why
