"""Scan results for the report tests, made by the real engine over small inventories."""

from __future__ import annotations

import datetime as dt

import pytest

from stockade.engine.compliance import summarize
from stockade.engine.evaluate import evaluate
from stockade.engine.waivers import WaiverEntry
from stockade.frameworks import load_framework
from stockade.model.finding import InputProblem, SkippedInput
from stockade.model.result import ScanResult
from stockade.report import ReportContext
from stockade.rules import load_rules, rule_aliases
from stockade.rules.base import Rule, RuleConfig
from tests.helpers import inventory_from_yaml

TODAY = dt.date(2026, 11, 23)
# The counts these tests assert were worked out for the manifest families; later families (PSS,
# RBAC) would add findings of their own, so the set is pinned.
FAMILIES = frozenset({"WL", "IM", "SA", "NS", "SC", "NP"})


def report_rules() -> dict[str, Rule]:
    return {rid: rule for rid, rule in load_rules().items() if rule.family in FAMILIES}


GENERATED_AT = "2026-11-23T08:00:00Z"

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: nginx:latest
          securityContext: {privileged: true}
          env:
            - {name: DB_PASSWORD, value: "hunter2-very-secret-Zq8"}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: monitoring
  annotations:
    stockade.io/ignore: host-pid,WL-009
    stockade.io/ignore-reason: reads host process metrics; reviewed by platform team
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      hostPID: true
      volumes:
        - name: proc
          hostPath: {path: /proc}
      containers:
        - name: exporter
          image: registry.example.com/prom/node-exporter:1.8@sha256:4f5e5d3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98
          resources:
            limits: {cpu: 100m, memory: 64Mi}
            requests: {cpu: 50m, memory: 32Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: tools}
spec:
  hostNetwork: true
  containers:
    - name: shell
      image: busybox
      securityContext: {runAsUser: 0}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: 30080}]
"""

EXCEPTIONS = (
    WaiverEntry(
        rules=("WL-003",),
        reason="legacy debug image runs as root",
        source="exceptions.yaml#1",
        namespace="tools",
        name="debug",
        owner="platform-team",
        expires=dt.date(2027, 3, 31),
    ),
    WaiverEntry(
        rules=("WL-008",),
        reason="needs the node network for a packet capture",
        source="exceptions.yaml#2",
        namespace="tools",
        kind="Pod",
        name="debug",
        expires=dt.date(2026, 1, 31),  # expired: the finding is open again
    ),
    WaiverEntry(
        rules=("WL-001",),
        reason="old workload, since deleted",
        source="exceptions.yaml#3",
        namespace="legacy",
        name="batch-*",
        owner="data-team",
    ),
)


def scan(
    text: str = MANIFESTS, exceptions: tuple[WaiverEntry, ...] = EXCEPTIONS, *, include_passed: bool = False
) -> ScanResult:
    rules = report_rules()
    result = evaluate(
        inventory_from_yaml(text),
        list(rules.values()),
        config=RuleConfig(),  # no registry allow-list: IM-003 is skipped with its reason
        exceptions=exceptions,
        rule_aliases=rule_aliases(rules),
        today=TODAY,
        include_passed=include_passed,
    )
    # What the file source adds to a scan (as the CLI does): unreadable and skipped inputs.
    result.errors[:0] = [
        InputProblem("broken/deploy.yaml", "mapping values are not allowed here", line=7, kind="parse"),
        InputProblem("charts/web", "helm template failed: exit status 1", object="Deployment/shop/web", kind="render"),
    ]
    result.skipped_inputs.extend(
        SkippedInput(f"compose/docker-compose-{n}.yml", "a docker-compose file, not Kubernetes") for n in range(12)
    )
    return result


def context(
    result: ScanResult, *, color: bool = False, frameworks: tuple[str, ...] = ("cis-1.10", "nsa-cisa")
) -> ReportContext:
    return ReportContext(
        result=result,
        compliance=tuple(summarize(result, load_framework(f)) for f in frameworks),
        tool_version="0.1.0",
        generated_at=GENERATED_AT,
        color=color,
        targets=("k8s/", "charts/web"),
        fail_on="high",
    )


@pytest.fixture(scope="session")
def full_ctx() -> ReportContext:
    return context(scan())


@pytest.fixture(scope="session")
def passed_ctx() -> ReportContext:
    return context(scan(include_passed=True))


@pytest.fixture(scope="session")
def empty_ctx() -> ReportContext:
    rules = report_rules()
    result = evaluate(inventory_from_yaml(""), list(rules.values()), today=TODAY)
    return ReportContext(result=result, tool_version="0.1.0", generated_at=GENERATED_AT)


# A manifest an attacker controls: markup, table pipes, mentions and terminal escapes in every field
# that reports print.
HOSTILE = """\
apiVersion: v1
kind: Pod
metadata:
  name: "<script>alert(1)</script>"
  namespace: "a|b @octocat"
spec:
  containers:
    - name: "c\\e[31m|</td><img src=x onerror=alert(2)>"
      image: "evil.example/<b>x</b>:latest"
      securityContext: {privileged: true}
"""


@pytest.fixture(scope="session")
def hostile_ctx() -> ReportContext:
    result = scan(HOSTILE, ())
    result.errors.append(
        InputProblem('bad"<file>|.yaml', "value </script><script>alert(3)</script>", line=3, object="Pod/x/<y>")
    )
    return context(result)
