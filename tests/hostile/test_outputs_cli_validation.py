"""Item 17: option values that name nothing are usage errors (exit 2), never "no filter"."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.cli.main import main

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: nginx}]}\n"


@pytest.fixture
def manifest(tmp_path: Path) -> str:
    path = tmp_path / "pod.yaml"
    path.write_text(POD)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "--rules", ""), "--rules '' names nothing"),
        (("scan", "--rules", ","), "--rules ',' names nothing"),
        (("scan", "--rules", "WL", "--rules", " , "), "--rules ' , ' names nothing"),
        (("scan", "--skip-rules", ""), "--skip-rules '' names nothing"),
        (("scan", "--framework", ","), "--framework ',' names nothing"),
        (("rules", "list", "--rules", ""), "--rules '' names nothing"),
        (("scan", "--context", ""), "--context is empty"),
        (("scan", "--kubeconfig", ""), "--kubeconfig is empty"),
        (("scan", "--cluster", "--kinds", ","), "--kinds ',' names nothing"),
        (("scan", ""), "an empty path names nothing to read"),
        (("rbac", "who-can", "", "pods"), "'' is not a verb"),
        (("rbac", "who-can", "get pods", "pods"), "'get pods' is not a verb"),
        (("rbac", "who-can", "get", "pods.bogus.group/x/y"), "one subresource at most"),
        (("rbac", "can-i", "user:jane", "get", "pods/exec/extra"), "one subresource at most"),
        (("rbac", "who-can", "get", "pods/"), "empty subresource"),
        (("rbac", "who-can", "get", "po_ds"), "'po_ds' is not a valid resource name"),
    ],
)
def test_a_value_naming_nothing_is_a_usage_error(
    args: tuple[str, ...], message: str, manifest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, manifest] if args[0] != "rules" else list(args))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("stockade: error: ") and message in err


@pytest.mark.parametrize("resource", ["pods", "pods/exec", "deployments.apps", "widgets.example.com/status", "*"])
def test_well_formed_resources_are_still_accepted(
    resource: str, manifest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rbac", "who-can", "get", resource, manifest]) == 0
    capsys.readouterr()


def test_a_selection_with_content_still_runs(manifest: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--no-progress", "--rules", "WL-001,", "--include-passed", "-f", "json", manifest]) == 0
    assert '"WL-001"' in capsys.readouterr().out
