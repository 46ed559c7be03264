"""An apiVersion that cannot be GROUP/VERSION is an input problem naming the file and line."""

from __future__ import annotations

from tests.helpers import scan_text

MANIFEST = """\
apiVersion: v1/Deployment
kind: Deployment
metadata: {name: a, namespace: shop}
---
apiVersion: apps/v1/extra
kind: Deployment
metadata: {name: b, namespace: shop}
---
apiVersion: example/v1
kind: Widget
metadata: {name: c, namespace: shop}
---
apiVersion: example.com/v1alpha1
kind: Widget
metadata: {name: d, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: e, namespace: shop}
"""


def test_impossible_api_versions_are_input_problems_and_the_scan_exits_3() -> None:
    result = scan_text(MANIFEST, ["WL-001"])
    assert sorted((p.source, p.line, p.message) for p in result.errors) == [
        (
            "<stdin>",
            1,
            "document 0: apiVersion 'v1/Deployment': 'Deployment' is not a version (expected GROUP/VERSION)",
        ),
        ("<stdin>", 5, "document 1: apiVersion 'apps/v1/extra' has more than one '/' (expected GROUP/VERSION)"),
        ("<stdin>", 9, "document 2: apiVersion 'example/v1': 'example' is not an API group (expected GROUP/VERSION)"),
    ]
    assert result.resources_scanned == 2
    assert result.gate("none") == 3
