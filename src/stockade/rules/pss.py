"""PSS: the Pod Security Standards, one rule per upstream check, plus the namespaces that enforce them.

Check rules run the exact evaluator (:mod:`stockade.pss`) at policy ``latest``: every pod template
is evaluated once per level within a scan, and each rule reports its own check's violation. The
finding's path is the first offending field and its remediation the evaluator's patch, placed at
the template inside its carrier. Control ids in the ``pss-baseline`` / ``pss-restricted``
frameworks are the upstream check ids, so ``stockade scan --framework pss-restricted`` is a
compliance report against the level. Baseline checks that restricted replaces (hostPathVolumes,
capabilities_baseline, seccompProfile_baseline, procMount) count towards ``pss-baseline`` only.

Namespace rules read the ``pod-security.kubernetes.io/*`` labels of the Namespace objects in the
input. A namespace that objects only mention (its Namespace object is not in the input) is not
judged: its labels are unknown, and the same directory scanned with its Namespace would say more.
"""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.model.resource import Resource
from stockade.pss import Level
from stockade.pss.namespaces import level_label, policy_from_labels
from stockade.rules._pss import evaluated, merged_remediation, policies, remediation_text, violation_path
from stockade.rules.base import RuleContext, Scope, Violation, rule

PRIVS = "container-privileges"
ADMISSION = "admission"


def _both(check: str) -> dict[str, list[str]]:
    """A baseline check that restricted keeps as it is: a control of both levels."""
    return {"pss-baseline": [check], "pss-restricted": [check]}


def _check(ctx: RuleContext, pod: PodTemplate, check: str, level: Level) -> Iterator[Violation]:
    for found in evaluated(ctx, pod, level).violations:
        if found.check == check:
            yield Violation(
                f"Pod Security {level}: {found.message}",
                violation_path(pod, found),
                remediation=remediation_text(pod, found.remediation),
            )


# --- baseline -----------------------------------------------------------------------------------


@rule(
    id="PSS-001",
    name="pss-host-namespaces",
    title="Pod shares a host namespace (Pod Security baseline)",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("hostNamespaces"),
    remediation="Remove spec.hostNetwork, spec.hostPID and spec.hostIPC (or set them to false).",
    default=False,
)
def pss_host_namespaces(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod shares a host namespace (Pod Security baseline).

    ## What it does
    Runs the baseline `hostNamespaces` check: `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC`
    must be unset or false.

    ## Why is this bad?
    A pod in the node's network, process or IPC namespace sees node traffic, every process's
    environment, or other tenants' shared memory. The baseline level refuses all three.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-agent, namespace: ops}
    spec:
      selector: {matchLabels: {app: node-agent}}
      template:
        metadata: {labels: {app: node-agent}}
        spec:
          hostPID: true
          containers:
            - {name: agent, image: registry.example.com/ops/agent:1.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-agent, namespace: ops}
    spec:
      selector: {matchLabels: {app: node-agent}}
      template:
        metadata: {labels: {app: node-agent}}
        spec:
          containers:
            - {name: agent, image: registry.example.com/ops/agent:1.2}
    ```

    ## Remediation
    Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec. An agent that truly needs the
    node's view belongs in a namespace labelled `privileged`, kept apart from applications.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "hostNamespaces", "baseline")


@rule(
    id="PSS-002",
    name="pss-privileged",
    title="Container runs privileged (Pod Security baseline)",
    severity=Severity.CRITICAL,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("privileged"),
    remediation="Set securityContext.privileged: false (or remove it) on every container.",
    default=False,
)
def pss_privileged(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container runs privileged (Pod Security baseline).

    ## What it does
    Runs the baseline `privileged` check: no container, init container or ephemeral container may
    set `securityContext.privileged: true`.

    ## Why is this bad?
    A privileged container holds every capability and every host device, outside seccomp and
    AppArmor: it is root on the node with one mount command.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: debug, namespace: tools}
    spec:
      selector: {matchLabels: {app: debug}}
      template:
        metadata: {labels: {app: debug}}
        spec:
          containers:
            - name: shell
              image: registry.example.com/tools/shell:1.4
              securityContext: {privileged: true}
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: debug, namespace: tools}
    spec:
      selector: {matchLabels: {app: debug}}
      template:
        metadata: {labels: {app: debug}}
        spec:
          containers:
            - name: shell
              image: registry.example.com/tools/shell:1.4
              securityContext: {privileged: false}
    ```

    ## Remediation
    Set `securityContext.privileged: false`; grant the one capability the process needs instead.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "privileged", "baseline")


@rule(
    id="PSS-003",
    name="pss-capabilities-baseline",
    title="Container adds a capability outside the default set (Pod Security baseline)",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={"pss-baseline": ["capabilities_baseline"]},
    remediation="Remove capabilities outside the runtime's default set from securityContext.capabilities.add.",
    default=False,
)
def pss_capabilities_baseline(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container adds a capability outside the default set (Pod Security baseline).

    ## What it does
    Runs the baseline `capabilities_baseline` check: `securityContext.capabilities.add` may only
    name AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
    SETGID, SETPCAP, SETUID and SYS_CHROOT, spelled exactly so. (At restricted the stricter
    `capabilities_restricted` check, PSS-018, takes its place.)

    ## Why is this bad?
    Anything beyond the container runtime's defaults (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, NET_RAW…)
    is kernel power a compromised process can use against the node or its neighbours.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: netmon, namespace: ops}
    spec:
      containers:
        - name: netmon
          image: registry.example.com/ops/netmon:1.0
          securityContext:
            capabilities: {add: [NET_ADMIN]}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: netmon, namespace: ops}
    spec:
      containers:
        - name: netmon
          image: registry.example.com/ops/netmon:1.0
          securityContext:
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    ```

    ## Remediation
    Remove the capability from `capabilities.add`; keep only entries of the default set.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "capabilities_baseline", "baseline")


@rule(
    id="PSS-004",
    name="pss-host-path-volumes",
    title="Pod mounts a hostPath volume (Pod Security baseline)",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={"pss-baseline": ["hostPathVolumes"]},
    remediation="Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, ConfigMap, Secret or CSI volume.",
    default=False,
)
def pss_host_path_volumes(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod mounts a hostPath volume (Pod Security baseline).

    ## What it does
    Runs the baseline `hostPathVolumes` check: no volume may be a `hostPath`. (At restricted the
    `restrictedVolumes` check, PSS-013, takes its place.)

    ## Why is this bad?
    A hostPath gives the container the node's files: the runtime socket, kubelet credentials and
    other pods' secrets are one path away.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: logs, namespace: ops}
    spec:
      containers:
        - name: shipper
          image: registry.example.com/ops/shipper:3.0
          volumeMounts: [{name: varlog, mountPath: /var/log}]
      volumes:
        - name: varlog
          hostPath: {path: /var/log}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: logs, namespace: ops}
    spec:
      containers:
        - name: shipper
          image: registry.example.com/ops/shipper:3.0
          volumeMounts: [{name: spool, mountPath: /spool}]
      volumes:
        - name: spool
          emptyDir: {}
    ```

    ## Remediation
    Delete the hostPath volume and use emptyDir or a PersistentVolumeClaim for the data.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "hostPathVolumes", "baseline")


@rule(
    id="PSS-005",
    name="pss-host-ports",
    title="Container uses a host port (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("hostPorts"),
    remediation="Remove ports[].hostPort (or set it to 0) and publish the port with a Service.",
    default=False,
)
def pss_host_ports(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container uses a host port (Pod Security baseline).

    ## What it does
    Runs the baseline `hostPorts` check: every container port's `hostPort` must be unset or 0. The
    admission plugin allows no host port at all (there is no list of known ports).

    ## Why is this bad?
    A host port opens the container on the node's address, past NetworkPolicies, and pins the pod
    to nodes where the port is free.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
          ports: [{containerPort: 8080, hostPort: 80}]
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
          ports: [{containerPort: 8080}]
    ```

    ## Remediation
    Remove `hostPort`; expose the port through a Service.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "hostPorts", "baseline")


@rule(
    id="PSS-006",
    name="pss-apparmor",
    title="Pod or container turns AppArmor off (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("appArmorProfile"),
    remediation="Set securityContext.appArmorProfile.type to RuntimeDefault or Localhost (annotation: runtime/default).",
    default=False,
)
def pss_apparmor(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
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
    return _check(ctx, pod, "appArmorProfile", "baseline")


@rule(
    id="PSS-007",
    name="pss-selinux",
    title="Pod or container sets a custom SELinux type, user or role (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("seLinuxOptions"),
    remediation="Remove seLinuxOptions.user and .role; use a container_* SELinux type or none.",
    default=False,
)
def pss_selinux(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod or container sets a custom SELinux type, user or role (Pod Security baseline).

    ## What it does
    Runs the baseline `seLinuxOptions` check: `seLinuxOptions.type` (pod and containers) must be
    unset, empty, `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t`, and
    `seLinuxOptions.user` and `.role` must not be set.

    ## Why is this bad?
    A type such as `spc_t` (super-privileged container) or a custom user or role lifts the SELinux
    confinement that separates containers from the node and from each other.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: agent, namespace: ops}
    spec:
      securityContext:
        seLinuxOptions: {type: spc_t}
      containers:
        - {name: agent, image: registry.example.com/ops/agent:1.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: agent, namespace: ops}
    spec:
      securityContext:
        seLinuxOptions: {level: "s0:c123,c456"}
      containers:
        - {name: agent, image: registry.example.com/ops/agent:1.2}
    ```

    ## Remediation
    Drop `seLinuxOptions.type`, `.user` and `.role` (a `level` for MCS separation is fine).

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "seLinuxOptions", "baseline")


@rule(
    id="PSS-008",
    name="pss-proc-mount",
    title="Container unmasks /proc (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={"pss-baseline": ["procMount"]},
    remediation="Remove securityContext.procMount or set it to Default.",
    default=False,
)
def pss_proc_mount(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container unmasks /proc (Pod Security baseline).

    ## What it does
    Runs the baseline `procMount` check: `securityContext.procMount` must be unset or `Default`,
    except in pods that run in a user namespace (`spec.hostUsers: false`). (At restricted,
    `procMount_restricted`, PSS-019, takes its place and makes no such exception.)

    ## Why is this bad?
    `Unmasked` exposes the parts of `/proc` the runtime hides (kernel tunables, other processes'
    details) to the container.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: build, namespace: ci}
    spec:
      containers:
        - name: build
          image: registry.example.com/ci/buildkit:0.13
          securityContext: {procMount: Unmasked}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: build, namespace: ci}
    spec:
      containers:
        - name: build
          image: registry.example.com/ci/buildkit:0.13
          securityContext: {procMount: Default}
    ```

    ## Remediation
    Remove `procMount` (or set `Default`); a rootless builder that needs it runs with `hostUsers: false`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "procMount", "baseline")


@rule(
    id="PSS-009",
    name="pss-seccomp-baseline",
    title="Pod or container turns seccomp off (Pod Security baseline)",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={"pss-baseline": ["seccompProfile_baseline"]},
    remediation="Set securityContext.seccompProfile.type to RuntimeDefault or Localhost (never Unconfined).",
    default=False,
)
def pss_seccomp_baseline(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
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
    return _check(ctx, pod, "seccompProfile_baseline", "baseline")


@rule(
    id="PSS-010",
    name="pss-sysctls",
    title="Pod sets an unsafe sysctl (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("sysctls"),
    remediation="Remove sysctls outside the safe, namespaced set from spec.securityContext.sysctls.",
    default=False,
)
def pss_sysctls(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod sets an unsafe sysctl (Pod Security baseline).

    ## What it does
    Runs the baseline `sysctls` check: `spec.securityContext.sysctls` may only name the safe,
    namespaced sysctls of the newest policy (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
    net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
    net.ipv4.ip_unprivileged_port_start, the net.ipv4.tcp_keepalive_* and tcp_fin_timeout,
    tcp_rmem, tcp_wmem, tcp_slow_start_after_idle and tcp_notsent_lowat).

    ## Why is this bad?
    Other sysctls are not isolated per pod: they change the node's kernel for every tenant, or
    weaken it.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: queue, namespace: shop}
    spec:
      securityContext:
        sysctls: [{name: kernel.msgmax, value: "65536"}]
      containers:
        - {name: queue, image: registry.example.com/shop/queue:1.9}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: queue, namespace: shop}
    spec:
      securityContext:
        sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "80"}]
      containers:
        - {name: queue, image: registry.example.com/shop/queue:1.9}
    ```

    ## Remediation
    Remove the unsafe sysctl; tune the node itself if the workload really needs it.

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
    """
    return _check(ctx, pod, "sysctls", "baseline")


@rule(
    id="PSS-011",
    name="pss-windows-host-process",
    title="Windows pod runs a HostProcess container (Pod Security baseline)",
    severity=Severity.CRITICAL,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("windowsHostProcess"),
    remediation="Remove securityContext.windowsOptions.hostProcess (pod and containers) or set it to false.",
    default=False,
)
def pss_windows_host_process(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Windows pod runs a HostProcess container (Pod Security baseline).

    ## What it does
    Runs the baseline `windowsHostProcess` check: `securityContext.windowsOptions.hostProcess`
    (pod and containers) must be unset or false.

    ## Why is this bad?
    A HostProcess container is a process on the Windows node itself, with the node's network and
    file system: the Windows equivalent of a privileged container.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: win-agent, namespace: ops}
    spec:
      os: {name: windows}
      hostNetwork: true
      securityContext:
        windowsOptions: {hostProcess: true}
      containers:
        - {name: agent, image: registry.example.com/ops/win-agent:1.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: win-agent, namespace: ops}
    spec:
      os: {name: windows}
      containers:
        - {name: agent, image: registry.example.com/ops/win-agent:1.0}
    ```

    ## Remediation
    Remove `windowsOptions.hostProcess`; node agents that need it belong in a `privileged` namespace.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
    """
    return _check(ctx, pod, "windowsHostProcess", "baseline")


@rule(
    id="PSS-012",
    name="pss-host-probes",
    title="Probe or lifecycle hook targets another host (Pod Security baseline)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks=_both("hostProbesAndHostLifecycle"),
    remediation="Remove httpGet.host and tcpSocket.host from probes and lifecycle hooks.",
    default=False,
)
def pss_host_probes(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Probe or lifecycle hook targets another host (Pod Security baseline).

    ## What it does
    Runs the baseline `hostProbesAndHostLifecycle` check (policy v1.34 and later): liveness,
    readiness and startup probes and `postStart`/`preStop` hooks must not set `httpGet.host` or
    `tcpSocket.host`.

    ## Why is this bad?
    The kubelet makes these requests from the node. A host field turns the kubelet into a proxy
    to addresses the pod itself could not reach (cloud metadata, node-local services).

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          livenessProbe:
            httpGet: {host: 169.254.169.254, path: /latest/meta-data/, port: 80}
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
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
    ```

    ## Remediation
    Remove the `host` field so the probe targets the pod's own IP.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _check(ctx, pod, "hostProbesAndHostLifecycle", "baseline")


# --- restricted ---------------------------------------------------------------------------------


@rule(
    id="PSS-013",
    name="pss-restricted-volumes",
    title="Pod uses a volume type outside the restricted set (Pod Security restricted)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["restrictedVolumes"]},
    remediation="Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.",
    default=False,
)
def pss_restricted_volumes(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod uses a volume type outside the restricted set (Pod Security restricted).

    ## What it does
    Runs the restricted `restrictedVolumes` check: volumes may only be `configMap`, `csi`,
    `downwardAPI`, `emptyDir`, `ephemeral`, `image`, `persistentVolumeClaim`, `projected` or
    `secret`. hostPath, nfs, iscsi, the in-tree cloud disks and the rest are refused.

    ## Why is this bad?
    In-tree volume types are mounted by the kubelet with node credentials and bypass the storage
    administrator's PersistentVolume and StorageClass controls.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: media, namespace: shop}
    spec:
      serviceName: media
      selector: {matchLabels: {app: media}}
      template:
        metadata: {labels: {app: media}}
        spec:
          containers:
            - name: media
              image: registry.example.com/shop/media:4.0
              volumeMounts: [{name: assets, mountPath: /assets}]
          volumes:
            - name: assets
              nfs: {server: nfs.example.com, path: /exports/assets}
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: media, namespace: shop}
    spec:
      serviceName: media
      selector: {matchLabels: {app: media}}
      template:
        metadata: {labels: {app: media}}
        spec:
          containers:
            - name: media
              image: registry.example.com/shop/media:4.0
              volumeMounts: [{name: assets, mountPath: /assets}]
          volumes:
            - name: assets
              persistentVolumeClaim: {claimName: media-assets}
    ```

    ## Remediation
    Move the data behind a PersistentVolumeClaim (a PersistentVolume can still be NFS) or a CSI driver.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "restrictedVolumes", "restricted")


@rule(
    id="PSS-014",
    name="pss-privilege-escalation",
    title="Container does not forbid privilege escalation (Pod Security restricted)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["allowPrivilegeEscalation"]},
    remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
    default=False,
)
def pss_privilege_escalation(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container does not forbid privilege escalation (Pod Security restricted).

    ## What it does
    Runs the restricted `allowPrivilegeEscalation` check: every container must set
    `securityContext.allowPrivilegeEscalation: false` explicitly. Windows pods are exempt.

    ## Why is this bad?
    Unless it is false, setuid binaries and file capabilities can raise a process's privileges
    (the kernel's `no_new_privs` flag stays off).

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
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
          securityContext: {allowPrivilegeEscalation: false}
    ```

    ## Remediation
    Add `allowPrivilegeEscalation: false` to every container's securityContext.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "allowPrivilegeEscalation", "restricted")


@rule(
    id="PSS-015",
    name="pss-run-as-non-root",
    title="Pod does not require a non-root user (Pod Security restricted)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["runAsNonRoot"]},
    remediation="Set spec.securityContext.runAsNonRoot: true (and no container may set it to false).",
    default=False,
)
def pss_run_as_non_root(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod does not require a non-root user (Pod Security restricted).

    ## What it does
    Runs the restricted `runAsNonRoot` check: `runAsNonRoot: true` on the pod or on every
    container, and `false` nowhere. A non-zero `runAsUser` does not count. Pods in a user
    namespace (`spec.hostUsers: false`) are exempt.

    ## Why is this bad?
    Without it the image decides, and most images run as root: root in the container is root on
    the node's kernel.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      containers:
        - {name: worker, image: registry.example.com/jobs/worker:5.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - {name: worker, image: registry.example.com/jobs/worker:5.0}
    ```

    ## Remediation
    Set `runAsNonRoot: true` in the pod securityContext and build the image with a numeric non-root `USER`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "runAsNonRoot", "restricted")


@rule(
    id="PSS-016",
    name="pss-run-as-user-root",
    title="Pod or container sets runAsUser 0 (Pod Security restricted)",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["runAsUser"]},
    remediation="Remove runAsUser: 0 from the pod and container securityContexts (use a non-zero UID).",
    default=False,
)
def pss_run_as_user_root(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod or container sets runAsUser 0 (Pod Security restricted).

    ## What it does
    Runs the restricted `runAsUser` check: neither the pod nor any container may set
    `runAsUser: 0`. Pods in a user namespace (`spec.hostUsers: false`) are exempt.

    ## Why is this bad?
    UID 0 is root on the node's kernel; any other weakness of the pod becomes a node compromise.

    ## Example
    ```yaml
    apiVersion: batch/v1
    kind: Job
    metadata: {name: migrate, namespace: shop}
    spec:
      template:
        spec:
          restartPolicy: Never
          securityContext: {runAsUser: 0}
          containers:
            - {name: migrate, image: registry.example.com/shop/migrate:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: batch/v1
    kind: Job
    metadata: {name: migrate, namespace: shop}
    spec:
      template:
        spec:
          restartPolicy: Never
          securityContext: {runAsUser: 10001}
          containers:
            - {name: migrate, image: registry.example.com/shop/migrate:2.3.1}
    ```

    ## Remediation
    Remove `runAsUser: 0`; set a non-zero UID and `runAsNonRoot: true`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "runAsUser", "restricted")


@rule(
    id="PSS-017",
    name="pss-seccomp-restricted",
    title="Pod does not set a seccomp profile (Pod Security restricted)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["seccompProfile_restricted"]},
    remediation="Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost).",
    default=False,
)
def pss_seccomp_restricted(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod does not set a seccomp profile (Pod Security restricted).

    ## What it does
    Runs the restricted `seccompProfile_restricted` check: the pod, or every container, must set
    `securityContext.seccompProfile.type` to `RuntimeDefault` or `Localhost`, and nothing may set
    another type. Windows pods only answer to the baseline rule (no `Unconfined`).

    ## Why is this bad?
    Without a profile the container runs unconfined on most runtimes: every system call reaches
    the kernel.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext.

    ## References
    - https://kubernetes.io/docs/tutorials/security/seccomp/
    """
    return _check(ctx, pod, "seccompProfile_restricted", "restricted")


@rule(
    id="PSS-018",
    name="pss-capabilities-restricted",
    title="Container does not drop ALL capabilities (Pod Security restricted)",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["capabilities_restricted"]},
    remediation='Set securityContext.capabilities.drop: ["ALL"] and add back only NET_BIND_SERVICE.',
    default=False,
)
def pss_capabilities_restricted(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container does not drop ALL capabilities (Pod Security restricted).

    ## What it does
    Runs the restricted `capabilities_restricted` check: every container must drop `ALL`
    capabilities and may add back only `NET_BIND_SERVICE`. Windows pods only answer to the
    baseline capability rule.

    ## Why is this bad?
    The runtime's default capabilities (NET_RAW, CHOWN, SETUID, DAC_OVERRIDE…) are attack surface
    few applications use.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - {name: web, image: registry.example.com/shop/web:3.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
          securityContext:
            capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    ```

    ## Remediation
    Add `capabilities: {drop: [ALL]}` to every container; add `NET_BIND_SERVICE` only to bind ports below 1024.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "capabilities_restricted", "restricted")


@rule(
    id="PSS-019",
    name="pss-proc-mount-restricted",
    title="Container unmasks /proc, even in a user namespace (Pod Security restricted)",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={"pss-restricted": ["procMount_restricted"]},
    remediation="Remove securityContext.procMount or set it to Default.",
    default=False,
)
def pss_proc_mount_restricted(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Container unmasks /proc, even in a user namespace (Pod Security restricted).

    ## What it does
    Runs the restricted `procMount_restricted` check (policy v1.35 and later):
    `securityContext.procMount` must be unset or `Default`, whether or not the pod runs in a user
    namespace.

    ## Why is this bad?
    A user namespace limits what root inside the container is worth, but an unmasked `/proc`
    still shows the kernel's tunables and other details the runtime hides.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: build, namespace: ci}
    spec:
      hostUsers: false
      containers:
        - name: build
          image: registry.example.com/ci/buildkit:0.13
          securityContext: {procMount: Unmasked}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: build, namespace: ci}
    spec:
      hostUsers: false
      containers:
        - name: build
          image: registry.example.com/ci/buildkit:0.13
    ```

    ## Remediation
    Remove `procMount`; run builds that need an unmasked `/proc` in a baseline namespace.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    return _check(ctx, pod, "procMount_restricted", "restricted")


# --- namespaces ---------------------------------------------------------------------------------

_NS_FRAMEWORKS = {
    "cis-1.10": ["5.2.1"],
    "nsa-cisa": ["pod-security.enforcement"],
    "owasp-k8s-2022": ["K04"],
    "owasp-k8s-2025": ["K04"],
}


@rule(
    id="PSS-020",
    name="pss-namespace-not-enforced",
    title="Namespace does not enforce a Pod Security level",
    severity=Severity.MEDIUM,
    area=ADMISSION,
    stage=Stage.WALK,
    scope=Scope.OBJECT,
    kinds=["Namespace"],
    frameworks=_NS_FRAMEWORKS,
    remediation="Label the namespace pod-security.kubernetes.io/enforce=baseline (or restricted), with an enforce-version.",
)
def pss_namespace_not_enforced(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace does not enforce a Pod Security level.

    ## What it does
    Flags Namespace objects without a `pod-security.kubernetes.io/enforce` label. The admission
    plugin then applies the cluster default, which is `privileged` (nothing refused) unless the
    API server's admission configuration says otherwise. Namespaces that objects in the input only
    mention are not flagged: their Namespace object, and so their labels, are not known.

    ## Why is this bad?
    Auditing privileged pods is the crawl stage; the walk stage is admission refusing them. Without
    an enforce label any pod, privileged or not, is admitted to the namespace.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/warn: restricted
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: baseline
        pod-security.kubernetes.io/enforce-version: v1.33
        pod-security.kubernetes.io/warn: restricted
        pod-security.kubernetes.io/warn-version: v1.33
    ```

    ## Remediation
    Run `stockade pss evaluate --level baseline` over the namespace's workloads, fix what it
    denies, then label the namespace `pod-security.kubernetes.io/enforce: baseline` (pinning
    `enforce-version` to the cluster's minor). Use `warn` and `audit` at `restricted` to see the
    next step coming.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    - https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/
    """
    if level_label("enforce") not in namespace.labels:
        yield Violation(
            f'namespace "{namespace.name}" has no {level_label("enforce")} label: '
            "Pod Security admission applies the cluster default (privileged unless configured), so privileged pods are admitted",
            ("metadata", "labels") if namespace.labels else ("metadata",),
            remediation=f"kubectl label namespace {namespace.name} {level_label('enforce')}=baseline "
            f"{level_label('enforce')}-version=latest",
        )


@rule(
    id="PSS-021",
    name="pss-namespace-enforces-privileged",
    title="Namespace explicitly enforces the privileged level",
    severity=Severity.MEDIUM,
    area=ADMISSION,
    stage=Stage.WALK,
    scope=Scope.OBJECT,
    kinds=["Namespace"],
    frameworks=_NS_FRAMEWORKS,
    remediation="Enforce baseline or restricted; keep privileged for dedicated system namespaces, waived with a reason.",
)
def pss_namespace_enforces_privileged(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace explicitly enforces the privileged level.

    ## What it does
    Flags Namespace objects labelled `pod-security.kubernetes.io/enforce: privileged`.

    ## Why is this bad?
    The label opts the namespace out of Pod Security admission: privileged containers, host
    namespaces and hostPath volumes are all admitted. Node agents (CNI, CSI, log collectors) need
    it; application namespaces should not have it.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: payments
      labels:
        pod-security.kubernetes.io/enforce: privileged
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: payments
      labels:
        pod-security.kubernetes.io/enforce: restricted
        pod-security.kubernetes.io/enforce-version: v1.33
    ```

    ## Remediation
    Label the namespace `baseline` or `restricted`. For a system namespace that needs privileged
    pods, waive this rule with `stockade.io/ignore: PSS-021` and a `stockade.io/ignore-reason`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/
    """
    if namespace.labels.get(level_label("enforce")) == "privileged":
        yield Violation(
            f'namespace "{namespace.name}" enforces the privileged Pod Security level: every pod is admitted',
            ("metadata", "labels", level_label("enforce")),
            remediation=f"kubectl label --overwrite namespace {namespace.name} {level_label('enforce')}=baseline",
        )


@rule(
    id="PSS-022",
    name="pss-workload-rejected-by-namespace",
    title="Workload would be rejected by its namespace's Pod Security level",
    severity=Severity.HIGH,
    area=ADMISSION,
    stage=Stage.WALK,
    scope=Scope.POD,
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
    result = evaluated(ctx, pod, enforce.level, enforce.version)
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


@rule(
    id="PSS-023",
    name="pss-namespace-label-invalid",
    title="Namespace has a Pod Security label the admission plugin cannot read",
    severity=Severity.LOW,
    area=ADMISSION,
    stage=Stage.WALK,
    scope=Scope.OBJECT,
    kinds=["Namespace"],
    frameworks=_NS_FRAMEWORKS,
    remediation="Use a level of privileged, baseline or restricted, and a version of latest or v1.<minor>.",
)
def pss_namespace_label_invalid(ctx: RuleContext, namespace: Resource) -> Iterator[Violation]:
    """Namespace has a Pod Security label the admission plugin cannot read.

    ## What it does
    Flags `pod-security.kubernetes.io/<mode>` labels whose value is not `privileged`, `baseline`
    or `restricted`, and `<mode>-version` labels that are not `latest` or `v1.<minor>` (the `v` is
    required). The plugin replaces an unreadable enforce level with `restricted`, an unreadable
    audit or warn level with `privileged`, and an unreadable version with `latest`.

    ## Why is this bad?
    The namespace does not get the policy its owner wrote: a typo in `warn` or `audit` silently
    turns the mode off, and a typo in `enforce` may start refusing pods.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: baseline
        pod-security.kubernetes.io/enforce-version: "1.33"
        pod-security.kubernetes.io/warn: restrictive
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata:
      name: storefront
      labels:
        pod-security.kubernetes.io/enforce: baseline
        pod-security.kubernetes.io/enforce-version: v1.33
        pod-security.kubernetes.io/warn: restricted
    ```

    ## Remediation
    Correct the label values (`kubectl label --overwrite namespace NAME KEY=VALUE`).

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
    """
    for problem in policy_from_labels(namespace.name, namespace.labels).problems:
        yield Violation(f'namespace "{namespace.name}": {problem.message}', ("metadata", "labels", problem.label))
