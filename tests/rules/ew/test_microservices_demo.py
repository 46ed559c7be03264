"""The vendored microservices-demo with its Istio manifests: a real case for the EW rules."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import stockade
from stockade.model.finding import Status
from tests.vendored import vendored

EW = ["EW-001", "EW-002", "EW-003", "EW-004", "EW-005", "EW-006"]


def _failed(paths: list[str]) -> Counter[str]:
    result = stockade.scan([stockade.FileSource(paths)], stockade.ScanOptions(rules=EW))
    assert not result.errors
    return Counter(f.rule_id for f in result.findings if f.status is Status.FAIL)


def test_without_the_namespace_label_nothing_is_meshed(tmp_path: Path) -> None:
    # The demo's instructions label the namespace with kubectl; the manifests alone mesh nothing.
    assert _failed([str(vendored("corpus", "real-world", "microservices-demo"))]) == Counter()


def test_with_the_namespace_labelled_every_service_is_open_and_mtls_permissive(tmp_path: Path) -> None:
    namespace = tmp_path / "namespace.yaml"
    namespace.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default, labels: {istio-injection: enabled}}\n"
    )
    demo = vendored("corpus", "real-world", "microservices-demo")
    failed = _failed([str(demo), str(namespace)])
    served = {
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
    assert failed == Counter({"EW-005": len(served), "EW-002": 1, "EW-004": 1})
