"""CP-028 and CP-045: the audit policy flag, and what the encryption configuration really encrypts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.cp._flags import FlagCheck, all_set, flag_rule

CHECKS = (
    FlagCheck(
        "CP-028",
        "apiserver-audit-policy",
        "3.2.1",
        "kube-apiserver",
        "API server has no audit policy",
        Severity.HIGH,
        Stage.CRAWL,
        all_set("audit-policy-file"),
        "Checks that `--audit-policy-file` is set: without a policy the API server records no event, "
        "whatever backend is configured. What the policy records is judged by OB-001 when the file is read "
        "(`stockade node scan`).",
        "No policy, no audit events: reads of Secrets, exec into pods and RBAC changes leave no trace.",
        "Write an audit Policy and set `--audit-policy-file`.",
        bad=("--audit-policy-file",),
        references=("https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy",),
        frameworks={"nsa-cisa": ["logging.audit"]},
        area=Area.LOGGING,
    ),
)

RULES = tuple(flag_rule(check) for check in CHECKS)
# A resources entry that covers Secrets: the core group's "secrets", or a wildcard over it.
SECRET_ENTRIES = frozenset({"secrets", "*.", "*.*"})


def _covering_secrets(resource: Resource) -> tuple[int, Mapping[str, Any]] | None:
    entries = resource.raw.get("resources")
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        listed = entry.get("resources") if isinstance(entry, Mapping) else None
        if isinstance(listed, list) and SECRET_ENTRIES & {str(r) for r in listed}:
            return index, entry
    return None


@object_rule(
    kinds={"EncryptionConfiguration"},
    id="CP-045",
    name="encryption-providers",
    title="Encryption configuration leaves Secrets unencrypted",
    severity=Severity.HIGH,
    area=Area.CONTROL_PLANE,
    stage=Stage.WALK,
    frameworks={"cis-1.10": ["1.2.28"], "nsa-cisa": ["network.secrets"], "mitre-attack": ["T1552"]},
    remediation="List secrets in the configuration with kms (v2), aescbc or secretbox as the first provider.",
)
def encryption_providers(ctx: RuleContext, config: Resource) -> Iterator[Violation]:
    """Encryption configuration leaves Secrets unencrypted.

    ## What it does
    Reads the EncryptionConfiguration that `--encryption-provider-config` names (`stockade node scan`
    reads it from the control-plane node, with every key's secret redacted first). Secrets must be
    listed (by `secrets`, or a wildcard such as `*.`), and the first provider, the one that writes,
    must not be `identity`.

    ## Why is this bad?
    The flag alone proves nothing: a configuration that lists only ConfigMaps, or puts `identity`
    first, still writes every Secret to etcd in plain text, and into every etcd backup.

    ## Example
    ```yaml
    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
      - resources: [secrets]
        providers:
          - identity: {}
          - aescbc:
              keys:
                - {name: key1, secret: <redacted>}
    ```

    ## Use instead
    ```yaml
    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
      - resources: [secrets]
        providers:
          - kms:
              apiVersion: v2
              name: cloud-kms
              endpoint: unix:///var/run/kms-provider.sock
          - identity: {}
    ```

    ## Remediation
    Put a real provider first (KMS v2 where a key service exists, else aescbc or secretbox), keep
    `identity` last so existing data stays readable, then rewrite every Secret
    (`kubectl get secrets -A -o json | kubectl replace -f -`).

    ## References
    - https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/
    """
    found = _covering_secrets(config)
    if found is None:
        yield Violation("no resources entry lists secrets: Secrets are stored unencrypted", ("resources",))
        return
    index, entry = found
    providers = entry.get("providers")
    first = providers[0] if isinstance(providers, list) and providers else None
    name = next(iter(first), None) if isinstance(first, Mapping) else None
    if name is None:
        yield Violation(f"resources[{index}] lists no provider", ("resources", index, "providers"))
    elif name == "identity":
        yield Violation(
            f"resources[{index}] writes Secrets with the identity provider first: they are stored unencrypted",
            ("resources", index, "providers", 0),
        )
