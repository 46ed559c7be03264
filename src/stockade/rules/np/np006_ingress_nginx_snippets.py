"""NP-006: ingress-nginx configuration snippets (CVE-2021-25742)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, object_rule

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
# Annotations whose value ingress-nginx pastes into nginx.conf as it is.
SNIPPET_ANNOTATIONS = (
    "configuration-snippet",
    "server-snippet",
    "auth-snippet",
    "stream-snippet",
    "modsecurity-snippet",
)
ALLOW_SNIPPETS = "allow-snippet-annotations"


def _controller_config(configmap: Resource) -> bool:
    """The ingress-nginx controller's ConfigMap, as its installers name and label it."""
    labels = configmap.labels
    return labels.get("app.kubernetes.io/name") == "ingress-nginx" or configmap.name in (
        "ingress-nginx-controller",
        "nginx-configuration",
        "nginx-ingress-controller",
    )


@object_rule(
    id="NP-006",
    name="ingress-nginx-snippets",
    title="ingress-nginx configuration snippets are used or allowed",
    severity=Severity.HIGH,
    area=Area.EAST_WEST,
    stage=Stage.CRAWL,
    kinds={"Ingress", "ConfigMap"},
    frameworks={
        "owasp-k8s-2025": ["K07"],
        "mitre-attack": ["T1190", "T1552.007"],
    },
    remediation="Remove the snippet annotations, use the controller's dedicated annotations instead, and set "
    'allow-snippet-annotations: "false" in the ingress-nginx ConfigMap.',
)
def ingress_nginx_snippets(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
    """ingress-nginx configuration snippets are used or allowed.

    ## What it does
    Flags Ingresses carrying an ingress-nginx snippet annotation (`configuration-snippet`,
    `server-snippet`, `auth-snippet`, `stream-snippet`, `modsecurity-snippet`), and the
    ingress-nginx controller's ConfigMap (labelled `app.kubernetes.io/name: ingress-nginx`, or
    named as its installers name it) when it sets `allow-snippet-annotations: "true"`.

    ## Why is this bad?
    ingress-nginx pastes a snippet into its nginx configuration as it is. Anyone who may create or
    edit an Ingress can therefore make the controller read files it can read, among them its own
    ServiceAccount token, which may read every Secret in the cluster (CVE-2021-25742). Controller
    versions from 1.9 turn snippets off by default; a ConfigMap that turns them back on brings the
    risk back for every namespace.

    ## Example
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: shop
      namespace: shop
      annotations:
        nginx.ingress.kubernetes.io/configuration-snippet: |
          more_set_headers "X-Frame-Options: DENY";
    spec:
      ingressClassName: nginx
      rules:
        - host: shop.example.com
          http:
            paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ```

    ## Use instead
    ```yaml
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: shop
      namespace: shop
      annotations:
        nginx.ingress.kubernetes.io/custom-headers: shop/security-headers
    spec:
      ingressClassName: nginx
      rules:
        - host: shop.example.com
          http:
            paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    ```

    ## Remediation
    Replace each snippet with the dedicated annotation for what it does (headers, rewrites,
    authentication), set `allow-snippet-annotations: "false"` in the controller's ConfigMap, and
    upgrade the controller to a version that fixes CVE-2021-25742 (1.0.1 or later).

    ## References
    - https://github.com/kubernetes/ingress-nginx/issues/7837
    - https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#allow-snippet-annotations
    """
    if resource.kind == "Ingress":
        for name in SNIPPET_ANNOTATIONS:
            if NGINX_PREFIX + name in resource.annotations:
                yield Violation(
                    f'Ingress "{resource.name}" sets {NGINX_PREFIX}{name}: ingress-nginx pastes it into its configuration',
                    ("metadata", "annotations", NGINX_PREFIX + name),
                )
        return
    data = mapping(resource.raw.get("data"))
    if _controller_config(resource) and str(data.get(ALLOW_SNIPPETS, "")).strip().lower() == "true":
        yield Violation(
            f'ConfigMap "{resource.name}" sets {ALLOW_SNIPPETS}: "true": any Ingress author may add snippets',
            ("data", ALLOW_SNIPPETS),
        )
