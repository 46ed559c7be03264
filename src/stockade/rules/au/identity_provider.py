"""AU-002: users authenticate with an external identity provider (OIDC or structured authentication)."""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.cp._flags import FlagCheck, any_set, flag_rule

CHECKS = (
    FlagCheck(
        "AU-002",
        "no-external-identity-provider",
        "3.1.1",
        "kube-apiserver",
        "API server has no external identity provider for users",
        Severity.MEDIUM,
        Stage.WALK,
        any_set("oidc-issuer-url", "authentication-config"),
        "Checks that kube-apiserver trusts an identity provider: `--oidc-issuer-url`, or a structured "
        "`--authentication-config` (v1.30+, several issuers, claim rules, anonymous limits).",
        "Without one, people log in with client certificates or static tokens: neither can be revoked "
        "(a certificate stays valid until it expires), neither carries MFA, and a leaver keeps access.",
        "Configure OIDC (`--oidc-issuer-url`, `--oidc-client-id`, …) or an AuthenticationConfiguration "
        "file, and hand people kubeconfigs that use it.",
        bad=("--authentication-config",),
        good=("--authentication-config=/etc/kubernetes/authentication.yaml",),
        references=("https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens",),
        frameworks={"nsa-cisa": ["authn.authentication"]},
        area=Area.AUTHENTICATION,
    ),
)

RULES = tuple(flag_rule(check) for check in CHECKS)
