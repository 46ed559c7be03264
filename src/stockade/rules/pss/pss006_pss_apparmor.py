"""Pod or container turns AppArmor off (Pod Security baseline).

## What it does
Runs the baseline `appArmorProfile` check: `securityContext.appArmorProfile.type` (pod and
containers) must be `RuntimeDefault` or `Localhost`, and the
`container.apparmor.security.beta.kubernetes.io/*` annotations `runtime/default`, `localhost/…`
or empty. Leaving the profile unset is allowed.

## Why is this bad?
`Unconfined` removes the runtime's AppArmor profile, which denies writes to `/proc` and `/sys`
and mounts that several container escapes rely on.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - name: api
      image: registry.example.com/shop/api:2.3.1
      securityContext:
        appArmorProfile: {type: Unconfined}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers:
    - name: api
      image: registry.example.com/shop/api:2.3.1
      securityContext:
        appArmorProfile: {type: RuntimeDefault}
```

## Remediation
Set the profile type to `RuntimeDefault` (or a `Localhost` profile written for the application).

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "appArmorProfile",
        __doc__,
        id="PSS-006",
        name="pss-apparmor",
        title="Pod or container turns AppArmor off (Pod Security baseline)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Set securityContext.appArmorProfile.type to RuntimeDefault or Localhost (annotation: runtime/default).",
        default=False,
    ),
)
