"""WL-004: a container that adds a Linux capability outside the Pod Security baseline set, graded
by danger (the ``capabilities_baseline`` check decides which entries to look at)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef, is_list, is_map
from stockade.pss import Malformed
from stockade.pss.baseline import CAPABILITIES_ALLOWED_1_0
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, malformed_field
from stockade.rules.wl._verdict import verdict

# Grades of the capabilities that give the most power; every other capability outside the
# baseline set is MEDIUM. tests/pss/test_agreement.py keeps the grades outside the baseline set.
CAPABILITY_SEVERITY: Final = {
    # Container escape on their own.
    "ALL": Severity.CRITICAL,
    "SYS_ADMIN": Severity.CRITICAL,
    "SYS_MODULE": Severity.CRITICAL,
    # Read other processes or the kernel, rewrite the network, or switch off the LSMs and auditing.
    "SYS_PTRACE": Severity.HIGH,
    "SYS_RAWIO": Severity.HIGH,
    "DAC_READ_SEARCH": Severity.HIGH,
    "BPF": Severity.HIGH,
    "PERFMON": Severity.HIGH,
    "NET_ADMIN": Severity.HIGH,
    "SYS_BOOT": Severity.HIGH,
    "MAC_ADMIN": Severity.HIGH,
    "MAC_OVERRIDE": Severity.HIGH,
    "AUDIT_CONTROL": Severity.HIGH,
    "CHECKPOINT_RESTORE": Severity.HIGH,
}
OTHER_SEVERITY: Final = Severity.MEDIUM

# Every capability Linux defines (capabilities(7)); a name outside it is no capability at all.
LINUX_CAPABILITIES: Final = frozenset(
    {
        *CAPABILITIES_ALLOWED_1_0,
        *(name for name in CAPABILITY_SEVERITY if name != "ALL"),
        "AUDIT_READ",
        "BLOCK_SUSPEND",
        "IPC_LOCK",
        "IPC_OWNER",
        "LEASE",
        "LINUX_IMMUTABLE",
        "NET_BROADCAST",
        "NET_RAW",
        "SYS_NICE",
        "SYS_PACCT",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "SYSLOG",
        "WAKE_ALARM",
    }
)


def capability_severity(name: str) -> Severity | None:
    """The grade of an added capability (``name`` upper-case, without ``CAP_``); None when baseline allows it."""
    if name in CAPABILITIES_ALLOWED_1_0:
        return None
    return CAPABILITY_SEVERITY.get(name, OTHER_SEVERITY)


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
    Flags every `securityContext.capabilities.add` entry outside the Pod Security baseline set
    (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`,
    `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`), graded by danger:
    `ALL`, `SYS_ADMIN` and `SYS_MODULE` are critical; `SYS_PTRACE`, `SYS_RAWIO`,
    `DAC_READ_SEARCH`, `BPF`, `PERFMON`, `NET_ADMIN`, `SYS_BOOT`, `MAC_ADMIN`, `MAC_OVERRIDE`,
    `AUDIT_CONTROL` and `CHECKPOINT_RESTORE` are high; any other (`NET_RAW`, `SYS_TIME`,
    `SYS_RESOURCE`, `IPC_LOCK`, `SYSLOG`, a name Linux does not define…) is medium. The `CAP_`
    prefix and letter case are ignored, as the container runtime ignores them.

    ## Why is this bad?
    `SYS_ADMIN` alone allows mounting file systems and most known container escapes; `SYS_PTRACE`
    reads other processes' memory; `MAC_ADMIN` and `MAC_OVERRIDE` switch off AppArmor and SELinux;
    `NET_RAW` allows ARP and DNS spoofing inside the node network. A capability the baseline does
    not allow is one the workload should justify.

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
        severity = capability_severity(name)
        if severity is not None:
            found = True
            unknown = "" if name in LINUX_CAPABILITIES else " (not a Linux capability)"
            yield Violation(
                f'container "{container.name}" adds capability {name}{unknown}',
                (*container.path, "securityContext", "capabilities", "add", index),
                severity=severity,
            )
    if problem is not None and not found:  # a reported capability fails it, whatever else it lists
        raise malformed_field(container.pod, problem)
