"""WL: container privileges — what a container may do to its node and to itself."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Severity, Stage
from stockade.model.podspec import ContainerRef, PodTemplate
from stockade.pss.facts import user_namespace, windows_pod
from stockade.rules._pod import capabilities, container_patch, effective, mapping, pod_patch
from stockade.rules.base import Scope, Violation, is_false, is_true, rule

PRIVS = "container-privileges"


@rule(
    id="WL-001",
    name="privileged-container",
    title="Container runs privileged",
    severity=Severity.CRITICAL,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.2"],
        "nsa-cisa": ["pod-security.non-root", "pod-security.enforcement"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611", "T1610"],
    },
    remediation="Remove securityContext.privileged or set it to false; grant only the capabilities needed.",
)
def privileged_container(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container runs privileged.

    ## What it does
    Flags containers with `securityContext.privileged: true`.

    ## Why is this bad?
    A privileged container has every capability, sees every host device and is not confined by
    seccomp or AppArmor. Escaping to the node is a matter of mounting its disk. Auditing privileged
    containers is the first (crawl) step of container hardening.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: debug, namespace: tools}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4@sha256:4f5e5d3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98
          securityContext:
            privileged: true
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: debug, namespace: tools}
    spec:
      containers:
        - name: shell
          image: registry.example.com/tools/shell:1.4@sha256:4f5e5d3c2b1a09876543210fedcba9876543210fedcba9876543210fedcba98
          securityContext:
            privileged: false
            capabilities: {drop: [ALL]}
    ```

    ## Remediation
    Set `securityContext.privileged: false`. If the workload truly needs a device or a kernel
    feature, grant the single capability it needs and waive this rule with a reason and an expiry.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    if is_true(container.security_context.get("privileged")):
        yield Violation(
            f'container "{container.name}" runs privileged',
            (*container.path, "securityContext", "privileged"),
            remediation=container_patch(container, {"securityContext": {"privileged": False}}),
        )


@rule(
    id="WL-002",
    name="privilege-escalation-allowed",
    title="Container may gain more privileges than its parent process",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.6"],
        "nsa-cisa": ["pod-security.non-root"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1068"],
    },
    remediation="Set securityContext.allowPrivilegeEscalation: false on every container.",
)
def privilege_escalation_allowed(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container may gain more privileges than its parent process.

    ## What it does
    Flags containers that do not set `securityContext.allowPrivilegeEscalation: false`. Windows pods
    (`spec.os.name: windows`) are exempt: the field is Linux-only, as Pod Security restricted says.

    ## Why is this bad?
    Unless it is set to false, a process can gain privileges through setuid binaries or file
    capabilities (the kernel's `no_new_privs` flag stays off). Unset means allowed.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/shop/api:2.3.1
    ```

    ## Use instead
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - name: api
              image: registry.example.com/shop/api:2.3.1
              securityContext:
                allowPrivilegeEscalation: false
    ```

    ## Remediation
    Add `allowPrivilegeEscalation: false` to each container's `securityContext`.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
    """
    if windows_pod(container.pod.spec):
        return
    value = container.security_context.get("allowPrivilegeEscalation")
    if not is_false(value):
        where = (
            "sets allowPrivilegeEscalation: true" if is_true(value) else "does not set allowPrivilegeEscalation: false"
        )
        yield Violation(
            f'container "{container.name}" {where}',
            (*container.path, "securityContext", "allowPrivilegeEscalation") if value is not None else container.path,
            remediation=container_patch(container, {"securityContext": {"allowPrivilegeEscalation": False}}),
        )


@rule(
    id="WL-003",
    name="runs-as-root",
    title="Container may run as root",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.7"],
        "nsa-cisa": ["pod-security.non-root"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set runAsNonRoot: true and a non-zero runAsUser in the pod or container securityContext.",
)
def runs_as_root(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container may run as root.

    ## What it does
    Flags containers that run as UID 0 (`runAsUser: 0`, high severity) or that neither set
    `runAsNonRoot: true` nor a non-zero `runAsUser` (medium: the image decides, and most images run
    as root). The container's securityContext wins over the pod's, as the kubelet applies them.
    Pods in a user namespace (`spec.hostUsers: false`) pass: their root is an unprivileged user on
    the node, and Pod Security restricted allows it from policy v1.35.

    ## Why is this bad?
    Root in a container is root on the node's kernel. Together with any other weakness (a writable
    hostPath, an added capability, a kernel bug) it turns a container compromise into a node
    compromise.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      securityContext:
        runAsUser: 0
      containers:
        - name: worker
          image: registry.example.com/jobs/worker:5.0
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: worker, namespace: jobs}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: worker
          image: registry.example.com/jobs/worker:5.0
    ```

    ## Remediation
    Build the image with a non-root `USER` and set `runAsNonRoot: true` (and `runAsUser`) in the pod
    securityContext so the kubelet refuses to start it as root.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    if user_namespace(container.pod.spec):
        return
    user, user_from = effective(container, "runAsUser")
    if user == 0 and not isinstance(user, bool):
        path = (
            (*container.path, "securityContext", "runAsUser")
            if user_from == "container"
            else (*container.pod.spec_path, "securityContext", "runAsUser")
        )
        yield Violation(
            f'container "{container.name}" runs as UID 0 (runAsUser from {user_from})',
            path,
            severity=Severity.HIGH,
            remediation=container_patch(container, {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001}}),
        )
        return
    non_root, _ = effective(container, "runAsNonRoot")
    if is_true(non_root) or (isinstance(user, int) and not isinstance(user, bool) and user > 0):
        return
    yield Violation(
        f'container "{container.name}" sets neither runAsNonRoot: true nor a non-zero runAsUser',
        container.path,
        remediation=container_patch(container, {"securityContext": {"runAsNonRoot": True}}),
    )


# Only capabilities outside the Pod Security baseline set (MKNOD, SETFCAP… are runtime defaults
# that baseline lets a container add back); tests/pss/test_agreement.py keeps the lists apart.
DANGEROUS_CAPABILITIES = {
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


@rule(
    id="WL-004",
    name="dangerous-capabilities",
    title="Container adds a dangerous Linux capability",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.8", "5.2.9"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611", "T1068"],
    },
    remediation="Remove the capability from securityContext.capabilities.add.",
)
def dangerous_capabilities(ctx: object, container: ContainerRef) -> Iterator[Violation]:
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
    added, _ = capabilities(container)
    for index, cap in enumerate(added):
        severity = DANGEROUS_CAPABILITIES.get(cap)
        if severity is not None:
            yield Violation(
                f'container "{container.name}" adds capability {cap}',
                (*container.path, "securityContext", "capabilities", "add", index),
                severity=severity,
            )


@rule(
    id="WL-005",
    name="capabilities-not-dropped",
    title="Container keeps the default Linux capabilities",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.10"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
    },
    remediation="Add capabilities.drop: [ALL] and add back only what the process needs.",
)
def capabilities_not_dropped(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container keeps the default Linux capabilities.

    ## What it does
    Flags containers whose `securityContext.capabilities.drop` does not contain `ALL`.

    ## Why is this bad?
    Container runtimes grant about fourteen capabilities by default (including `NET_RAW`, `CHOWN`,
    `SETUID`, `DAC_OVERRIDE`). Few applications need any of them; each one is attack surface.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:3.2
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
            capabilities: {drop: [ALL]}
    ```

    ## Remediation
    Add `capabilities: {drop: [ALL]}` and, if the process binds a port below 1024, `add: [NET_BIND_SERVICE]`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
    """
    _, dropped = capabilities(container)
    if "ALL" not in dropped:
        yield Violation(
            f'container "{container.name}" does not drop ALL capabilities',
            container.path,
            remediation=container_patch(container, {"securityContext": {"capabilities": {"drop": ["ALL"]}}}),
        )


def _host_namespace(pod: PodTemplate, field: str, what: str) -> Iterator[Violation]:
    if is_true(pod.spec.get(field)):
        yield Violation(
            f"pod shares the host's {what} ({field}: true)",
            (*pod.spec_path, field),
            remediation=pod_patch(pod, {field: False}),
        )


@rule(
    id="WL-006",
    name="host-pid",
    title="Pod shares the host's process namespace",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.2.3"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Remove hostPID or set it to false.",
)
def host_pid(ctx: object, pod: PodTemplate) -> Iterator[Violation]:
    """Pod shares the host's process namespace.

    ## What it does
    Flags pods with `hostPID: true`.

    ## Why is this bad?
    The pod sees every process on the node, can read their environment (secrets included) through
    `/proc`, and with `SYS_PTRACE` can inject code into them.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: top, namespace: tools}
    spec:
      hostPID: true
      containers:
        - {name: top, image: registry.example.com/tools/top:1.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: top, namespace: tools}
    spec:
      containers:
        - {name: top, image: registry.example.com/tools/top:1.0}
    ```

    ## Remediation
    Remove `hostPID`. Node-level process monitoring belongs in a dedicated, waived agent.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _host_namespace(pod, "hostPID", "process ID namespace")


@rule(
    id="WL-007",
    name="host-ipc",
    title="Pod shares the host's IPC namespace",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.2.4"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Remove hostIPC or set it to false.",
)
def host_ipc(ctx: object, pod: PodTemplate) -> Iterator[Violation]:
    """Pod shares the host's IPC namespace.

    ## What it does
    Flags pods with `hostIPC: true`.

    ## Why is this bad?
    The pod can read and write shared memory segments and message queues of every process on the
    node, including those of other tenants.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: shm, namespace: tools}
    spec:
      hostIPC: true
      containers:
        - {name: shm, image: registry.example.com/tools/shm:1.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: shm, namespace: tools}
    spec:
      containers:
        - {name: shm, image: registry.example.com/tools/shm:1.0}
    ```

    ## Remediation
    Remove `hostIPC`.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _host_namespace(pod, "hostIPC", "IPC namespace")


@rule(
    id="WL-008",
    name="host-network",
    title="Pod uses the host's network namespace",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.2.5"],
        "nsa-cisa": ["pod-security.hardening", "network.node-segmentation"],
        "owasp-k8s-2022": ["K01", "K07"],
        "owasp-k8s-2025": ["K01", "K05"],
        "mitre-attack": ["T1611", "T1046"],
    },
    remediation="Remove hostNetwork or set it to false; expose ports through a Service.",
)
def host_network(ctx: object, pod: PodTemplate) -> Iterator[Violation]:
    """Pod uses the host's network namespace.

    ## What it does
    Flags pods with `hostNetwork: true`.

    ## Why is this bad?
    The pod bypasses NetworkPolicies, can bind any node port, sniff node traffic, and reach
    services that listen only on the node's loopback (the kubelet's read-only port, cloud metadata).

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: proxy, namespace: edge}
    spec:
      hostNetwork: true
      containers:
        - {name: proxy, image: registry.example.com/edge/proxy:2.0}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: proxy, namespace: edge}
    spec:
      hostNetwork: false
      containers:
        - {name: proxy, image: registry.example.com/edge/proxy:2.0}
    ```

    ## Remediation
    Remove `hostNetwork` and publish the port with a Service.

    ## References
    - https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
    """
    return _host_namespace(pod, "hostNetwork", "network namespace")


# Host paths that hand over the node: the root, its config, the kernel's view, and container runtimes.
CRITICAL_HOST_PATHS = (
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/root",
    "/boot",
    "/dev",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/crio",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/kubernetes",
    "/var/run",
    "/run",
)


def host_path_severity(path: str) -> Severity:
    normalized = "/" + "/".join(part for part in path.split("/") if part and part != ".")
    for critical in CRITICAL_HOST_PATHS:
        if normalized == critical or (critical != "/" and normalized.startswith(critical + "/")):
            return Severity.CRITICAL
    return Severity.HIGH


@rule(
    id="WL-009",
    name="host-path-volume",
    title="Pod mounts a directory of the node",
    severity=Severity.HIGH,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.2.12"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Replace the hostPath volume with a PersistentVolumeClaim, emptyDir, ConfigMap or CSI volume.",
)
def host_path_volume(ctx: object, pod: PodTemplate) -> Iterator[Violation]:
    """Pod mounts a directory of the node.

    ## What it does
    Flags `hostPath` volumes. The node's root, `/etc`, `/proc`, `/sys`, `/var/lib/kubelet`, and the
    Docker, containerd and CRI-O sockets (and anything below them) are critical; other paths high.

    ## Why is this bad?
    A hostPath mount gives the container the node's files. The container runtime's socket is
    equivalent to root on the node; `/var/lib/kubelet` holds other pods' secrets and tokens.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: builder, namespace: ci}
    spec:
      containers:
        - name: builder
          image: registry.example.com/ci/builder:7.1
          volumeMounts: [{name: docker, mountPath: /var/run/docker.sock}]
      volumes:
        - name: docker
          hostPath: {path: /var/run/docker.sock, type: Socket}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: builder, namespace: ci}
    spec:
      containers:
        - name: builder
          image: registry.example.com/ci/builder:7.1
          volumeMounts: [{name: work, mountPath: /workspace}]
      volumes:
        - name: work
          emptyDir: {}
    ```

    ## Remediation
    Use a PersistentVolumeClaim or emptyDir for data, and a rootless image builder instead of the
    runtime socket.

    ## References
    - https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
    """
    volumes = pod.spec.get("volumes")
    if not isinstance(volumes, list):
        return
    for index, volume in enumerate(volumes):
        source = mapping(volume).get("hostPath")
        if source is None:  # `hostPath: {}` still mounts a node path (Pod Security baseline agrees)
            continue
        host_path = mapping(source)
        path = host_path.get("path")
        path_text = path if isinstance(path, str) else "?"
        yield Violation(
            f'volume "{mapping(volume).get("name", index)}" mounts host path {path_text}',
            (*pod.spec_path, "volumes", index, "hostPath"),
            severity=host_path_severity(path_text) if isinstance(path, str) else Severity.HIGH,
        )


@rule(
    id="WL-010",
    name="host-port",
    title="Container binds a port on the node",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.2.13"],
        "nsa-cisa": ["network.node-segmentation"],
        "owasp-k8s-2022": ["K01", "K07"],
        "owasp-k8s-2025": ["K01", "K06"],
        "mitre-attack": ["T1133"],
    },
    remediation="Remove ports[].hostPort and publish the port with a Service.",
)
def host_port(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container binds a port on the node.

    ## What it does
    Flags container ports with a non-zero `hostPort`.

    ## Why is this bad?
    A host port opens the container to anything that can reach the node, outside NetworkPolicies,
    and pins the pod to nodes where the port is free.

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
    Remove `hostPort` and use a Service (ClusterIP behind an Ingress) to publish the port.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/overview/#services
    """
    ports = container.spec.get("ports")
    if not isinstance(ports, list):
        return
    for index, port in enumerate(ports):
        value = mapping(port).get("hostPort")
        if value not in (None, 0, "0"):
            yield Violation(
                f'container "{container.name}" binds host port {value}',
                (*container.path, "ports", index, "hostPort"),
            )


@rule(
    id="WL-011",
    name="writable-root-filesystem",
    title="Container's root file system is writable",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.7.3"],
        "nsa-cisa": ["pod-security.immutable-fs"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1525"],
    },
    remediation="Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where it writes.",
)
def writable_root_filesystem(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container's root file system is writable.

    ## What it does
    Flags containers that do not set `securityContext.readOnlyRootFilesystem: true`.

    ## Why is this bad?
    An attacker who gets code execution can drop tools and binaries into a writable image file
    system, and persist changes for the life of the container.

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
          securityContext: {readOnlyRootFilesystem: true}
          volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes:
        - {name: tmp, emptyDir: {}}
    ```

    ## Remediation
    Set `readOnlyRootFilesystem: true`; give the process `emptyDir` mounts for the paths it writes.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
    """
    if not is_true(container.security_context.get("readOnlyRootFilesystem")):
        yield Violation(
            f'container "{container.name}" has a writable root file system',
            container.path,
            remediation=container_patch(container, {"securityContext": {"readOnlyRootFilesystem": True}}),
        )
