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

from __future__ import annotations

from stockade.model.finding import Area, Severity, Stage
from stockade.rules.pss._checks import check_rule

RULES = (
    check_rule(
        "restrictedVolumes",
        __doc__,
        id="PSS-013",
        name="pss-restricted-volumes",
        title="Pod uses a volume type outside the restricted set (Pod Security restricted)",
        severity=Severity.MEDIUM,
        area=Area.CONTAINER_PRIVILEGES,
        stage=Stage.WALK,
        remediation="Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.",
        default=False,
    ),
)
