"""NP-007: Services with externalIPs (CVE-2020-8554)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, object_rule


@object_rule(
    id="NP-007",
    name="service-external-ips",
    title="Service claims external IP addresses",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    kinds={"Service"},
    # Adversary-in-the-Middle (T1557) is not in ATT&CK's Containers matrix, so no MITRE mapping.
    frameworks={"owasp-k8s-2025": ["K07"]},
    remediation="Remove spec.externalIPs (use a LoadBalancer or an Ingress) and deny externalIPs at admission "
    "(the DenyServiceExternalIPs admission plugin, or a policy).",
)
def service_external_ips(ctx: RuleContext, service: Resource) -> Iterator[Violation]:
    """Service claims external IP addresses.

    ## What it does
    Flags Services that set `spec.externalIPs`.

    ## Why is this bad?
    kube-proxy sends traffic for any address listed in `externalIPs` to the Service's pods, on every
    node, whoever owns that address. Anyone allowed to create or edit a Service can list the
    address of another service, inside or outside the cluster, and receive the traffic the
    cluster's pods and nodes send to it: a man-in-the-middle (CVE-2020-8554). Kubernetes has no fix
    in code; the answer is to keep the field unused and deny it at admission.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: metrics, namespace: shop}
    spec:
      selector: {app: metrics}
      ports:
        - {port: 443, targetPort: 8443}
      externalIPs: [203.0.113.10]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Service
    metadata: {name: metrics, namespace: shop}
    spec:
      type: LoadBalancer
      selector: {app: metrics}
      ports:
        - {port: 443, targetPort: 8443}
    ```

    ## Remediation
    Publish the Service through a load balancer or an Ingress instead, and turn on the
    `DenyServiceExternalIPs` admission plugin (or an admission policy) so that no Service can
    claim an address again.

    ## References
    - https://github.com/kubernetes/kubernetes/issues/97076
    - https://kubernetes.io/docs/concepts/services-networking/service/#external-ips
    """
    addresses = mapping(service.raw.get("spec")).get("externalIPs")
    if isinstance(addresses, list) and addresses:
        shown = ", ".join(str(a) for a in addresses[:5]) + (" …" if len(addresses) > 5 else "")
        yield Violation(
            f'Service "{service.name}" claims externalIPs {shown}: traffic to those addresses goes to its pods',
            ("spec", "externalIPs"),
        )
