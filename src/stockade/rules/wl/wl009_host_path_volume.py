"""WL-009: a pod that mounts a directory of the node (the Pod Security ``hostPathVolumes``
check decides), graded by what the directory hands over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate, is_list
from stockade.pss import Malformed
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.wl._shape import malformed_field
from stockade.rules.wl._verdict import verdict

# Host paths that hand over the node: the root, its config, the kernel's view, and container runtimes.
CRITICAL_HOST_PATHS: Final = (
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


@pod_rule(
    id="WL-009",
    name="host-path-volume",
    title="Pod mounts a directory of the node",
    severity=Severity.HIGH,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.2.12"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Replace the hostPath volume with a PersistentVolumeClaim, emptyDir, ConfigMap or CSI volume.",
)
def host_path_volume(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
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
    denied = verdict(ctx, pod, "hostPathVolumes")
    if denied is None:
        return
    denied.require_well_formed("spec.volumes")
    volumes = pod.spec.get("volumes")
    if not is_list(volumes):
        return
    problem: Malformed | None = None
    found = False
    for index, volume in enumerate(volumes):
        problem = problem or denied.problem(f"spec.volumes[{index}]")
        if not denied.flags(f"spec.volumes[{index}].hostPath"):  # `hostPath: {}` still mounts a node path
            continue
        found = True
        path = mapping(mapping(volume).get("hostPath")).get("path")
        path_text = path if isinstance(path, str) else "?"
        yield Violation(
            f'volume "{mapping(volume).get("name", index)}" mounts host path {path_text}',
            (*pod.spec_path, "volumes", index, "hostPath"),
            severity=host_path_severity(path_text) if isinstance(path, str) else Severity.HIGH,
        )
    if problem is not None and not found:  # one node directory fails the pod, whatever else it lists
        raise malformed_field(pod, problem)
