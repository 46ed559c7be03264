"""SC-001: a credential written as the literal value of an environment variable."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._kubectl import namespace_flag
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.sc._heuristics import classify


def _secret_name_for(owner: str) -> str:
    return f"{owner}-credentials" if owner else "app-credentials"


@container_rule(
    id="SC-001",
    name="secret-in-env-value",
    title="Credential written as a literal environment variable",
    severity=Severity.HIGH,
    area=Area.SECRETS,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["network.secrets"],
        "owasp-k8s-2022": ["K08"],
        "owasp-k8s-2025": ["K03"],
        "mitre-attack": ["T1552", "T1552.007"],
    },
    remediation="Move the value into a Secret, reference it (ideally as a mounted file), and rotate it.",
)
def secret_in_env_value(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Credential written as a literal environment variable.

    ## What it does
    Looks at every `env[].value` of every container and flags those that look like credentials:
    values in a known key format (AWS access keys, GitHub, GitLab and Slack tokens, Google API keys,
    PEM private keys, JSON Web Tokens; critical), URLs with an embedded password, HTTP
    Authorization values (`Bearer …`, `Basic …`), names such as `DB_PASSWORD`, `CLIENT_SECRET`,
    `GITHUB_TOKEN`, `API_KEY`, `PRIVATE_KEY`, `CREDENTIALS`, `AWS_SECRET_ACCESS_KEY`,
    `AZURE_STORAGE_KEY`, `OCI_CLI_KEY_CONTENT`, `AUTH_HEADER` (high), and values that look random and whose Shannon entropy reaches
    the configured threshold (`--secret-entropy-threshold`, default 3.5 bits per character;
    medium). Empty values, booleans, numbers, paths, URLs without credentials and `$(VAR)`
    references are never flagged, nor names that describe a secret rather than hold one
    (`TOKEN_TTL`, `SECRET_NAME`, `PASSWORD_FILE`), nor the shell's `PWD`. The finding names the variable and the reason;
    it never repeats the value.

    ## Why is this bad?
    A literal value lives in Git, in every rendered chart, in the object's last-applied annotation
    and in the API server, readable by anyone who may `get` the workload, which is a far wider
    audience than those who may read Secrets. It cannot be rotated without a redeploy, and once
    committed it stays in the repository's history.

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
              env:
                - {name: LOG_LEVEL, value: info}
                - {name: DB_PASSWORD, value: "Sup3r-S3cret!"}
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
              env:
                - {name: LOG_LEVEL, value: info}
                - {name: DB_PASSWORD_FILE, value: /etc/db/password}
              volumeMounts:
                - {name: db, mountPath: /etc/db, readOnly: true}
          volumes:
            - name: db
              secret: {secretName: api-db}
    ```

    ## Remediation
    Create a Secret (`kubectl create secret generic api-db -n shop --from-literal=password=…`,
    or better, sync it from an external store), mount it as a file or reference it with
    `valueFrom.secretKeyRef`, remove the literal from the manifest, and rotate the credential:
    it has been exposed for as long as the manifest existed.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/secret/
    - https://kubernetes.io/docs/concepts/security/secrets-good-practices/
    """
    env = container.spec.get("env")
    if not isinstance(env, list):
        return
    threshold = ctx.config.secret_entropy_threshold
    for index, item in enumerate(env):
        item = mapping(item)
        value = item.get("value")
        if not isinstance(value, str):
            continue
        raw_name = item.get("name")
        name = raw_name if isinstance(raw_name, str) else f"env[{index}]"
        hint = classify(name, value, threshold)
        if hint is None:
            continue
        secret = _secret_name_for(container.pod.carrier.name)
        yield Violation(
            f'env var "{name}" of container "{container.name}" holds a literal value: {hint.reason}',
            (*container.path, "env", index, "value"),
            severity=hint.severity,
            remediation=(
                f"Move {name} into a Secret (kubectl create secret generic {shlex.quote(secret)}"
                f"{namespace_flag(container.pod.carrier)} --from-file={shlex.quote(f'{name}=./{name.lower()}.txt')}), reference it with"
                f" valueFrom.secretKeyRef or a secret volume, and rotate the credential."
            ),
        )
