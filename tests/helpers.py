"""Test helpers. Manifests go through the real loader (yaml_rs, YAML 1.2 as the scan reads it), so
tests see the values a user's scan sees; scans go through ``stockade.scan()``."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

import stockade
from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.model.result import ScanResult
from stockade.rules.base import RuleConfig
from stockade.sources.files import FileSource


def _read(text: str) -> list[Resource]:
    result = FileSource(["-"], stdin=io.BytesIO(text.encode())).collect()
    assert result.errors == [], result.errors
    return result.resources


def resources_from_yaml(text: str, file: str = "test.yaml") -> list[Resource]:
    """The objects of a (multi-document) YAML text, read by the file source; origins name ``file``."""
    return [dataclasses.replace(r, origin=dataclasses.replace(r.origin, file=file)) for r in _read(text)]


def inventory_from_yaml(text: str) -> Inventory:
    return Inventory(resources_from_yaml(text))


def inventory_from_raw(raws: Iterable[Mapping[str, Any]]) -> Inventory:
    out = []
    for index, raw in enumerate(raws):
        resource = resource_from_raw(raw, Origin("test.yaml", index, 1))
        assert isinstance(resource, Resource), resource
        out.append(resource)
    return Inventory(out)


def scan_text(
    text: str | bytes,
    rules: Sequence[str] = (),
    *,
    config: RuleConfig | None = None,
    include_passed: bool = False,
) -> ScanResult:
    """``stockade.scan()`` of a manifest given as text, read from a stdin stream by the file source."""
    data = text.encode() if isinstance(text, str) else text
    return stockade.scan(
        [FileSource(["-"], stdin=io.BytesIO(data))],
        stockade.ScanOptions(rules=rules, config=config or RuleConfig(), include_passed=include_passed),
    )


def scan_objects(
    objects: Iterable[Mapping[str, Any]],
    rules: Sequence[str] = (),
    *,
    config: RuleConfig | None = None,
    include_passed: bool = False,
) -> ScanResult:
    """``stockade.scan()`` of objects given as Python values (sent through the loader as JSON lines
    of one List, so they take the same path as a user's file)."""
    listed = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    return scan_text(orjson.dumps(listed), rules, config=config, include_passed=include_passed)


def run_fresh_python(script: str, *args: str, warnings_as_errors: bool = True) -> Any:
    """Run ``script`` in a new interpreter (no threads of earlier tests, so what a fork sees is
    the script's own) and return the JSON it prints; a failure shows the child's stderr."""
    import json
    import subprocess
    import sys

    flags = ["-W", "error"] if warnings_as_errors else []
    done = subprocess.run(
        [sys.executable, *flags, "-c", script, *args], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# Manifests several test modules scan: a privileged pod (WL-001 critical) and a plain pod whose
# worst finding is high (WL-002, privilege escalation), with medium and low ones.
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: web
      image: registry.example.com/web:1.0
      securityContext:
        privileged: true
"""

PLAIN_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: app
      image: nginx:latest
"""
