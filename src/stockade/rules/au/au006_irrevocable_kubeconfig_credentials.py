"""AU-006: kubeconfigs handed to people that carry credentials which cannot be revoked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext, Violation, object_rule

MASTERS = "system:masters"
ONE_YEAR = dt.timedelta(days=366)


@object_rule(
    kinds={"KubeconfigUser"},
    id="AU-006",
    name="irrevocable-kubeconfig-credentials",
    title="Kubeconfig carries a credential that cannot be revoked",
    severity=Severity.HIGH,
    area=Area.AUTHENTICATION,
    stage=Stage.WALK,
    frameworks={"cis-1.10": ["3.1.1"], "nsa-cisa": ["authn.authentication"], "mitre-attack": ["T1078.001"]},
    remediation="Hand people kubeconfigs that log in through the identity provider (an exec plugin such as "
    "kubelogin), and keep the admin certificate for break-glass, offline.",
)
def irrevocable_kubeconfig_credentials(ctx: RuleContext, user: Resource) -> Iterator[Violation]:
    """Kubeconfig carries a credential that cannot be revoked.

    ## What it does
    Reads kubeconfig files named with `--audit-kubeconfig` (the ones handed to people). Stockade keeps
    only what kind of credential each user carries and, for a client certificate, its names, groups
    and validity; keys, tokens and passwords are never read into an object. It flags client
    certificates (critical in `system:masters`; said so when valid for more than a year or
    expired), static bearer tokens, and usernames with passwords. Users that log in through an exec
    plugin or an auth provider pass.

    ## Why is this bad?
    Kubernetes cannot revoke a client certificate: it stays valid until it expires, whoever copied
    it. A certificate in `system:masters` also bypasses RBAC entirely. Static tokens live until
    someone removes them from the API server's file.

    ## Example
    ```yaml
    apiVersion: stockade.io/v1alpha1
    kind: KubeconfigUser
    metadata: {name: "admin.conf:kubernetes-admin"}
    spec:
      file: admin.conf
      user: kubernetes-admin
      credential: client-certificate
      certificate:
        commonName: kubernetes-admin
        groups: [system:masters]
        notBefore: "2025-01-01T00:00:00+00:00"
        notAfter: "2099-01-01T00:00:00+00:00"
    ```

    ## Use instead
    ```yaml
    apiVersion: stockade.io/v1alpha1
    kind: KubeconfigUser
    metadata: {name: "dev.conf:oidc"}
    spec: {file: dev.conf, user: oidc, credential: exec}
    ```

    ## Remediation
    Replace certificate and token users with OIDC (an exec plugin); for the cluster's own admin
    certificate, store it offline as a break-glass credential and rotate the CA if it leaked.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#x509-client-certificates
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/
    """
    spec = user.raw.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    name = spec.get("user", "?")
    credential = spec.get("credential")
    if credential == "client-certificate":
        yield _certificate_violation(name, spec.get("certificate"), spec.get("certificateFile"))
    elif credential == "token":
        yield Violation(f"user {name} carries a static bearer token", ("spec", "credential"))
    elif credential == "basic":
        yield Violation(
            f"user {name} logs in with a username and password", ("spec", "credential"), severity=Severity.CRITICAL
        )


def _certificate_violation(name: str, facts: object, file: object) -> Violation:
    if not isinstance(facts, Mapping):
        where = f"the file {file}" if file else "data that is not a PEM certificate"
        return Violation(f"user {name} logs in with a client certificate ({where})", ("spec", "credential"))
    groups = [str(g) for g in facts.get("groups") or []]
    try:
        start = dt.datetime.fromisoformat(str(facts.get("notBefore")))
        end = dt.datetime.fromisoformat(str(facts.get("notAfter")))
    except ValueError:
        return Violation(f"user {name} logs in with a client certificate", ("spec", "certificate"))
    start, end = (t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in (start, end))
    notes = [f"expired {end:%Y-%m-%d}" if end < dt.datetime.now(dt.UTC) else f"valid until {end:%Y-%m-%d}"]
    if end - start > ONE_YEAR:
        notes.append(f"issued for {(end - start).days // 365} years")
    in_groups = f" in groups {', '.join(groups)}" if groups else ""
    message = (
        f"user {name} logs in with a client certificate for {facts.get('commonName')}{in_groups} ({'; '.join(notes)})"
    )
    if MASTERS in groups:
        return Violation(
            message + f": {MASTERS} bypasses RBAC and cannot be revoked",
            ("spec", "certificate"),
            severity=Severity.CRITICAL,
        )
    return Violation(message + ": it cannot be revoked before it expires", ("spec", "certificate"))
