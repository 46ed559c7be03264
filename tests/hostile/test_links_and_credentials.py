"""A scanned tree cannot reach outside itself through symbolic links, and credential files
(kubeconfigs, Docker config.json) are never objects: not scanned, not copied into a snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stockade.sources.credentials import credential_kind
from stockade.sources.files import LINK_LEAVES_ROOTS, FileSource, collect_paths
from stockade.sources.limits import ParseLimits
from tests.sources.support import GOOD, write

CLIENT_KEY = "Q0xJRU5ULUtFWS1TRUNSRVQ="  # base64 of CLIENT-KEY-SECRET
TOKEN = "t0ken-SECRET-value"
KUBECONFIG = f"""\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {{server: "https://prod.example:6443"}}
users:
- name: admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: {CLIENT_KEY}
contexts:
- name: prod
  context: {{cluster: prod, user: admin}}
current-context: prod
"""
# Kubeconfig shape without kind and apiVersion: still credentials.
BARE_KUBECONFIG = f"users:\n- name: ci\n  user:\n    token: {TOKEN}\n"
DOCKER_CONFIG = json.dumps({"auths": {"registry.example": {"auth": "dXNlcjpET0NLRVItU0VDUkVU"}}})
FOLLOW = ParseLimits(follow_links=True)


def repository_with_links(tmp_path: Path) -> Path:
    """repo/ with a manifest, and links to a directory, a manifest and a kubeconfig outside it."""
    write(
        tmp_path,
        {
            "repo/app/deploy.yaml": GOOD,
            "outside/etc/passwd.yaml": GOOD.replace("good", "from-outside"),
            "outside/kubeconfig.yaml": KUBECONFIG,
        },
    )
    repo = tmp_path / "repo"
    (repo / "etc").symlink_to(tmp_path / "outside" / "etc")
    (repo / "app" / "other.yaml").symlink_to("../../outside/etc/passwd.yaml")
    (repo / "app" / "kubeconfig.yaml").symlink_to(tmp_path / "outside" / "kubeconfig.yaml")
    return repo


def test_links_out_of_the_scanned_tree_are_reported_not_followed(tmp_path: Path) -> None:
    repo = repository_with_links(tmp_path)
    result = collect_paths([str(repo)])
    assert [r.name for r in result.resources] == ["good"]
    assert [(s.source, s.reason) for s in result.skipped] == [
        (f"{repo}/etc", LINK_LEAVES_ROOTS),
        (f"{repo}/app/kubeconfig.yaml", LINK_LEAVES_ROOTS),
        (f"{repo}/app/other.yaml", LINK_LEAVES_ROOTS),
    ]
    assert "--follow-links" in LINK_LEAVES_ROOTS
    assert result.errors == []


def test_follow_links_follows_them_but_still_skips_the_kubeconfig(tmp_path: Path) -> None:
    repo = repository_with_links(tmp_path)
    result = FileSource([str(repo)], limits=FOLLOW).collect()
    assert sorted(r.name for r in result.resources) == ["from-outside", "good"]
    assert [(s.source, s.reason) for s in result.skipped] == [
        (f"{repo}/app/kubeconfig.yaml", "kubeconfig: credentials are not read"),
        (f"{repo}/etc/passwd.yaml", f"same file as {repo}/app/other.yaml (already read)"),
    ]


def test_links_inside_the_tree_and_into_another_named_path_are_followed(tmp_path: Path) -> None:
    write(tmp_path, {"repo/base/deploy.yaml": GOOD, "shared/cm.yaml": GOOD.replace("good", "shared")})
    repo = tmp_path / "repo"
    (repo / "overlay").symlink_to("base")
    (repo / "shared.yaml").symlink_to(tmp_path / "shared" / "cm.yaml")
    result = collect_paths([str(repo), str(tmp_path / "shared")])
    assert [(r.name, r.origin.file) for r in result.resources] == [
        ("shared", f"{repo}/shared.yaml"),
        ("good", f"{repo}/base/deploy.yaml"),
    ]
    assert [s.reason for s in result.skipped] == [
        f"same file as {repo}/base/deploy.yaml (already read)",
        f"same file as {repo}/shared.yaml (already read)",
    ]


def test_a_named_path_that_is_itself_a_link_is_followed(tmp_path: Path) -> None:
    write(tmp_path, {"outside/deploy.yaml": GOOD, "outside/nested/cm.yaml": GOOD.replace("good", "nested")})
    (tmp_path / "named").symlink_to(tmp_path / "outside")
    (tmp_path / "named-file.yaml").symlink_to(tmp_path / "outside" / "deploy.yaml")
    assert [r.name for r in collect_paths([str(tmp_path / "named")]).resources] == ["good", "nested"]
    assert [r.name for r in collect_paths([str(tmp_path / "named-file.yaml")]).resources] == ["good"]


def test_link_loops_inside_and_out_of_the_tree(tmp_path: Path) -> None:
    write(tmp_path, {"repo/app/deploy.yaml": GOOD})
    app = tmp_path / "repo" / "app"
    (app / "up").symlink_to("..")  # a loop inside the tree
    (app / "way-up").symlink_to("../..")  # leads out of it, to a directory above the tree
    (app / "a.yaml").symlink_to("b.yaml")
    (app / "b.yaml").symlink_to("a.yaml")
    for limits in (ParseLimits(), FOLLOW):
        result = collect_paths([str(tmp_path / "repo")], limits=limits)
        assert [r.name for r in result.resources] == ["good"]
        problems = {e.source: e.message for e in result.errors}
        assert problems[f"{app}/a.yaml"] == problems[f"{app}/b.yaml"] == "cannot read: symbolic link loop"
        assert problems[f"{app}/up"] == "symbolic link loop: this directory contains itself"
    skipped = collect_paths([str(tmp_path / "repo")]).skipped
    assert [(s.source, s.reason) for s in skipped] == [(f"{app}/way-up", LINK_LEAVES_ROOTS)]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("kubeconfig.yaml", KUBECONFIG, "kubeconfig"),
        ("ci-user.yaml", BARE_KUBECONFIG, "kubeconfig"),
        ("config.json", DOCKER_CONFIG, "Docker config"),
    ],
)
def test_credential_files_are_skipped_without_their_values(tmp_path: Path, name: str, content: str, kind: str) -> None:
    write(tmp_path, {f"repo/{name}": content, "repo/deploy.yaml": GOOD})
    result = collect_paths([str(tmp_path / "repo")])
    assert [r.name for r in result.resources] == ["good"]
    assert [(s.source, s.reason, s.line) for s in result.skipped] == [
        (str(tmp_path / "repo" / name), f"{kind}: credentials are not read", 1)
    ]
    assert result.errors == []


def test_a_kubeconfig_document_among_manifests_is_the_only_one_dropped(tmp_path: Path) -> None:
    write(tmp_path, {"all.yaml": GOOD + "---\n" + KUBECONFIG + "---\n" + GOOD.replace("good", "after")})
    result = collect_paths([str(tmp_path / "all.yaml")])
    assert [r.name for r in result.resources] == ["good", "after"]
    assert [(s.reason, s.line) for s in result.skipped] == [("kubeconfig: credentials are not read", 9)]


@pytest.mark.parametrize(
    "value",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"users": "a,b", "auths": "x"}},
        {"apiVersion": "operator.example.io/v1", "kind": "Config", "spec": {"users": ["alice"]}},
        {"apiVersion": "v1", "kind": "List", "items": []},
        {"users": ["alice", "bob"], "auths": ["basic"]},
    ],
)
def test_objects_that_merely_mention_users_or_auths_are_not_credentials(value: dict[str, object]) -> None:
    assert credential_kind(value) is None


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "stockade.cli.main", *arguments, "--no-progress"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_snapshot_of_a_repository_never_copies_a_linked_kubeconfig(tmp_path: Path) -> None:
    """The reproduction: `snapshot .` in a repository with a link to a kubeconfig copied its client key."""
    repo = repository_with_links(tmp_path)
    (repo / "local-kubeconfig.yaml").write_text(KUBECONFIG.replace(CLIENT_KEY, "TE9DQUwtS0VZ"))
    for extra in ([], ["--follow-links"]):
        snapshot = tmp_path / f"snapshot{len(extra)}.json"
        done = run_cli("snapshot", ".", "-o", str(snapshot), *extra, cwd=repo)
        assert done.returncode == 0, done.stderr
        written = snapshot.read_text()
        for secret in (CLIENT_KEY, "TE9DQUwtS0VZ", "Q0VSVA=="):
            assert secret not in written
            assert secret not in done.stderr
        items = json.loads(written)["items"]
        assert all(item["kind"] != "Config" for item in items)
        assert "local-kubeconfig.yaml:1: kubeconfig: credentials are not read" in done.stderr
        if extra:
            assert "app/kubeconfig.yaml:1: kubeconfig: credentials are not read" in done.stderr
        else:
            assert f"app/kubeconfig.yaml: {LINK_LEAVES_ROOTS}" in done.stderr
            assert "from-outside" not in written


def test_scan_reports_a_link_out_of_the_tree_with_the_flag_that_follows_it(tmp_path: Path) -> None:
    repo = repository_with_links(tmp_path)
    done = run_cli("scan", str(repo), "-f", "json", "--fail-on", "critical", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # a link not followed is a note, not unreadable input
    report = json.loads(done.stdout)
    assert report["summary"]["resources_scanned"] == 1
    assert {"source": f"{repo}/etc", "line": None, "reason": LINK_LEAVES_ROOTS} in report["skipped_inputs"]
    assert f"{repo}/etc: {LINK_LEAVES_ROOTS}" in done.stderr
    followed = run_cli("scan", str(repo), "-f", "json", "--fail-on", "critical", "--follow-links", cwd=tmp_path)
    assert json.loads(followed.stdout)["summary"]["resources_scanned"] == 2
