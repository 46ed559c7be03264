"""A history store as the dashboard finds it in use: one cluster kept by a real watcher against the
fake API server (with a fix it recorded as resolved), one recorded by ``scan --store`` from
manifests with an exception that expires, hostile names and a Secret with a value throughout."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import stockade
from stockade.store import FindingStore
from stockade.testing import FakeApiServer
from stockade.views import record_view
from tests.watch.support import privileged_pod, running, wait_until

# Shown as text, never obeyed: markup, a terminal colour escape, a right-to-left override.
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(2)>\x1b[31m\u202eevil'
SECRET_VALUE = "supersecret-value-4417"
LITERAL_PASSWORD = "Zx9-literal-Password-77Q"
WATCHED = "prod-eu"
SCANNED = "staging"


def _role() -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "secret-reader", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
    }


def _binding(subject_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "read-secrets", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "deployer", "namespace": "shop"},
            {"kind": "User", "name": subject_name, "apiGroup": "rbac.authorization.k8s.io"},
        ],
    }


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


@dataclass(frozen=True, slots=True)
class Recorded:
    url: str
    fixed_pod: str  # its WL-001 finding was opened, then resolved, by the watcher


def record_watched(url: str, tmp_path: Path) -> None:
    """prod-eu: a real watcher records two privileged pods, then the fix of one; its view too."""
    objects = [_namespace("shop"), privileged_pod("web"), privileged_pod("api"), _role(), _binding("alice")]
    kinds = ["pods", "namespaces", "roles", "rolebindings", "clusterroles", "clusterrolebindings"]
    with (
        FakeApiServer(objects, bookmark_interval=0.2) as server,
        running(server, tmp_path, url, name="dashboard", cluster=WATCHED, kinds=kinds, view_interval=0.05) as (_, sink),
    ):
        wait_until(lambda: ("WL-001", "api", "opened") in sink.changes(), what="the first reconcile")
        server.update(privileged_pod("api", privileged=False))
        wait_until(lambda: ("WL-001", "api", "resolved") in sink.changes(), what="the fix")
        with FindingStore.open(url) as store:
            wait_until(lambda: _view_has_rbac(store), what="the watcher's cluster view")


def _view_has_rbac(store: FindingStore) -> bool:
    latest = store.latest_view(WATCHED)
    return latest is not None and any(o.get("kind") == "RoleBinding" for o in latest[1]["rbac"])


def manifests(directory: Path) -> tuple[Path, Path]:
    """The staging manifests (hostile names, a Secret with a value, a literal password) and an
    exceptions file waiving one finding until ten days from now."""
    directory.mkdir(parents=True, exist_ok=True)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": base64.b64encode(SECRET_VALUE.encode()).decode()},
    }
    leaky = privileged_pod("leaky")
    leaky["spec"]["containers"][0]["env"] = [{"name": "DB_PASSWORD", "value": LITERAL_PASSWORD}]
    hostile = privileged_pod("hostile", namespace="shop")
    hostile["metadata"]["name"] = HOSTILE
    documents = [
        _namespace("shop"),
        secret,
        leaky,
        hostile,
        privileged_pod("waived"),
        _role(),
        _binding(HOSTILE),
    ]
    path = directory / "staging.yaml"
    path.write_text(yaml.safe_dump_all(documents, allow_unicode=True))
    expires = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
    exceptions = directory / "exceptions.yaml"
    exceptions.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "stockade.io/v1",
                "kind": "ExceptionList",
                "exceptions": [
                    {
                        "rule": "WL-001",
                        "namespace": "shop",
                        "kind": "Pod",
                        "name": "waived",
                        "reason": "vendor agent needs it " + HOSTILE,
                        "expires": expires,
                    }
                ],
            },
            allow_unicode=True,
        )
    )
    return path, exceptions


def record_scanned(url: str, tmp_path: Path) -> None:
    """staging: what `stockade scan --store` records, exceptions applied: two days ago with only
    its Role (RBAC crawls; workloads not assessed), and now with everything."""
    path, exceptions = manifests(tmp_path / "staging")
    earlier = tmp_path / "staging" / "earlier.yaml"
    earlier.write_text(yaml.safe_dump(_role()))
    options = stockade.ScanOptions(rules=["all"], waivers=stockade.load_waivers(exceptions))
    now = dt.datetime.now(dt.UTC)
    with FindingStore.open(url) as store:
        for sources, at in (([earlier], now - dt.timedelta(days=2)), ([path], now)):
            result = stockade.scan([stockade.FileSource([str(p) for p in sources])], options)
            store.record_scan(SCANNED, result, at)
            record_view(store, SCANNED, result, at)


def fill(url: str, tmp_path: Path) -> Recorded:
    record_watched(url, tmp_path)
    record_scanned(url, tmp_path)
    return Recorded(url, fixed_pod="api")
