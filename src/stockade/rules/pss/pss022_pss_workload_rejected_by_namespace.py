"""PSS-022: a workload its namespace's enforced Pod Security level would reject."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules._pss import merged_remediation, remediation_text, violation_path
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.pss._namespaces import policies


@pod_rule(
    id="PSS-022",
    reads={"Namespace"},
    name="pss-workload-rejected-by-namespace",
    title="Workload would be rejected by its namespace's Pod Security level",
    severity=Severity.HIGH,
    area=Area.ADMISSION,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["pod-security.enforcement"],
        "owasp-k8s-2022": ["K01", "K04"],
        "owasp-k8s-2025": ["K01", "K04"],
    },
    remediation="Fix the pod template so it meets the namespace's enforced level (see the violated checks).",
)
def pss_workload_rejected_by_namespace(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Workload would be rejected by its namespace's Pod Security level.

    ## What it does
    Evaluates each pod template at the level and version its namespace enforces (the
    `pod-security.kubernetes.io/enforce` and `enforce-version` labels of the Namespace object in the
    input) and flags the templates that level denies, naming the violated checks. Templates whose
    namespace is not in the input, or has no enforce label, pass: there is no enforced level to
    compare with.

    ## Why is this bad?
    Enforcement applies to Pods, not to the workloads that create them: a Deployment that breaks
    its namespace's level is accepted, and its next rollout (or rescheduling) creates no pods. The
    running pods predate the label or were admitted some other way.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: restricted
        pod-security.kubernetes.io/enforce-version: v1.33
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: storefront}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: web, image: registry.example.com/shop/web:3.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: restricted
        pod-security.kubernetes.io/enforce-version: v1.33
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: storefront}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          securityContext:
            runAsNonRoot: true
            seccompProfile: {type: RuntimeDefault}
          containers:
            - name: web
              image: registry.example.com/shop/web:3.2
              securityContext:
                allowPrivilegeEscalation: false
                capabilities: {drop: [ALL]}
    ```

    ## Remediation
    Run `stockade pss evaluate` on the manifests: it prints each violated check with the patch that
    clears it. Apply the fixes before the next rollout.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/#workload-resources-and-pod-templates
    """
    namespace = ctx.inventory.effective_namespace(pod.carrier)
    policy = policies(ctx).get(namespace) if namespace is not None else None
    if policy is None or not policy.enforce.labelled or policy.enforce.level == "privileged":
        return
    enforce = policy.enforce
    result = ctx.analyses.pss(pod, enforce.level, enforce.version)
    if result.allowed:
        return
    checks = ", ".join(v.check for v in result.violations)
    first = result.violations[0]
    when = "if it were created again" if pod.carrier.kind == "Pod" else "at the next rollout"
    yield Violation(
        f'namespace "{namespace}" enforces Pod Security {enforce.level}:{enforce.version}, which would reject '
        f"this pod {when}; violated checks: {checks}",
        violation_path(pod, first),
        remediation=remediation_text(pod, merged_remediation(result.violations)),
    )
