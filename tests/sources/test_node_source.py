"""`stockade node scan|collect` over real file trees: modes, owners, kubelet flags and files, static pods."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.rules.cp._flags import static_pod
from stockade.sources.node import NodeSource

KUBEADM_DROP_IN = """\
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS \\
    --hostname-override worker-7
"""
KUBELET_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
authorization: {mode: Webhook}
rotateCertificates: true
"""


def write(root: Path, path: str, text: str, mode: int = 0o600, owner: tuple[int, int] = (0, 0)) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    os.chmod(target, mode)
    os.chown(target, *owner)
    return target


@pytest.fixture
def node(tmp_path: Path) -> Path:
    root = tmp_path / "node"
    write(root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\nubuntu:x:1000:1000::/home/ubuntu:/bin/sh\n", 0o644)
    write(root, "/etc/group", "root:x:0:\nubuntu:x:1000:\n", 0o644)
    write(root, "/etc/kubernetes/manifests/kube-apiserver.yaml", static_pod("kube-apiserver", ("--profiling",)), 0o644)
    write(root, "/etc/kubernetes/admin.conf", "kind: Config\n", 0o600, (1000, 1000))
    write(root, "/etc/kubernetes/pki/ca.crt", "-----BEGIN CERTIFICATE-----\n", 0o644)
    write(root, "/etc/kubernetes/pki/ca.key", "-----BEGIN EC PRIVATE KEY-----\n", 0o600)
    write(root, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG, 0o600)
    write(
        root,
        "/var/lib/kubelet/kubeadm-flags.env",
        'KUBELET_KUBEADM_ARGS="--read-only-port=10255 --pod-infra-container-image=registry.k8s.io/pause:3.10"\n',
    )
    write(root, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROP_IN, 0o644)
    return root


def objects(root: Path) -> dict[str, dict[str, object]]:
    result = NodeSource(str(root), "node-1").collect()
    assert result.errors == []
    return {f"{r.kind}/{r.name}": r.raw for r in result.resources}


def test_files_carry_mode_and_owner_by_the_nodes_own_names(node: Path) -> None:
    found = objects(node)
    admin = found["NodeFile/node-1:/etc/kubernetes/admin.conf"]["spec"]
    assert admin == {**admin, "mode": "0600", "user": "ubuntu", "group": "ubuntu", "role": "admin-kubeconfig"}
    key = found["NodeFile/node-1:/etc/kubernetes/pki/ca.key"]["spec"]
    assert (key["role"], key["mode"], key["user"]) == ("pki-key", "0600", "root")
    assert "BEGIN" not in json.dumps(found)  # never a file's contents


def test_kubelet_settings_come_from_the_unit_the_env_file_and_the_config(node: Path) -> None:
    spec = objects(node)["NodeKubelet/node-1:kubelet"]["spec"]
    assert spec["configFile"] == "/var/lib/kubelet/config.yaml"
    assert spec["flags"]["read-only-port"] == "10255"
    assert spec["flags"]["hostname-override"] == "worker-7"  # continued line, value after a space
    assert spec["flags"]["config"] == "/var/lib/kubelet/config.yaml"
    assert spec["config"]["authorization"] == {"mode": "Webhook"}
    assert "NodeFile/node-1:/etc/kubernetes/pki/ca.crt" in objects(node)  # the kubelet's client CA


def test_static_pods_are_read_as_pods(node: Path) -> None:
    assert "Pod/kube-apiserver" in objects(node)


def test_a_symbolic_link_is_not_followed(node: Path) -> None:
    admin = node / "etc/kubernetes/admin.conf"
    admin.unlink()
    admin.symlink_to("/etc/shadow")
    spec = objects(node)["NodeFile/node-1:/etc/kubernetes/admin.conf"]["spec"]
    assert spec["type"] == "symlink"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_node_scan_end_to_end(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "node", "scan", "--root", str(node), "--node-name", "node-1", "-f", "json")
    assert code == 1
    failed = {(f["rule"]["id"], f["resource"]["name"]) for f in json.loads(out)["findings"] if f["status"] == "fail"}
    assert ("ND-014", "node-1:/etc/kubernetes/admin.conf") in failed  # owned by ubuntu
    assert ("ND-001", "node-1:/etc/kubernetes/manifests/kube-apiserver.yaml") in failed  # 0644
    assert ("ND-020", "node-1:/etc/kubernetes/pki/ca.crt") in failed
    assert ("ND-021", "node-1:/etc/kubernetes/pki/ca.key") not in failed  # 0600
    assert ("ND-043", "node-1:kubelet") in failed  # the env file's flag beats the config default
    assert ("ND-046", "node-1:kubelet") in failed
    assert ("ND-041", "node-1:kubelet") not in failed
    assert ("CP-015", "kube-apiserver") in failed  # the static pod's own flags


def test_many_nodes_merge_into_one_report(node: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    for name in ("node-1", "node-2"):
        assert (
            run(
                capsys, "node", "collect", "--root", str(node), "--node-name", name, "-o", str(results / f"{name}.json")
            )[0]
            == 0
        )
    assert oct(os.stat(results / "node-1.json").st_mode & 0o777) == "0o600"
    code, out, _ = run(
        capsys, "scan", "--no-progress", "--node-results", str(results), "--rules", "ND-014", "-f", "json"
    )
    names = {f["resource"]["name"] for f in json.loads(out)["findings"] if f["status"] == "fail"}
    assert names == {"node-1:/etc/kubernetes/admin.conf", "node-2:/etc/kubernetes/admin.conf"}
    assert code == 1


def test_bad_input_is_named_and_the_rest_goes_on(node: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(node, "/var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\nauthorization: {mode: [\n")
    code, out, err = run(capsys, "node", "scan", "--root", str(node), "--node-name", "node-1", "--fail-on", "none")
    assert code == 3
    assert "config.yaml" in err or "config.yaml" in out
    assert "ND-014" in out  # the files were still judged
    code, _, err = run(capsys, "node", "scan", "--root", str(node / "missing"), "--fail-on", "none")
    assert code == 3 and "not a directory" in (err + _)


def _tree_for(tmp_path: Path, path: str, mode: int, owner: tuple[int, int], directory: bool) -> Path:
    root = tmp_path / "tree"
    write(
        root,
        "/etc/passwd",
        "root:x:0:0::/root:/bin/sh\nubuntu:x:1000:1000::/home/ubuntu:/bin/sh\netcd:x:992:992::/var/lib/etcd:/sbin/nologin\n",
        0o644,
    )
    write(root, "/etc/group", "root:x:0:\nubuntu:x:1000:\netcd:x:992:\n", 0o644)
    target = root / path.lstrip("/")
    if directory:
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, mode)
        os.chown(target, *owner)
    else:
        write(root, path, "placeholder\n", mode, owner)
    if path == "/etc/kubernetes/pki/ca.crt":  # found as the kubelet's client CA, through its configuration
        write(root, "/var/lib/kubelet/config.yaml", KUBELET_CONFIG)
    return root


def _file_checks() -> list[object]:
    from stockade.rules.nd.files import CHECKS

    return [c for c in CHECKS if c.role_kind != "socket"]  # sockets: see the runtime socket test


@pytest.mark.parametrize("check", _file_checks(), ids=lambda c: c.id)
def test_each_file_control_on_a_real_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str], check: object) -> None:
    """Every ND file control passes on a tree with the right mode and owner, and fails on the wrong one."""
    from stockade.rules.nd._files import FileCheck

    assert isinstance(check, FileCheck)
    directory = check.role_kind == "directory"
    good_owner = (992, 992) if check.owner == "etcd:etcd" else (0, 0)
    good_mode = check.mode if check.mode is not None else 0o600
    for mode, owner, expected in (
        (good_mode, good_owner, "pass"),
        (
            (0o644 if not directory else 0o755) if check.mode is not None else good_mode,
            good_owner if check.mode is not None else (1000, 1000),
            "fail",
        ),
    ):
        root = _tree_for(tmp_path / expected, check.example_path, mode, owner, directory)
        main(
            [
                "node",
                "scan",
                "--root",
                str(root),
                "--node-name",
                "n",
                "--rules",
                check.id,
                "-f",
                "json",
                "--include-passed",
            ]
        )
        findings = json.loads(capsys.readouterr().out)["findings"]
        statuses = {
            f["status"]
            for f in findings
            if f["rule"]["id"] == check.id and f["resource"]["name"] == f"n:{check.example_path}"
        }
        assert statuses == {expected}, (check.id, expected, findings)


ENCRYPTION = """\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - identity: {}
      - aescbc:
          keys:
            - {name: key1, secret: c2VjcmV0LWtleS1ieXRlcy1kby1ub3QtbG9nLW1lLTEyMzQ1Njc4}
"""
AUDIT_POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n"


def test_the_api_servers_config_files_are_judged_and_keys_never_kept(
    node: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(node, "/etc/kubernetes/encryption.yaml", ENCRYPTION)
    write(node, "/etc/kubernetes/audit-policy.yaml", AUDIT_POLICY)
    _code, out, _ = run(capsys, "node", "scan", "--root", str(node), "--node-name", "node-1", "-f", "json")
    failed = {f["rule"]["id"] for f in json.loads(out)["findings"] if f["status"] == "fail"}
    assert {"CP-045", "OB-001"} <= failed  # identity first; Secrets logged with their values
    assert "c2VjcmV0" not in out
    snapshot = tmp_path / "node.json"
    assert run(capsys, "node", "collect", "--root", str(node), "--node-name", "node-1", "-o", str(snapshot))[0] == 0
    kept = snapshot.read_text()
    assert "EncryptionConfiguration" in kept and "c2VjcmV0" not in kept and "<redacted>" in kept
