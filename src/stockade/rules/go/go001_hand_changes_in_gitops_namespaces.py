"""GO-001: an object in a namespace a GitOps operator manages, last written by hand."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.gitops import GITOPS_GROUPS, by_hand, discover
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule


def _writes(raw: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(time, manager, operation) of every managedFields entry, oldest first."""
    metadata = raw.get("metadata")
    entries = metadata.get("managedFields") if isinstance(metadata, Mapping) else None
    found = []
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and isinstance(entry.get("manager"), str):
            found.append((str(entry.get("time") or ""), entry["manager"], str(entry.get("operation") or "")))
    return sorted(found)


@inventory_rule(
    id="GO-001",
    reads={READS_ANY},
    name="hand-change-in-gitops-namespace",
    title="Object in a GitOps-managed namespace was changed by hand",
    severity=Severity.MEDIUM,
    area=Area.GITOPS,
    stage=Stage.RUN,
    frameworks={"nsa-cisa": ["logging.audit"]},
    remediation="Make the change in git and let the operator apply it; find who wrote it in the audit log "
    "(stockade audit scan) and take write access to the namespace away from people.",
)
def hand_changes(ctx: RuleContext) -> Iterator[Outcome]:
    """Object in a GitOps-managed namespace was changed by hand.

    ## What it does
    Finds the namespaces Argo CD Applications and Flux Kustomizations and HelmReleases deploy into,
    then reads each object's `managedFields` (a live cluster or a snapshot records them): an object
    whose latest write came from `kubectl` (edit, patch, apply, scale…), k9s, Lens or another
    hand-held client, rather than from the operator or a Kubernetes controller, was changed outside
    git. The audit log says who (`stockade audit scan`); `managedFields` is what is left when no
    audit log is kept.

    ## Why is this bad?
    In a GitOps namespace git is the record of what should run. A change made by hand is either an
    emergency nobody wrote down, a drift the operator will silently revert, or an attacker's change
    that no review saw.

    ## Example
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: shop, namespace: argocd}
    spec:
      destination: {namespace: shop, server: "https://kubernetes.default.svc"}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      managedFields:
        - {manager: argocd-controller, operation: Apply, time: "2026-12-01T10:00:00Z"}
        - {manager: kubectl-edit, operation: Update, time: "2026-12-04T23:12:00Z"}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: web, image: "registry.example.com/shop/web:3.2"}
    ```

    ## Use instead
    ```yaml
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata: {name: shop, namespace: argocd}
    spec:
      destination: {namespace: shop, server: "https://kubernetes.default.svc"}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
      managedFields:
        - {manager: argocd-controller, operation: Apply, time: "2026-12-05T09:00:00Z"}
        - {manager: kube-controller-manager, operation: Update, subresource: status, time: "2026-12-05T09:00:05Z"}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: web, image: "registry.example.com/shop/web:3.3"}
    ```

    ## Remediation
    Put the change into git (or revert it there), let the operator sync, and remove write access
    for people in GitOps namespaces so that the next change has to go through review.

    ## References
    - https://argo-cd.readthedocs.io/en/stable/user-guide/diffing/
    - https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
    """
    managed = ctx.analyses.get(discover).managed
    if not managed:
        return
    for resource in ctx.inventory.resources:
        namespace = ctx.inventory.effective_namespace(resource)
        if namespace is None or namespace not in managed or resource.group in GITOPS_GROUPS:
            continue
        writes = _writes(resource.raw)
        if not writes:
            continue
        time, manager, operation = writes[-1]
        if by_hand(manager):
            message = (
                f"last written by {manager} ({operation or 'write'} at {time or 'an unknown time'}), not by "
                f"{managed[namespace]}"
            )
            yield Outcome(resource, (Violation(message, ("metadata", "managedFields")),))
        else:
            yield Outcome(resource)
