"""RB-010: who can approve certificate signing requests, or approve for a signer."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rbac.exposure import Exposure
from stockade.rbac.model import Request
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import RBAC_READS, RbacScan, rbac_scan

CSR_GROUP = "certificates.k8s.io"
CLIENT_SIGNERS = ("kubernetes.io/kube-apiserver-client", "kubernetes.io/*")


def _reaches_client_signer(exposure: Exposure) -> bool:
    """Whether the signer rule approves for a client signer (no resourceNames: every signer)."""
    names = exposure.match.names
    return not names or any(name in CLIENT_SIGNERS or name == "*" for name in names)


def _csr_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Critical when a subject holds both halves: approving CSRs and approving for a client signer."""
    if exposure.match.danger is Danger.APPROVE_CSRS:
        others = [Request("approve", "signers", api_group=CSR_GROUP, name=name) for name in CLIENT_SIGNERS]
    elif _reaches_client_signer(exposure):
        others = [Request("update", "certificatesigningrequests/approval", api_group=CSR_GROUP, name="any")]
    else:
        return Severity.MEDIUM  # a serving or custom signer issues no identity to the API server
    for subject in exposure.subjects:
        if any(scan.index.can_subject(subject, request).allowed for request in others):
            return Severity.CRITICAL
    return Severity.MEDIUM


@inventory_rule(
    id="RB-010",
    reads=RBAC_READS,
    name="approve-certificate-requests",
    title="Subjects can approve certificate signing requests",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1550", "T1136"],
        "cis-1.10": ["5.1.11"],
    },
    remediation="Leave CSR approval to the control plane's approvers; remove approval and signer rights from people.",
)
def approve_certificate_requests(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can approve certificate signing requests.

    ## What it does
    Flags ClusterRole rules that allow `update` or `patch` on `certificatesigningrequests/approval`,
    or `approve` on `signers` (certificates.k8s.io), when bound cluster-wide. Critical when a
    subject holds both and the signer approval reaches a client signer
    (`kubernetes.io/kube-apiserver-client`, `kubernetes.io/*`, or every signer): it can approve
    client certificates. Medium for one half alone, and for signer approval limited to non-client
    signers such as `kubernetes.io/kubelet-serving`.

    ## Why is this bad?
    Whoever can create and approve a CertificateSigningRequest for the
    `kubernetes.io/kube-apiserver-client` signer gets a client certificate with any name and any
    groups, `system:masters` included. Certificates cannot be revoked: they stay valid until they
    expire.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: csr-approver}
    rules:
      - apiGroups: [certificates.k8s.io]
        resources: [certificatesigningrequests/approval]
        verbs: [update]
      - apiGroups: [certificates.k8s.io]
        resources: [signers]
        resourceNames: [kubernetes.io/kube-apiserver-client]
        verbs: [approve]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: csr-approver}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-approver}
    subjects:
      - {kind: Group, name: platform, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: csr-viewer}
    rules:
      - apiGroups: [certificates.k8s.io]
        resources: [certificatesigningrequests]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: csr-viewer}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: csr-viewer}
    subjects:
      - {kind: Group, name: platform, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Kubelet serving and client certificates are approved by the control plane's own approvers.
    Give people read access; issue user access through the identity provider, not certificates.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#csrs-and-certificate-issuing
    - https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization
    """
    dangers = (Danger.APPROVE_CSRS, Danger.APPROVE_SIGNERS)
    yield from danger_outcomes(rbac_scan(ctx), dangers, rate=_csr_rate)
