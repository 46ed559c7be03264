"""NP-004: Ingress hosts served without TLS."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, object_rule


def _host_covered(host: str, tls_hosts: set[str]) -> bool:
    if host in tls_hosts:
        return True
    first, dot, rest = host.partition(".")
    return bool(dot) and first != "*" and f"*.{rest}" in tls_hosts


@object_rule(
    id="NP-004",
    name="ingress-without-tls",
    title="Ingress serves hosts without TLS",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    kinds={"Ingress"},
    frameworks={
        "nsa-cisa": ["network.encryption"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
    },
    remediation="Add a spec.tls entry (hosts + secretName) covering every host of the Ingress.",
)
def ingress_without_tls(ctx: RuleContext, ingress: Resource) -> Iterator[Violation]:
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
