"""Remediation commands quote every value they interpolate: a tenant who names an object
``web$(touch pwned)`` must not get a command run by whoever pastes the fix."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import scan_text

EVIL = "web$(touch pwned)"
CONTAINER = "app`touch pwned2`"
NS = "shop$(touch pwned3)"

MANIFESTS = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: "{EVIL}", namespace: "{NS}"}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: "{CONTAINER}"
          image: nginx
          securityContext: {{privileged: true}}
          env: [{{name: DB_PASSWORD, value: hunter2hunter2}}]
---
apiVersion: v1
kind: Service
metadata: {{name: "{EVIL}", namespace: "{NS}"}}
spec: {{type: NodePort, ports: [{{port: 80, nodePort: 30080}}]}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: "{NS}"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "{EVIL}"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}}]
"""


def test_no_remediation_command_runs_what_a_name_holds(tmp_path: Path) -> None:
    result = scan_text(MANIFESTS, ["all"])
    commands = [f.remediation for f in result.findings if f.remediation.startswith("kubectl ")]
    assert len(commands) >= 5, commands
    for command in commands:
        # Every kubectl in the command prints its arguments instead of running: what bash expands
        # is exactly what a user pasting the fix would have run.
        shown = command.replace("kubectl ", "printf '%s\\n' ")
        subprocess.run(["bash", "-c", shown], cwd=tmp_path, capture_output=True, check=False, timeout=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
