"""NP: east-west traffic — NetworkPolicy coverage, and Services and Ingresses that open the cluster up."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.finding import Severity, Stage
from stockade.model.inventory import Inventory
from stockade.model.podspec import PodTemplate
from stockade.model.resource import Resource, resource_from_raw
from stockade.rules._pod import mapping
from stockade.rules._selectors import LabelSelector, parse_selector
from stockade.rules.base import Outcome, RuleContext, Scope, Violation, is_false, is_true, rule

EAST_WEST = "east-west"

# Kinds that restrict pod traffic in one namespace: Kubernetes (networking.k8s.io), Calico
# (projectcalico.org, same kind name) and Cilium.
POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy")
_K8S_POLICY_GROUPS = frozenset({"networking.k8s.io", "extensions"})
_CALICO_GROUPS = frozenset({"projectcalico.org", "crd.projectcalico.org"})
# Namespaces Kubernetes creates for Leases and public cluster info; no pods run there.
PODLESS_SYSTEM_NAMESPACES = frozenset({"kube-public", "kube-node-lease"})


@dataclass(frozen=True, slots=True)
class PolicyIndex:
    """What a scan's NetworkPolicies cover, built once per inventory."""

    namespaces_with_policy: frozenset[str]
    policies: Mapping[str, int]  # policies per namespace, whether Stockade can evaluate them or not
    selectors: Mapping[str, tuple[LabelSelector, ...]]  # policies Stockade can evaluate per pod
    unevaluated: Mapping[str, int]  # policies whose selector syntax Stockade does not read (Calico)
    workloads: Mapping[str, int]  # pod templates per namespace


def _policy_selectors(policy: Resource) -> tuple[LabelSelector, ...] | None:
    """The pod selectors of one policy; None when it cannot be evaluated (Calico selector syntax)."""
    spec = policy.raw.get("spec")
    if policy.kind == "CiliumNetworkPolicy":
        specs = [spec] if isinstance(spec, Mapping) else []
        extra = policy.raw.get("specs")
        specs += [s for s in extra if isinstance(s, Mapping)] if isinstance(extra, list) else []
        parsed = (parse_selector(s.get("endpointSelector"), key_prefixes=("k8s:", "any:")) for s in specs)
        return tuple(s for s in parsed if s is not None)
    if policy.group in _CALICO_GROUPS:
        selector = mapping(spec).get("selector")
        if selector is None or (isinstance(selector, str) and selector.strip() in ("", "all()")):
            return (LabelSelector(),)
        return None
    if not isinstance(spec, Mapping):
        return ()  # the API server would reject it: it selects nothing
    # podSelector is a required struct: absent reads as {} and selects every pod.
    selector = parse_selector(spec.get("podSelector"))
    return (selector,) if selector is not None else ()


def policy_index(inventory: Inventory) -> PolicyIndex:
    policies: Counter[str] = Counter()
    selectors: dict[str, list[LabelSelector]] = defaultdict(list)
    unevaluated: Counter[str] = Counter()
    for policy in inventory.of_kind(*POLICY_KINDS):
        namespace = inventory.effective_namespace(policy)
        if namespace is None:
            continue
        if policy.kind == "NetworkPolicy" and policy.group not in _K8S_POLICY_GROUPS | _CALICO_GROUPS:
            continue  # a CRD of the same name from some other project
        policies[namespace] += 1
        parsed = _policy_selectors(policy)
        if parsed is None:
            unevaluated[namespace] += 1
        else:
            selectors[namespace].extend(parsed)
    workloads: Counter[str] = Counter()
    for pod in inventory.pod_templates:
        namespace = inventory.effective_namespace(pod.carrier)
        if namespace is not None:
            workloads[namespace] += 1
    return PolicyIndex(
        frozenset(policies),
        dict(policies),
        {ns: tuple(items) for ns, items in selectors.items()},
        dict(unevaluated),
        dict(workloads),
    )


def _namespace_target(inventory: Inventory, namespace: str) -> Resource | None:
    declared = inventory.get("Namespace", None, namespace)
    if declared is not None:
        return declared
    members = inventory.in_namespace(namespace)
    if not members:
        return None
    synthetic = resource_from_raw(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, members[0].origin
    )
    return synthetic if isinstance(synthetic, Resource) else None


def _apply(manifest: Mapping[str, Any]) -> str:
    return f"echo '{json.dumps(manifest, separators=(',', ':'))}' | kubectl apply -f -"


def _default_deny(namespace: str) -> str:
    return _apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        }
    )


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


@rule(
    id="NP-001",
    name="namespace-without-network-policy",
    title="Namespace has no NetworkPolicy",
    severity=Severity.MEDIUM,
    area=EAST_WEST,
    stage=Stage.CRAWL,
    scope=Scope.INVENTORY,
    frameworks={
        "cis-1.10": ["5.3.2"],
        "nsa-cisa": ["network.policies"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
        "mitre-attack": ["T1046"],
    },
    remediation="Add a default-deny NetworkPolicy to the namespace, then allow the flows each app needs.",
)
def namespace_without_network_policy(ctx: RuleContext) -> Iterator[Outcome]:
    """Namespace has no NetworkPolicy.

    ## What it does
    Reports, for every namespace of the scan (declared as a Namespace object or used by any
    namespaced object), whether at least one NetworkPolicy lives in it: a Kubernetes
    `networking.k8s.io` NetworkPolicy, a Calico `projectcalico.org` NetworkPolicy or a
    CiliumNetworkPolicy. Cluster-wide policies (Calico GlobalNetworkPolicy, Cilium clusterwide
    policies, AdminNetworkPolicy) are not counted: what they select cannot be judged per namespace.
    `kube-system` is reported like any other namespace; `kube-public` and `kube-node-lease` are
    skipped unless the scan shows workloads in them, since Kubernetes keeps only a ConfigMap and
    Leases there. When the Namespace object is not part of the scan the finding is attached to a
    Namespace built from its name.

    ## Why is this bad?
    Without any NetworkPolicy every pod accepts connections from every other pod in the cluster and
    may connect anywhere. One compromised pod can then reach every database, cache and internal API.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: default-deny-ingress, namespace: shop}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Start with a default-deny ingress policy (`podSelector: {}`, `policyTypes: [Ingress]`) in each
    namespace, then add policies that allow the connections each application needs. The CNI must
    enforce NetworkPolicies (Calico, Cilium, and most managed offerings do).

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies
    """
    inventory = ctx.inventory
    index = ctx.analyses.get(policy_index)
    for namespace in sorted(inventory.namespaces):
        workloads = index.workloads.get(namespace, 0)
        if not namespace or (namespace in PODLESS_SYSTEM_NAMESPACES and not workloads):
            continue
        target = _namespace_target(inventory, namespace)
        if target is None:
            continue
        if namespace in index.namespaces_with_policy:
            yield Outcome(target)
            continue
        exposed = (
            f"its {_plural(workloads, 'workload')} accept traffic from any pod in the cluster"
            if workloads
            else "any pod created in it will accept traffic from any pod in the cluster"
        )
        yield Outcome(
            target,
            (
                Violation(
                    f'namespace "{namespace}" has no NetworkPolicy: {exposed}',
                    remediation=_default_deny(namespace),
                ),
            ),
        )


def _service_target(service: Resource) -> str:
    namespace = f" -n {service.namespace}" if service.namespace else ""
    return f"service {service.name}{namespace}"


def _ports(service: Resource) -> str:
    ports = mapping(service.raw.get("spec")).get("ports")
    if not isinstance(ports, list):
        return ""
    shown = []
    for port in ports:
        port = mapping(port)
        node_port = port.get("nodePort")
        number = port.get("port")
        if node_port is not None:
            shown.append(f"{number}→node {node_port}")
        elif number is not None:
            shown.append(str(number))
    return f" (ports {', '.join(shown)})" if shown else ""


@rule(
    id="NP-002",
    name="nodeport-service",
    title="Service is exposed on a port of every node",
    severity=Severity.MEDIUM,
    area=EAST_WEST,
    stage=Stage.CRAWL,
    scope=Scope.OBJECT,
    kinds={"Service"},
    frameworks={
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05", "K06"],
        "mitre-attack": ["T1133", "T1190"],
    },
    remediation="Use type ClusterIP behind an Ingress or an internal LoadBalancer instead of NodePort.",
)
def nodeport_service(ctx: object, service: Resource) -> Iterator[Violation]:
    """Service is exposed on a port of every node.

    ## What it does
    Flags Services of `type: NodePort`. (LoadBalancer Services also allocate node ports; NP-003
    judges those.)

    ## Why is this bad?
    A NodePort opens the same port on every node's address, for any client that can reach a node,
    including networks that were never meant to see the application. Node addresses are rarely
    covered by the firewalls that guard the load balancers and ingress, and node ports are easy to
    find by scanning the 30000–32767 range.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: admin, namespace: shop}
    spec:
      type: NodePort
      selector: {app: admin}
      ports:
        - {port: 80, targetPort: 8080, nodePort: 30080}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: admin, namespace: shop}
    spec:
      type: ClusterIP
      selector: {app: admin}
      ports:
        - {port: 80, targetPort: 8080}
    ```

    ## Remediation
    Change the Service to `ClusterIP` and publish it through an Ingress (with TLS) or an internal
    load balancer; if node ports are unavoidable, firewall the node range to known sources.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport
    """
    if mapping(service.raw.get("spec")).get("type") == "NodePort":
        yield Violation(
            f'Service "{service.name}" is of type NodePort: it listens on every node{_ports(service)}',
            ("spec", "type"),
            remediation=f'kubectl patch {_service_target(service)} -p \'{{"spec":{{"type":"ClusterIP"}}}}\'',
        )


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


def _is_open(cidr: str) -> bool:
    return ipaddress.ip_network(cidr, strict=False).prefixlen == 0


@rule(
    id="NP-003",
    name="public-load-balancer",
    title="LoadBalancer Service is reachable from the internet",
    severity=Severity.HIGH,
    area=EAST_WEST,
    stage=Stage.CRAWL,
    scope=Scope.OBJECT,
    kinds={"Service"},
    frameworks={
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05", "K06"],
        "mitre-attack": ["T1190", "T1133"],
    },
    remediation="Make the load balancer internal (provider annotation) or set spec.loadBalancerSourceRanges.",
)
def public_load_balancer(ctx: object, service: Resource) -> Iterator[Violation]:
    """LoadBalancer Service is reachable from the internet.

    ## What it does
    Flags Services of `type: LoadBalancer` that have neither an internal-load-balancer annotation
    nor source ranges. Internal annotations recognised: AWS
    (`service.beta.kubernetes.io/aws-load-balancer-internal`, or `…-aws-load-balancer-scheme:
    internal`), GKE (`networking.gke.io/load-balancer-type: Internal`, and the older
    `cloud.google.com/…`), Azure (`service.beta.kubernetes.io/azure-load-balancer-internal:
    "true"`), OCI, OpenStack, Alibaba Cloud and IBM Cloud. Source ranges come from
    `spec.loadBalancerSourceRanges` (or the legacy `load-balancer-source-ranges` annotation);
    ranges that do not include `0.0.0.0/0` or `::/0` make the Service pass, while an open range
    fails as if none were set.

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
        f"kubectl patch {_service_target(service)}"
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
    open_ranges = [cidr for cidr in ranges if _is_open(cidr)]
    if open_ranges:
        path = ("spec", "loadBalancerSourceRanges") if where.startswith("spec") else ("metadata", "annotations")
        yield Violation(
            f'Service "{service.name}" is a public LoadBalancer: {where} allows {", ".join(open_ranges)}',
            path,
            remediation=restrict,
        )


def _host_covered(host: str, tls_hosts: set[str]) -> bool:
    if host in tls_hosts:
        return True
    first, dot, rest = host.partition(".")
    return bool(dot) and first != "*" and f"*.{rest}" in tls_hosts


@rule(
    id="NP-004",
    name="ingress-without-tls",
    title="Ingress serves hosts without TLS",
    severity=Severity.MEDIUM,
    area=EAST_WEST,
    stage=Stage.CRAWL,
    scope=Scope.OBJECT,
    kinds={"Ingress"},
    frameworks={
        "nsa-cisa": ["network.encryption"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
    },
    remediation="Add a spec.tls entry (hosts + secretName) covering every host of the Ingress.",
)
def ingress_without_tls(ctx: object, ingress: Resource) -> Iterator[Violation]:
    """Ingress serves hosts without TLS.

    ## What it does
    Flags Ingresses without `spec.tls` (one finding), and, when `spec.tls` exists, each rule host
    that no TLS entry covers (a TLS host `*.example.com` covers `shop.example.com`, not
    `a.b.example.com`). A TLS entry without `hosts` applies to every host (the controller's
    default certificate); rules without a host are covered as soon as one TLS entry exists.

    ## Why is this bad?
    Without TLS, credentials, session cookies and data cross the network in clear text and can be
    read or changed by anyone on the path, including other tenants of a shared network.

    ## Example
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop, namespace: shop}
    spec:
      ingressClassName: nginx
      rules:
        - host: shop.example.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend:
                  service: {name: web, port: {number: 80}}
    ```

    ## Use instead
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: shop, namespace: shop}
    spec:
      ingressClassName: nginx
      tls:
        - hosts: [shop.example.com]
          secretName: shop-tls
      rules:
        - host: shop.example.com
          http:
            paths:
              - path: /
                pathType: Prefix
                backend:
                  service: {name: web, port: {number: 80}}
    ```

    ## Remediation
    Add a `tls` entry for every host with a certificate Secret (cert-manager can issue and renew it
    with a `cert-manager.io/cluster-issuer` annotation), and have the controller redirect HTTP to
    HTTPS.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/ingress/#tls
    """
    spec = mapping(ingress.raw.get("spec"))
    tls = spec.get("tls")
    entries = [mapping(entry) for entry in tls] if isinstance(tls, list) else []
    if not entries:
        yield Violation(
            f'Ingress "{ingress.name}" has no spec.tls: its hosts are served over plain HTTP',
            ("spec", "tls") if tls is not None else ("spec",),
        )
        return
    tls_hosts: set[str] = set()
    for entry in entries:
        hosts = entry.get("hosts")
        if not isinstance(hosts, list) or not hosts:
            return  # an entry without hosts covers every host
        tls_hosts.update(h.lower() for h in hosts if isinstance(h, str))
    rules = spec.get("rules")
    if not isinstance(rules, list):
        return
    for index, item in enumerate(rules):
        host = mapping(item).get("host")
        if isinstance(host, str) and host and not _host_covered(host.lower(), tls_hosts):
            yield Violation(
                f'Ingress "{ingress.name}" serves host "{host}" without TLS: no spec.tls entry covers it',
                ("spec", "rules", index, "host"),
            )


def _labels(pod: PodTemplate) -> Mapping[str, object]:
    return mapping(pod.metadata.get("labels"))


def _policy_for(pod: PodTemplate, namespace: str) -> str:
    labels = {k: v for k, v in _labels(pod).items() if isinstance(k, str) and isinstance(v, str)}
    name = f"{pod.carrier.name or 'app'}-traffic"
    return _apply(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        }
    )


@rule(
    id="NP-005",
    name="pod-not-selected-by-network-policy",
    title="Pod is not selected by any NetworkPolicy",
    severity=Severity.MEDIUM,
    area=EAST_WEST,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.3.2"],
        "nsa-cisa": ["network.policies"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
        "mitre-attack": ["T1046"],
    },
    remediation="Add a NetworkPolicy whose podSelector matches the pod's labels (or a namespace default-deny).",
)
def pod_not_selected_by_network_policy(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod is not selected by any NetworkPolicy.

    ## What it does
    Matches each pod template's labels against the pod selectors of the NetworkPolicies in its
    namespace (`matchLabels` and `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`;
    an empty `podSelector` selects every pod) and flags pods that no policy selects. Kubernetes
    NetworkPolicies and CiliumNetworkPolicies (`endpointSelector`) are evaluated; Calico policies
    count only when their selector is empty or `all()`, since Stockade does not read Calico's
    selector language. A policy of any type (ingress or egress) counts as selecting the pod.

    ## Why is this bad?
    A namespace can have policies and still leave pods open: a policy for `app: api` does nothing
    for the `worker` next to it. Pods no policy selects accept every connection and may connect
    anywhere. Per-application allowed connections are the goal of east-west segmentation.

    ## Example
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: api, namespace: shop}
    spec:
      podSelector:
        matchLabels: {app: api}
      ingress:
        - from:
            - podSelector: {matchLabels: {app: web}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker, namespace: shop}
    spec:
      selector: {matchLabels: {app: worker}}
      template:
        metadata: {labels: {app: worker}}
        spec:
          containers:
            - {name: worker, image: registry.example.com/shop/worker:1.8}
    ```

    ## Use instead
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: backend, namespace: shop}
    spec:
      podSelector:
        matchExpressions:
          - {key: app, operator: In, values: [api, worker]}
      ingress:
        - from:
            - podSelector: {matchLabels: {app: web}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: worker, namespace: shop}
    spec:
      selector: {matchLabels: {app: worker}}
      template:
        metadata: {labels: {app: worker}}
        spec:
          containers:
            - {name: worker, image: registry.example.com/shop/worker:1.8}
    ```

    ## Remediation
    Give the namespace a default-deny policy (`podSelector: {}`) so that new pods start isolated,
    then write one policy per application allowing exactly the connections it needs.

    ## References
    - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    - https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
    """
    namespace = ctx.inventory.effective_namespace(pod.carrier)
    if namespace is None:
        return
    index = ctx.analyses.get(policy_index)
    selectors = index.selectors.get(namespace, ())
    labels = _labels(pod)
    if any(selector.matches(labels) for selector in selectors):
        return
    count = index.policies.get(namespace, 0)
    if not count:
        why = f'namespace "{namespace}" has no NetworkPolicy'
    elif count == 1:
        why = f'the only NetworkPolicy in namespace "{namespace}" does not select it'
    else:
        why = f'none of the {count} NetworkPolicies in namespace "{namespace}" selects it'
    unevaluated = index.unevaluated.get(namespace, 0)
    if unevaluated:
        why += f" ({_plural(unevaluated, 'Calico policy', 'Calico policies')} not evaluated)"
    shown = ", ".join(f"{k}={v}" for k, v in list(labels.items())[:5]) or "none"
    yield Violation(
        f"pod is not selected by any NetworkPolicy: {why} (pod labels: {shown})",
        (*pod.path, "metadata", "labels") if labels else pod.spec_path,
        remediation=_policy_for(pod, namespace),
    )
