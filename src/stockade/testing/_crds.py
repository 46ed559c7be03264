"""CustomResourceDefinitions tests load into the fake API server."""

from __future__ import annotations

from typing import Any


def _crd(kind: str, plural: str, short_name: str, scope: str) -> dict[str, Any]:
    columns = [
        {"name": name, "type": "integer", "jsonPath": f".summary.{name.lower()}"}
        for name in ("Pass", "Fail", "Warn", "Error", "Skip")
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.wgpolicyk8s.io"},
        "spec": {
            "group": "wgpolicyk8s.io",
            "scope": scope,
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
                "shortNames": [short_name],
            },
            "versions": [
                {
                    "name": "v1alpha2",
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def policy_report_crds() -> list[dict[str, Any]]:
    """The PolicyReport (namespaced) and ClusterPolicyReport CRDs of wgpolicyk8s.io/v1alpha2, with a
    schema that keeps any field (the fake server does not validate)."""
    return [
        _crd("PolicyReport", "policyreports", "polr", "Namespaced"),
        _crd("ClusterPolicyReport", "clusterpolicyreports", "cpolr", "Cluster"),
    ]
