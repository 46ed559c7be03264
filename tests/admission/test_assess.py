"""`stockade admission dry-run`: what the webhook would do to what exists, decided by the webhook's
own decision; checked against the served webhook itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.admission.assess import assess
from stockade.admission.config import parse_admission_config
from stockade.admission.namespaces import StaticNamespaces
from stockade.api import collect
from stockade.cli.main import main
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.files import FileSource
from tests.admission.support import pod, review, serving

ROOT = Path(__file__).resolve().parents[2]
# Privileged and host namespaces refused; images and resources warned; the rest logged only.
CONFIG = {
    "modes": {
        "default": "dry-run",
        "rules": {"privileged-container": "enforce", "host-network": "enforce", "host-pid": "enforce"},
        "families": {"IM": "warn"},
    },
    "pod-security": {"defaults": {"enforce": "privileged", "warn": "restricted"}},
}


def _objects(*paths: Path) -> list[Resource]:
    read = collect([FileSource([str(p) for p in paths])])
    assert read.resources  # the corpus holds unreadable files too: they are not objects
    return list(read.resources)


def _made(raw: dict[str, Any]) -> Resource:
    made = resource_from_raw(raw, Origin("test.yaml"))
    assert isinstance(made, Resource)
    return made


def test_what_the_dry_run_denies_is_what_the_served_webhook_denies(tmp_path: Path) -> None:
    objects = _objects(ROOT / "examples" / "demo", ROOT / "tests" / "data" / "corpus")
    config = parse_admission_config(CONFIG)
    assessment = assess(objects, config)
    denied = {a.display for a in assessment.objects if a.outcome == "denied"}
    warned = {a.display for a in assessment.objects if a.outcome == "warned"}
    assert denied and warned
    labels = {r.name: r.labels for r in objects if r.kind == "Namespace"}
    served_denied: set[str] = set()
    unlabelled = StaticNamespaces({**{name: {} for name in assessment.unlabelled_namespaces}, **labels})
    with serving(tmp_path, config, unlabelled) as webhook:
        for assessed, resource in zip(
            assessment.objects,
            [r for r in objects if r.kind not in ("Secret", "CustomResourceDefinition")],
            strict=True,
        ):
            answer = webhook.admit(
                review(resource.raw, namespace=assessed.namespace or None, user="stockade:admission-dry-run")
            )
            if not answer["allowed"]:
                served_denied.add(assessed.display)
    assert denied == served_denied


def test_pod_security_reads_the_namespaces_among_the_inputs() -> None:
    locked = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "locked", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
    }
    inside = {**pod("web", security={"privileged": False}), "metadata": {"name": "web", "namespace": "locked"}}
    elsewhere = {**pod("web", security={"privileged": False}), "metadata": {"name": "web", "namespace": "open"}}
    assessment = assess([_made(locked), _made(inside), _made(elsewhere)], parse_admission_config(CONFIG))
    by_name = {a.display: a for a in assessment.objects}
    assert by_name["Pod/locked/web"].outcome == "denied"
    assert by_name["Pod/open/web"].outcome == "warned"  # the default: warn at restricted
    assert assessment.unlabelled_namespaces == ("open",)
    effects = {(e.namespace, e.rule, e.result) for e in assessment.effects()}
    assert ("locked", "pod-security", "deny") in effects and ("open", "pod-security", "warn") in effects


def test_the_cli_reports_by_namespace_and_rule_and_exits_1_when_something_would_be_denied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "admission.yaml"
    config.write_text(json.dumps(CONFIG))
    assert main(["admission", "dry-run", "--config", str(config), str(ROOT / "examples" / "demo")]) == 1
    table = capsys.readouterr().out
    assert "would be denied" in table and " WL-001  deny: " in table
    assert (
        main(["admission", "dry-run", "--format", "json", "--config", str(config), str(ROOT / "examples" / "demo")])
        == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == "stockade.admission-dry-run/v1"
    assert report["counts"]["denied"] >= 1 and report["not_sent"] == {"Secret": 1}
    assert {"namespace", "rule", "result", "objects"} <= set(report["effects"][0])
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(json.dumps({"modes": {"default": "warn"}}))
    assert main(["admission", "dry-run", "--config", str(quiet), str(ROOT / "examples" / "demo")]) == 0


def test_bad_configuration_and_unreadable_inputs_are_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "admission.yaml"
    config.write_text("modes: {default: block}\n")
    assert main(["admission", "dry-run", "--config", str(config), str(ROOT / "examples" / "demo")]) == 2
    assert "modes.default" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed\n")
    code = main(["admission", "dry-run", str(broken), str(ROOT / "examples" / "demo")])
    captured = capsys.readouterr()
    assert code == 3 and "broken.yaml" in captured.err
    assert "object(s):" in captured.out  # the rest is still assessed
