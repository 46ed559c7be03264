"""Cluster snapshots: save a live collection, scan it later, errors and all."""

from __future__ import annotations

import base64
import gzip
import stat
from pathlib import Path

import orjson
import pytest

from stockade.sources.cluster import collect_cluster
from stockade.sources.snapshot import API_VERSION, KIND, collect_snapshot, write_snapshot
from stockade.testing import FakeApiServer
from tests.testing.objects import deployment, obj, pod, secret


@pytest.mark.parametrize("name", ["cluster.json", "cluster.json.gz"])
def test_round_trip_keeps_objects_errors_and_facts(tmp_path: Path, name: str) -> None:
    objects = [pod("web", "shop"), deployment("api", "shop"), secret("db", "shop", {"password": "Planted-9c1"})]
    objects.append(obj("rbac.authorization.k8s.io/v1", "Role", "r", "shop", rules=[]))
    with FakeApiServer(objects, forbidden=["roles.rbac.authorization.k8s.io"]) as server:
        collected = collect_cluster(kubeconfig=str(server.kubeconfig(tmp_path / "config")), context="stockade-fake")
    path = write_snapshot(collected, tmp_path / "snaps" / name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"\x1f\x8b") == name.endswith(".gz")
    assert b"Planted" not in (gzip.decompress(data) if name.endswith(".gz") else data)

    loaded = collect_snapshot(path)
    assert [(r.kind, r.namespace, r.name) for r in loaded.resources] == [
        (r.kind, r.namespace, r.name) for r in collected.resources
    ]
    assert [r.raw for r in loaded.resources] == [dict(r.raw) for r in collected.resources]
    assert {r.origin.file for r in loaded.resources} == {str(path)}
    assert loaded.facts == collected.facts
    # The forbidden kind is still reported: a snapshot of a partial collection is not a clean pass.
    assert [(e.source, e.message) for e in loaded.errors] == [
        (
            f"{path} (cluster:stockade-fake)",
            "cannot list roles.rbac.authorization.k8s.io (missing RBAC: list on roles in API group "
            '"rbac.authorization.k8s.io")',
        )
    ]


def test_secret_values_in_a_hand_written_snapshot_are_blanked(tmp_path: Path) -> None:
    value = base64.b64encode(b"Planted-77aa").decode()
    leaky = secret("db", "shop", {"password": "Planted-77aa"})
    document = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {}, "items": [leaky]}
    path = tmp_path / "leaky.json"
    path.write_bytes(orjson.dumps(document))
    loaded = collect_snapshot(path)
    assert loaded.errors == []
    raw = orjson.dumps([r.raw for r in loaded.resources])
    assert value.encode() not in raw
    assert b"Planted" not in raw
    assert loaded.resources[0].raw["data"] == {"password": ""}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "snapshot is not valid JSON"),
        (b"\x1f\x8b\x08garbage", "snapshot is not valid gzip"),
        (gzip.compress(b"{}" * 50)[:12] + b"\xff" * 20, "snapshot is not valid gzip"),
        (b'{"kind": "Pod"}', "not a Stockade snapshot (expected kind: ClusterSnapshot)"),
        (b'{"kind": "ClusterSnapshot", "apiVersion": "stockade.io/v9"}', "unsupported snapshot apiVersion"),
        (b"[1, 2]", "not a Stockade snapshot"),
    ],
)
def test_bad_snapshots_are_input_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = collect_snapshot(path)
    assert result.resources == []
    assert len(result.errors) == 1
    assert result.errors[0].source == str(path)
    assert result.errors[0].message.startswith(expected)


def test_bad_items_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    items = [pod("ok"), "text", {"kind": "Pod", "metadata": {"name": "x"}}]
    path = tmp_path / "mixed.json"
    path.write_bytes(orjson.dumps({"apiVersion": API_VERSION, "kind": KIND, "items": items}))
    result = collect_snapshot(path)
    assert [r.name for r in result.resources] == ["ok"]
    assert [e.message for e in result.errors] == ["item 1 is not an object", "item 2: no apiVersion"]


def test_missing_snapshot(tmp_path: Path) -> None:
    result = collect_snapshot(tmp_path / "absent.json")
    assert result.errors[0].message == "cannot read snapshot: No such file or directory"
