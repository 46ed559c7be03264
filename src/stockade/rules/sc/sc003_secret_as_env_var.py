"""SC-003: a Secret handed to a container as environment variables instead of files."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.rules._pod import mapping
from stockade.rules.base import RuleContext, Violation, container_rule


@container_rule(
    id="SC-003",
    name="secret-as-env-var",
    title="Secret passed to a container as environment variables",
    severity=Severity.LOW,
    area=Area.SECRETS,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.4.1"],
        "nsa-cisa": ["network.secrets"],
        "owasp-k8s-2022": ["K08"],
        "owasp-k8s-2025": ["K03"],
        "mitre-attack": ["T1552"],
    },
    remediation="Mount the Secret as a read-only volume and read the file instead of an environment variable.",
)
def secret_as_env_var(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Secret passed to a container as environment variables.

    ## What it does
    Flags `env[].valueFrom.secretKeyRef` entries and `envFrom[].secretRef` entries: Secret values
    handed to the process as environment variables rather than as files.

    ## Why is this bad?
    Environment variables are inherited by every child process, shown in `/proc/<pid>/environ`,
    written to crash dumps and debug endpoints, and often logged at start-up. They are not updated
    when the Secret rotates. Files in a Secret volume are only readable by the container, can be
    restricted by mode, and are refreshed in place.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: api-db, key: password}
          envFrom:
            - secretRef: {name: api-keys}
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
          env:
            - {name: DB_PASSWORD_FILE, value: /etc/db/password}
          volumeMounts:
            - {name: db, mountPath: /etc/db, readOnly: true}
      volumes:
        - name: db
          secret: {secretName: api-db, defaultMode: 0400}
    ```

    ## Remediation
    Mount the Secret as a volume (`secret: {secretName: …}`) with `readOnly: true` and have the
    application read the file (many images accept a `*_FILE` variable for this).

    ## References
    - https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod
    - https://kubernetes.io/docs/concepts/security/secrets-good-practices/
    """
    env = container.spec.get("env")
    if isinstance(env, list):
        for index, item in enumerate(env):
            item = mapping(item)
            ref = mapping(mapping(item.get("valueFrom")).get("secretKeyRef"))
            if not ref:
                continue
            name = item.get("name")
            yield Violation(
                f'container "{container.name}" reads key "{ref.get("key", "?")}" of Secret'
                f' "{ref.get("name", "?")}" into env var "{name if isinstance(name, str) else index}"',
                (*container.path, "env", index, "valueFrom", "secretKeyRef"),
            )
    env_from = container.spec.get("envFrom")
    if isinstance(env_from, list):
        for index, item in enumerate(env_from):
            ref = mapping(mapping(item).get("secretRef"))
            if not ref:
                continue
            yield Violation(
                f'container "{container.name}" loads every key of Secret "{ref.get("name", "?")}"'
                " as environment variables (envFrom)",
                (*container.path, "envFrom", index, "secretRef"),
            )
