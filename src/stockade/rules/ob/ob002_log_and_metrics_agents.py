"""OB-002: a cluster with no agent shipping logs or metrics off the nodes."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule

WORKLOAD_KINDS = ("DaemonSet", "Deployment", "StatefulSet")
# Substrings of workload names or images that identify an agent: logs, metrics, or both.
LOG_AGENTS = (
    "fluent-bit",
    "fluentbit",
    "fluentd",
    "vector",
    "promtail",
    "filebeat",
    "elastic-agent",
    "logstash",
    "alloy",
    "grafana-agent",
    "opentelemetry-collector",
    "otel-collector",
    "otelcol",
    "datadog-agent",
    "splunk-otel",
    "cloudwatch-agent",
    "newrelic-logging",
    "sumologic",
    "loki",
)
METRICS_AGENTS = (
    "node-exporter",
    "prometheus",
    "alloy",
    "grafana-agent",
    "opentelemetry-collector",
    "otel-collector",
    "otelcol",
    "datadog-agent",
    "vmagent",
    "victoria-metrics",
    "newrelic-infrastructure",
    "cloudwatch-agent",
    "dynatrace",
)


def _images(resource: Resource) -> list[str]:
    spec = resource.raw.get("spec")
    template = spec.get("template") if is_map(spec) else None
    pod = template.get("spec") if is_map(template) else None
    containers = pod.get("containers") if is_map(pod) else None
    return [str(c.get("image", "")) for c in containers if is_map(c)] if is_list(containers) else []


def _agent(resource: Resource, names: tuple[str, ...]) -> str | None:
    haystack = [resource.name.lower(), *(image.lower() for image in _images(resource))]
    return next((name for name in names if any(name in text for text in haystack)), None)


@inventory_rule(
    id="OB-002",
    reads={*WORKLOAD_KINDS, "Node", "Namespace"},
    name="log-and-metrics-agents",
    title="Cluster has no agent shipping logs or metrics",
    severity=Severity.MEDIUM,
    area=Area.MONITORING,
    stage=Stage.WALK,
    frameworks={"nsa-cisa": ["logging.threat-detection"], "mitre-attack": ["T1562.001"]},
    remediation="Run a log shipper (Fluent Bit, Vector, the OpenTelemetry Collector…) and a metrics agent as "
    "DaemonSets, sending to storage outside the cluster.",
)
def log_and_metrics_agents(ctx: RuleContext) -> Iterator[Outcome]:
    """Cluster has no agent shipping logs or metrics.

    ## What it does
    Applies to whole clusters (a live cluster or a snapshot: the objects read include Nodes). Looks
    among DaemonSets, Deployments and StatefulSets, by name and image, for a log shipper (Fluent
    Bit, Fluentd, Vector, Promtail, Filebeat, the OpenTelemetry Collector, Grafana Alloy, the
    Datadog, Splunk or CloudWatch agents…) and a metrics agent (node-exporter, Prometheus, vmagent…),
    and reports which are missing. The finding sits on the first Node.

    ## Why is this bad?
    Container logs live on the node and vanish with it; an attacker who gets root there deletes
    them. Without metrics, a cryptominer or a denial of service shows up only on the bill.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Node
    metadata: {name: worker-1}
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: kube-proxy, namespace: kube-system}
    spec:
      selector: {matchLabels: {k8s-app: kube-proxy}}
      template:
        metadata: {labels: {k8s-app: kube-proxy}}
        spec:
          containers:
            - {name: kube-proxy, image: registry.k8s.io/kube-proxy:v1.31.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Node
    metadata: {name: worker-1}
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: fluent-bit, namespace: logging}
    spec:
      selector: {matchLabels: {app: fluent-bit}}
      template:
        metadata: {labels: {app: fluent-bit}}
        spec:
          containers:
            - {name: fluent-bit, image: cr.fluentbit.io/fluent/fluent-bit:3.1}
    ---
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-exporter, namespace: monitoring}
    spec:
      selector: {matchLabels: {app: node-exporter}}
      template:
        metadata: {labels: {app: node-exporter}}
        spec:
          containers:
            - {name: node-exporter, image: quay.io/prometheus/node-exporter:v1.8.2}
    ```

    ## Remediation
    Deploy a log shipper and a metrics agent on every node, with their storage outside the
    cluster, and keep both in the namespaces your admission policies protect.

    ## References
    - https://kubernetes.io/docs/concepts/cluster-administration/logging/
    """
    nodes = sorted(ctx.inventory.of_kind("Node"), key=lambda r: r.name)
    if not nodes:
        return  # manifests of applications: not a whole cluster, nothing to judge
    workloads = ctx.inventory.of_kind(*WORKLOAD_KINDS)
    logs = next((a for w in workloads if (a := _agent(w, LOG_AGENTS))), None)
    metrics = next((a for w in workloads if (a := _agent(w, METRICS_AGENTS))), None)
    missing = [what for what, found in (("log shipper", logs), ("metrics agent", metrics)) if found is None]
    if not missing:
        yield Outcome(nodes[0])
        return
    looked = f"{len(workloads)} DaemonSets, Deployments and StatefulSets"
    yield Outcome(nodes[0], (Violation(f"no {' and no '.join(missing)} among the {looked} read", ()),))
