"""Pod or container turns seccomp off (Pod Security baseline).

## What it does
Runs the baseline `seccompProfile_baseline` check: `securityContext.seccompProfile.type` (pod
and containers), when set, must be `RuntimeDefault` or `Localhost`. (At restricted,
`seccompProfile_restricted`, PSS-017, takes its place and also requires the profile.)

## Why is this bad?
`Unconfined` lets every system call reach the kernel, including the rarely used ones most
kernel privilege escalations go through.

## Example
```yaml
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: finance}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
            seccompProfile: {type: Unconfined}
          containers:
            - {name: report, image: registry.example.com/finance/report:5.1}
```

## Use instead
```yaml
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: finance}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
            seccompProfile: {type: RuntimeDefault}
          containers:
            - {name: report, image: registry.example.com/finance/report:5.1}
```

## Remediation
Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext.

## References
- https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
"""

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "seccompProfile_baseline",
        __doc__,
        id="PSS-009",
        name="pss-seccomp-baseline",
        title="Pod or container turns seccomp off (Pod Security baseline)",
        severity=Severity.HIGH,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.CRAWL,
        remediation="Set securityContext.seccompProfile.type to RuntimeDefault or Localhost (never Unconfined).",
        default=False,
    ),
)
