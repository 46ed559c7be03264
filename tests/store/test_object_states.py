"""The object behind each transition: its version, who changed it, its state kept for replay (once
per distinct content, pruned by age) — and never a Secret's value."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zlib
from typing import Any

import sqlalchemy as sa

import stockade
from stockade.store import FindingStore, ObjectKey
from stockade.store.schema import metadata

from ..helpers import resources_from_yaml
from .helpers import at, finding, scan

PLANTED = "hunter2-planted-value"

SECRET_YAML = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
  resourceVersion: "42"
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{{"kind":"Secret","stringData":{{"password":"{PLANTED}"}}}}'
  managedFields:
  - {{manager: helm, operation: Update, time: "2024-05-01T09:00:00Z"}}
  - {{manager: kubectl-edit, operation: Update, time: "2024-05-01T10:00:00Z"}}
type: Opaque
stringData:
  password: {PLANTED}
data:
  token: {base64.b64encode(PLANTED.encode()).decode()}
"""


def deployment(version: str, image: str = "shop:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "resourceVersion": version,
            "managedFields": [{"manager": "argocd-controller", "operation": "Apply", "time": "2025-03-01T11:00:00Z"}],
        },
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    }


WEB = ObjectKey("Deployment", "shop", "web")


def every_value(store: FindingStore) -> list[str]:
    """Every cell of every table as text, compressed object states decompressed."""
    out: list[str] = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        value = zlib.decompress(value).decode()
                    out.append(str(value))
    return out


def test_a_planted_secret_value_is_in_no_row(store: FindingStore) -> None:
    # Through a real scan (the sources redact) and, raw, straight into the store (it redacts again).
    result = stockade.scan([stockade.FileSource(["-"], stdin=io.BytesIO(SECRET_YAML.encode()))])
    secret_findings = [f for f in result.findings if f.resource.kind == "Secret"]
    assert secret_findings
    store.record_scan("a", result, at(0))
    [raw] = [r.raw for r in resources_from_yaml(SECRET_YAML)]
    key = ObjectKey("Secret", "default", "db")
    store.record_scan("b", scan(*secret_findings), at(0), object_versions={key: raw})
    assert PLANTED in SECRET_YAML and PLANTED in str(raw)
    values = every_value(store)
    assert any("password" in v for v in values)  # the state is there, key names included
    encoded = base64.b64encode(PLANTED.encode()).decode()
    assert not [v for v in values if PLANTED in v or encoded in v]
    [moved] = store.transitions("b")
    assert (moved.resource_version, moved.changed_by) == ("42", "kubectl-edit")
    assert moved.object_state_id is not None
    state = store.object_state(moved.object_state_id)
    assert state is not None
    assert state["stringData"] == {"password": ""}
    assert "managedFields" not in state["metadata"]


def test_each_transition_keeps_the_object_it_saw(store: FindingStore) -> None:
    store.record_scan("prod", scan(finding()), at(0), object_versions={WEB: deployment("100")})
    store.record_scan("prod", scan(), at(5), object_versions={WEB: deployment("101", "shop:2")})
    store.record_scan(
        "prod", scan(finding()), at(9), object_versions={WEB: deployment("102")}, changed_by={WEB: "alice@example.com"}
    )
    opened, resolved, reopened = store.transitions("prod")
    assert [t.resource_version for t in (opened, resolved, reopened)] == ["100", "101", "102"]
    assert [t.changed_by for t in (opened, resolved, reopened)] == [
        "argocd-controller",
        "argocd-controller",
        "alice@example.com",
    ]
    states = [store.object_state(t.object_state_id or 0) for t in (opened, resolved, reopened)]
    assert [s["spec"]["template"]["spec"]["containers"][0]["image"] for s in states if s] == [
        "shop:1",
        "shop:2",
        "shop:1",
    ]


def test_identical_states_are_stored_once(store: FindingStore) -> None:
    same = deployment("100")
    store.record_scan("prod", scan(finding("WL-001"), finding("WL-002")), at(0), object_versions={WEB: same})
    store.record_scan("prod", scan(), at(5), object_versions={WEB: same})
    ids = {t.object_state_id for t in store.transitions("prod")}
    assert len(ids) == 1
    with store.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM object_states")) == 1


def test_prune_drops_old_states_and_keeps_the_transitions(store: FindingStore) -> None:
    store.record_scan("prod", scan(finding()), at(0), object_versions={WEB: deployment("100")})
    store.record_scan("prod", scan(), at(60), object_versions={WEB: deployment("101")})
    assert store.prune(at(30)) == 1
    opened, resolved = store.transitions("prod")
    assert opened.object_state_id is None
    assert resolved.object_state_id is not None
    assert opened.resource_version == "100"


def test_retention_prunes_as_scans_arrive(store_url: sa.URL) -> None:
    url = store_url.render_as_string(hide_password=False)
    with FindingStore.open(url, retention=dt.timedelta(hours=1)) as store:
        store.record_scan("prod", scan(finding()), at(0), object_versions={WEB: deployment("100")})
        store.record_scan("prod", scan(), at(30), object_versions={WEB: deployment("101")})
        assert all(t.object_state_id is not None for t in store.transitions("prod"))
        store.record_scan("prod", scan(finding()), at(90), object_versions={WEB: deployment("102")})
        assert [t.object_state_id is not None for t in store.transitions("prod")] == [False, True, True]


def test_credentials_written_as_literals_are_blanked_in_stored_states() -> None:
    from stockade.store.objects import ObjectKey, restore, snapshot

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "env": [
                        {"name": "DB_PASSWORD", "value": "hunter2-correct-horse"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "k"}}},
                    ],
                }
            ]
        },
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {"api_key": "AKIAIOSFODNN7EXAMPLE", "color": "blue"},
    }
    stored_pod = restore(snapshot(ObjectKey("Pod", "shop", "app"), pod).content)
    env = stored_pod["spec"]["containers"][0]["env"]
    assert [v.get("value") for v in env] == ["", "debug", None]
    assert env[2]["valueFrom"] == {"secretKeyRef": {"name": "t", "key": "k"}}
    assert pod["spec"]["containers"][0]["env"][0]["value"] == "hunter2-correct-horse"  # the input is untouched
    stored_map = restore(snapshot(ObjectKey("ConfigMap", "shop", "settings"), config_map).content)
    assert stored_map["data"] == {"api_key": "", "color": "blue"}
