"""The vendored microservices-demo with its Istio manifests (Gateway, VirtualServices, ServiceEntries): a
real case for the EW rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import stockade
from stockade.model.finding import Status
from tests.vendored import vendored

EW = ["EW-001", "EW-002", "EW-003", "EW-004", "EW-005", "EW-006"]
DEMO = vendored("corpus", "real-world", "microservices-demo")
ISTIO_MANIFESTS = DEMO / "istio-manifests"
# The demo's Deployments (as vendored), each selected by a Service.
SERVED = {
    "adservice",
    "cartservice",
    "checkoutservice",
    "currencyservice",
    "emailservice",
    "frontend",
    "paymentservice",
    "productcatalogservice",
    "recommendationservice",
    "shippingservice",
    "redis-cart",
}


def _scan(paths: list[Path]) -> stockade.ScanResult:
    result = stockade.scan([stockade.FileSource([str(p) for p in paths])], stockade.ScanOptions(rules=EW))
    assert not result.errors
    assert not [f for f in result.findings if f.status is Status.ERROR]
    return result


def _failed(result: stockade.ScanResult) -> Counter[str]:
    return Counter(f.rule_id for f in result.findings if f.status is Status.FAIL)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _labelled_namespace(tmp_path: Path) -> Path:
    # The demo's instructions label the namespace with kubectl; the manifests alone enrol nothing.
    return _write(
        tmp_path,
        "namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {istio-injection: enabled}}\n",
    )


def test_the_istio_manifests_show_istio_but_enrol_no_namespace() -> None:
    assert ISTIO_MANIFESTS.is_dir()
    result = _scan([DEMO])
    assert _failed(result) == Counter()
    assert sum(result.passes.by_rule.get(rule, 0) for rule in EW) == 0  # nothing meshed: nothing judged


def test_with_the_namespace_labelled_every_service_is_open_mtls_permissive_and_unlogged(tmp_path: Path) -> None:
    result = _scan([DEMO, _labelled_namespace(tmp_path)])
    assert _failed(result) == Counter({"EW-005": len(SERVED), "EW-002": 1, "EW-004": 1})
    open_services = {f.resource.name for f in result.findings if f.rule_id == "EW-005" and f.status is Status.FAIL}
    assert open_services == SERVED
    (permissive,) = [f for f in result.findings if f.rule_id == "EW-002" and f.status is Status.FAIL]
    assert permissive.resource.display == "Namespace/default"
    assert "PERMISSIVE" in permissive.message
    # Every workload is meshed (the demo opts nothing out) and none skips the proxy.
    assert result.passes.by_rule["EW-001"] == result.passes.by_rule["EW-003"] == len(SERVED)


def test_the_demo_hardened_passes_every_ew_rule(tmp_path: Path) -> None:
    hardening = _write(
        tmp_path,
        "hardening.yaml",
        """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-nothing, namespace: istio-system}
spec: {}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cartservice, namespace: default}
spec:
  selector: {matchLabels: {app: cartservice}}
  rules:
    - from: [{source: {principals: [cluster.local/ns/default/sa/frontend, cluster.local/ns/default/sa/checkoutservice]}}]
""",
    )
    result = _scan([DEMO, _labelled_namespace(tmp_path), hardening])
    assert _failed(result) == Counter()
    assert result.passes.by_rule["EW-005"] == len(SERVED)
