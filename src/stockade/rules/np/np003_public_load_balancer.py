"""NP-003: LoadBalancer Services open to the internet (no internal annotation, no narrow source ranges)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, is_false, is_true, object_rule
from stockade.rules.np._messages import service_target

# Annotations that make a cloud provider's load balancer internal: key → accepted values
# (lower-cased); an empty set means "any value but false" (the AWS in-tree provider's reading).
INTERNAL_LB_ANNOTATIONS: Mapping[str, frozenset[str]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": frozenset(),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": frozenset({"internal"}),
    "networking.gke.io/load-balancer-type": frozenset({"internal"}),
    "cloud.google.com/load-balancer-type": frozenset({"internal"}),
    "service.beta.kubernetes.io/azure-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/oci-load-balancer-internal": frozenset({"true"}),
    "service.beta.kubernetes.io/openstack-internal-load-balancer": frozenset({"true"}),
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": frozenset({"intranet"}),
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": frozenset({"private"}),
}
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"


def internal_annotation(annotations: Mapping[str, object]) -> str | None:
    """The annotation that makes the load balancer internal, or None."""
    for key, accepted in INTERNAL_LB_ANNOTATIONS.items():
        value = annotations.get(key)
        if value is None or value == "":
            continue
        if not accepted:
            internal = not is_false(value)
        else:
            word = "true" if is_true(value) else value.lower() if isinstance(value, str) else None
            internal = word in accepted
        if internal:
            return key
    return None


def source_ranges(service: Resource) -> tuple[list[str], str]:
    """The valid CIDRs that may reach the load balancer, and where they were set ('' when nowhere)."""
    spec = mapping(service.raw.get("spec"))
    raw = spec.get("loadBalancerSourceRanges")
    where = "spec.loadBalancerSourceRanges"
    if not isinstance(raw, list) or not raw:
        annotation = service.annotations.get(SOURCE_RANGES_ANNOTATION)
        raw = annotation.split(",") if isinstance(annotation, str) and annotation.strip() else []
        where = SOURCE_RANGES_ANNOTATION
    valid = []
    for entry in raw:
        if not isinstance(entry, str):
            continue
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            continue
        valid.append(entry.strip())
    return valid, where if valid else ""


def open_ranges(ranges: list[str]) -> list[str]:
    """The ranges that together admit every address of IPv4 or of IPv6 (``0.0.0.0/1`` plus
    ``128.0.0.0/1`` is as open as ``0.0.0.0/0``); empty when some address stays outside."""
    found: list[str] = []
    for version in (4, 6):
        mine = [c for c in ranges if ipaddress.ip_network(c, strict=False).version == version]
        networks = [ipaddress.ip_network(c, strict=False) for c in mine]
        collapsed = list(ipaddress.collapse_addresses(networks))  # type: ignore[type-var]
        if len(collapsed) == 1 and collapsed[0].prefixlen == 0:
            found += mine
    return found


@object_rule(
    id="NP-003",
    name="public-load-balancer",
    title="LoadBalancer Service is reachable from the internet",
    severity=Severity.HIGH,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    kinds={"Service"},
    frameworks={
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05", "K06"],
        "mitre-attack": ["T1190", "T1133"],
    },
    remediation="Make the load balancer internal (provider annotation) or set spec.loadBalancerSourceRanges.",
)
def public_load_balancer(ctx: RuleContext, service: Resource) -> Iterator[Violation]:
    """LoadBalancer Service is reachable from the internet.

    ## What it does
    Flags Services of `type: LoadBalancer` that have neither an internal-load-balancer annotation
    nor source ranges. Internal annotations recognised: AWS
    (`service.beta.kubernetes.io/aws-load-balancer-internal`, or `…-aws-load-balancer-scheme:
    internal`), GKE (`networking.gke.io/load-balancer-type: Internal`, and the older
    `cloud.google.com/…`), Azure (`service.beta.kubernetes.io/azure-load-balancer-internal:
    "true"`), OCI, OpenStack, Alibaba Cloud and IBM Cloud. Source ranges come from
    `spec.loadBalancerSourceRanges` (or the legacy `load-balancer-source-ranges` annotation);
    ranges that leave some address out make the Service pass, while ranges that together admit
    every IPv4 or every IPv6 address (`0.0.0.0/0`, or `0.0.0.0/1` plus `128.0.0.0/1`) fail as if
    none were set.

    ## Why is this bad?
    A public load balancer puts the Service on the internet, where it is scanned within minutes.
    Many Services exposed this way (dashboards, databases, admin APIs) were meant for internal
    clients only.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: grafana, namespace: monitoring}
    spec:
      type: LoadBalancer
      selector: {app: grafana}
      ports:
        - {port: 443, targetPort: 3000}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Service
    metadata:
      name: grafana
      namespace: monitoring
      annotations:
        service.beta.kubernetes.io/aws-load-balancer-internal: "true"
    spec:
      type: LoadBalancer
      selector: {app: grafana}
      ports:
        - {port: 443, targetPort: 3000}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: shop, namespace: shop}
    spec:
      type: LoadBalancer
      loadBalancerSourceRanges: [203.0.113.0/24]
      selector: {app: shop}
      ports:
        - {port: 443, targetPort: 8443}
    ```

    ## Remediation
    For internal clients, add your provider's internal-load-balancer annotation. For public
    services, restrict `loadBalancerSourceRanges` to the clients that need it, or publish them
    through one Ingress or gateway with TLS and authentication.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer
    - https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/
    """
    spec = mapping(service.raw.get("spec"))
    if spec.get("type") != "LoadBalancer" or internal_annotation(service.annotations) is not None:
        return
    ranges, where = source_ranges(service)
    restrict = (
        f"kubectl patch {service_target(service)}"
        f' -p \'{{"spec":{{"loadBalancerSourceRanges":["203.0.113.0/24"]}}}}\''
        " (use your clients' ranges)"
    )
    if not ranges:
        raw_ranges = spec.get("loadBalancerSourceRanges")
        malformed = (
            "" if raw_ranges is None or isinstance(raw_ranges, list) else " (loadBalancerSourceRanges is not a list)"
        )
        yield Violation(
            f'Service "{service.name}" is a public LoadBalancer: no internal-load-balancer annotation'
            f" and no source ranges{malformed}",
            ("spec", "type"),
            remediation=restrict,
        )
        return
    everything = open_ranges(ranges)
    if everything:
        path = ("spec", "loadBalancerSourceRanges") if where.startswith("spec") else ("metadata", "annotations")
        yield Violation(
            f'Service "{service.name}" is a public LoadBalancer: {where} allows {", ".join(everything)}',
            path,
            remediation=restrict,
        )
