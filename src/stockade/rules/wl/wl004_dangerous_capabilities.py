"""WL-004: a container that adds a dangerous capability (among those the Pod Security
``capabilities_baseline`` check denies, graded by danger)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef, is_list, is_map
from stockade.pss import Malformed
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, malformed_field
from stockade.rules.wl._verdict import verdict

# Only capabilities outside the Pod Security baseline set (MKNOD, SETFCAP… are runtime defaults
# that baseline lets a container add back); tests/pss/test_agreement.py keeps the lists apart.
DANGEROUS_CAPABILITIES: Final = {
    "ALL": Severity.CRITICAL,
    "SYS_ADMIN": Severity.CRITICAL,
    "SYS_MODULE": Severity.CRITICAL,
    "SYS_PTRACE": Severity.HIGH,
    "SYS_RAWIO": Severity.HIGH,
    "DAC_READ_SEARCH": Severity.HIGH,
    "BPF": Severity.HIGH,
    "PERFMON": Severity.HIGH,
    "NET_ADMIN": Severity.HIGH,
    "SYS_BOOT": Severity.HIGH,
    "SYS_TIME": Severity.MEDIUM,
    "NET_RAW": Severity.MEDIUM,
}


@container_rule(
    id="WL-004",
    name="dangerous-capabilities",
    title="Container adds a dangerous Linux capability",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.8", "5.2.9"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611", "T1068"],
    },
    remediation="Remove the capability from securityContext.capabilities.add.",
)
def dangerous_capabilities(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container adds a dangerous Linux capability.

    ## What it does
    Flags `securityContext.capabilities.add` entries that give kernel-level power: `ALL`,
    `SYS_ADMIN` and `SYS_MODULE` (critical), `SYS_PTRACE`, `NET_ADMIN`, `BPF`, `DAC_READ_SEARCH` and
    others (high), `NET_RAW` (medium). The `CAP_` prefix and letter case are ignored.

    ## Why is this bad?
    `SYS_ADMIN` alone allows mounting file systems and most known container escapes; `SYS_PTRACE`
    reads other processes' memory; `NET_RAW` allows ARP and DNS spoofing inside the node network.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: netmon, namespace: monitoring}
    spec:
      selector: {matchLabels: {app: netmon}}
      template:
        metadata: {labels: {app: netmon}}
        spec:
          containers:
            - name: netmon
              image: registry.example.com/ops/netmon:1.0
              securityContext:
                capabilities:
                  add: [NET_ADMIN, SYS_ADMIN]
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: netmon, namespace: monitoring}
    spec:
      selector: {matchLabels: {app: netmon}}
      template:
        metadata: {labels: {app: netmon}}
        spec:
          containers:
            - name: netmon
              image: registry.example.com/ops/netmon:1.0
              securityContext:
                capabilities:
                  drop: [ALL]
                  add: [NET_BIND_SERVICE]
    ```

    ## Remediation
    Drop the capability. If the workload needs it, isolate it (dedicated nodes, a waiver with an
    expiry) rather than granting it to general workloads.

    ## References
    - https://man7.org/linux/man-pages/man7/capabilities.7.html
    """
    denied = verdict(ctx, container.pod, "capabilities_baseline")
    if denied is None:
        return
    capabilities = container_context(container).get("capabilities")
    field = f"{container.view.field}.securityContext.capabilities"
    denied.require_well_formed(field)
    added = capabilities.get("add") if is_map(capabilities) else None
    denied.require_well_formed(field + ".add")
    if not is_list(added):
        return
    problem: Malformed | None = None
    found = False
    for index, capability in enumerate(added):
        entry = f"{field}.add[{index}]"
        if not denied.flags(entry):
            continue
        malformed = denied.problem(entry)
        if malformed is not None:
            problem = problem or malformed
            continue
        name = str(capability).upper().removeprefix("CAP_")
        severity = DANGEROUS_CAPABILITIES.get(name)
        if severity is not None:
            found = True
            yield Violation(
                f'container "{container.name}" adds capability {name}',
                (*container.path, "securityContext", "capabilities", "add", index),
                severity=severity,
            )
    if problem is not None and not found:  # a dangerous capability fails it, whatever else it lists
        raise malformed_field(container.pod, problem)
