"""NS-001: an application object that lives in the default namespace."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.resource import Resource
from stockade.pss import Malformed
from stockade.rules.base import MalformedField, RuleContext, Violation, object_rule

# Namespaced application objects (and every built-in pod carrier) that NS-001 looks at.
NAMESPACED_APP_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Rollout",
        "Service",
        "ConfigMap",
        "Secret",
        "Ingress",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PersistentVolumeClaim",
    }
)

_DEFAULT_SERVICE_ACCOUNT = "default"
# Objects Kubernetes itself creates in the default namespace: nobody can move them.
_BUILT_IN_DEFAULT_OBJECTS = frozenset(
    {("Service", "kubernetes"), ("ServiceAccount", _DEFAULT_SERVICE_ACCOUNT), ("ConfigMap", "kube-root-ca.crt")}
)


def _built_in(resource: Resource) -> bool:
    if (resource.kind, resource.name) in _BUILT_IN_DEFAULT_OBJECTS:
        return True
    # The legacy token Secret of the default ServiceAccount, created by the token controller.
    return (
        resource.kind == "Secret"
        and resource.raw.get("type") == "kubernetes.io/service-account-token"
        and resource.annotations.get("kubernetes.io/service-account.name") == _DEFAULT_SERVICE_ACCOUNT
    )


def _owner_in_scan(inventory: Inventory, resource: Resource, namespace: str) -> bool:
    """Whether the object's controlling owner is in the scan; raises on an ownerReferences shape the
    API server rejects (``controller: "true"`` is a string, not the controller flag)."""
    owners = resource.metadata.get("ownerReferences")
    if owners is None:
        return False
    if not isinstance(owners, list):
        raise MalformedField(str(Malformed.of("metadata.ownerReferences", "a list", owners)))
    for position, owner in enumerate(owners):
        # An entry that names no owner cannot make one in the scan the controller: the object is
        # reported either way. A controller flag of the wrong type could, so it cannot be judged.
        if not isinstance(owner, Mapping):
            continue
        controller = owner.get("controller")
        if controller is not None and not isinstance(controller, bool):
            field = f"metadata.ownerReferences[{position}].controller"
            raise MalformedField(str(Malformed.of(field, "a boolean (true or false)", controller)))
        kind, name = owner.get("kind"), owner.get("name")
        if (
            controller
            and isinstance(kind, str)
            and isinstance(name, str)
            and inventory.get(kind, namespace, name) is not None
        ):
            return True
    return False


@object_rule(
    id="NS-001",
    reads_owner=True,
    name="default-namespace",
    title="Object lives in the default namespace",
    severity=Severity.LOW,
    area=Area.NAMESPACES,
    stage=Stage.CRAWL,
    kinds=NAMESPACED_APP_KINDS,
    frameworks={
        "cis-1.10": ["5.7.1", "5.7.4"],
        "nsa-cisa": ["network.namespaces"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
    },
    remediation="Create a namespace for the application and deploy the object there (metadata.namespace).",
)
def default_namespace(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
    """Object lives in the default namespace.

    ## What it does
    Flags workloads (every built-in kind that carries a pod template, and Argo Rollouts), Services,
    ConfigMaps, Secrets, Ingresses, ServiceAccounts, Roles, RoleBindings and
    PersistentVolumeClaims whose namespace is `default`, or unset: a manifest without
    `metadata.namespace` lands in `default` unless it is applied with `-n`. Objects that Kubernetes
    itself creates there (the `kubernetes` Service, the `default` ServiceAccount and its token,
    `kube-root-ca.crt`) are not reported, nor objects whose controlling owner is in the scan (the
    owner is reported instead). An `ownerReferences` entry the API server would reject (a
    `controller` that is not a boolean, such as the string `"true"`) is an error, not a pass.

    ## Why is this bad?
    Namespaces are the unit of RBAC, NetworkPolicy, quotas and Pod Security admission. Everything
    in `default` shares one set of those, usually the loosest one, and anyone granted access to
    `default` for one application reaches all of them.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: default}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-settings}
    data: {LOG_LEVEL: info}
    ```

    ## Use instead
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
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-settings, namespace: shop}
    data: {LOG_LEVEL: info}
    ```

    ## Remediation
    Create a namespace per application or team (`kubectl create namespace shop`), set
    `metadata.namespace` in the manifests (or `namespace:` in kustomization.yaml), and re-create the
    objects there; an object cannot be moved between namespaces.

    ## References
    - https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
    """
    if ctx.inventory.effective_namespace(resource) != DEFAULT_NAMESPACE or _built_in(resource):
        return
    if _owner_in_scan(ctx.inventory, resource, DEFAULT_NAMESPACE):
        return
    if resource.namespace is None:
        yield Violation(
            f"{resource.kind} has no namespace set; it lands in the default namespace unless applied with -n",
            ("metadata",),
        )
    else:
        # The same path whether the namespace is explicit or defaulted: a manifest and the object a
        # cluster returns for it must give the same fingerprint.
        yield Violation(f"{resource.kind} is in the default namespace", ("metadata",))
