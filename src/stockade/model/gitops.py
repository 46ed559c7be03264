"""Which namespaces a GitOps operator (Argo CD, Flux) deploys into, and which identities it writes as.

Read from the objects of a cluster or a snapshot: Argo CD Applications and ApplicationSets name a
destination namespace; Flux Kustomizations and HelmReleases a target namespace (or their own). The
operator writes as its controller's ServiceAccount, or as the ServiceAccount it is told to
impersonate (Flux ``spec.serviceAccountName``, Argo CD ``AppProject.spec.destinationServiceAccounts``).
GO-001 (``managedFields``), AD-013 (audit events) and ``stockade drift`` share this view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.model.inventory import Inventory

ARGO = "argoproj.io"
FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io"
FLUX_HELM = "helm.toolkit.fluxcd.io"
GITOPS_GROUPS = frozenset({ARGO, FLUX_KUSTOMIZATION, FLUX_HELM})
# The controllers that apply what git says, by the workload name their installers give them.
ARGO_CONTROLLER = "argocd-application-controller"
FLUX_CONTROLLERS = ("kustomize-controller", "helm-controller")
# Field managers of the operators: what they write is what git says.
OPERATOR_MANAGERS = frozenset(
    {"argocd-controller", "argocd-application-controller", "kustomize-controller", "helm-controller", "flux"}
)
# Clients a person holds; as a field manager or user agent they mean a change was typed, not synced.
HAND_CLIENTS = ("kubectl", "k9s", "mozilla", "lens", "headlamp", "helm", "curl", "python-requests", "postman")


@dataclass(frozen=True, slots=True)
class GitOpsScope:
    """``managed``: namespace → the operator object that deploys into it; ``operators``: the
    usernames (``system:serviceaccount:NS:NAME``) the operators write as."""

    managed: Mapping[str, str]
    operators: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.managed)

    def widened(self, namespaces: Mapping[str, str], operators: frozenset[str]) -> GitOpsScope:
        """This scope plus namespaces and identities the user named."""
        return GitOpsScope({**self.managed, **namespaces}, self.operators | operators)


NO_GITOPS = GitOpsScope({})
# Who the operators write as in their default installs (Argo CD in argocd, Flux in flux-system).
DEFAULT_OPERATORS = frozenset(
    {
        "system:serviceaccount:argocd:argocd-application-controller",
        "system:serviceaccount:flux-system:kustomize-controller",
        "system:serviceaccount:flux-system:helm-controller",
    }
)


def service_account(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def by_hand(client: str) -> bool:
    """A field manager or user agent that is a hand-held client, not an operator or a controller."""
    if client in OPERATOR_MANAGERS:
        return False
    return client.lower().startswith(HAND_CLIENTS)


def discover(inventory: Inventory) -> GitOpsScope:
    managed: dict[str, str] = {}
    operators: set[str] = set()
    for app in inventory.of_kind("Application", "ApplicationSet"):
        if app.group != ARGO:
            continue
        spec = _mapping(app.raw.get("spec"))
        if app.kind == "ApplicationSet":
            spec = _mapping(_mapping(spec.get("template")).get("spec"))
        namespace = _mapping(spec.get("destination")).get("namespace")
        if isinstance(namespace, str) and namespace:
            managed.setdefault(namespace, f"Argo CD {app.kind} {app.namespace}/{app.name}")
        if app.namespace:  # the default install: the controller runs beside its Applications
            operators.add(service_account(app.namespace, ARGO_CONTROLLER))
    for project in inventory.of_kind("AppProject"):
        if project.group != ARGO:
            continue
        for entry in _list(_mapping(project.raw.get("spec")).get("destinationServiceAccounts")):
            account = _mapping(entry).get("defaultServiceAccount")
            namespace = _mapping(entry).get("namespace")
            if isinstance(account, str) and account and isinstance(namespace, str) and "*" not in namespace:
                if ":" in account:  # "namespace:name" names its own namespace
                    operators.add(service_account(*account.split(":", 1)))
                else:
                    operators.add(service_account(namespace, account))
    for item in inventory.of_kind("Kustomization", "HelmRelease"):
        if item.group not in (FLUX_KUSTOMIZATION, FLUX_HELM) or not item.namespace:
            continue
        spec = _mapping(item.raw.get("spec"))
        target = spec.get("targetNamespace")
        namespace = target if isinstance(target, str) and target else item.namespace
        if namespace != "flux-system":
            managed.setdefault(namespace, f"Flux {item.kind} {item.namespace}/{item.name}")
        account = spec.get("serviceAccountName")
        if isinstance(account, str) and account:  # Flux impersonates it in the object's namespace
            operators.add(service_account(item.namespace, account))
        operators.update(service_account("flux-system", name) for name in FLUX_CONTROLLERS)
    operators.update(_controller_accounts(inventory))
    return GitOpsScope(managed, frozenset(operators))


def _controller_accounts(inventory: Inventory) -> set[str]:
    """The ServiceAccounts the operators' own controllers run as, wherever they are installed."""
    found = set()
    for workload in inventory.of_kind("Deployment", "StatefulSet"):
        if workload.name not in (ARGO_CONTROLLER, *FLUX_CONTROLLERS) or not workload.namespace:
            continue
        pod = _mapping(_mapping(_mapping(workload.raw.get("spec")).get("template")).get("spec"))
        account = pod.get("serviceAccountName") or pod.get("serviceAccount") or "default"
        found.add(service_account(workload.namespace, str(account)))
    return found


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
