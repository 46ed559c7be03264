"""SC: secrets — credentials written into manifests, and Secrets handed to processes the leaky way.

No rule here ever repeats a value: messages name the variable or key and say why it looks like a
credential.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping

from stockade.model.finding import Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.model.resource import Resource
from stockade.rules._pod import mapping
from stockade.rules._secrets import SecretHint, classify, classify_file, known_pattern, name_hint
from stockade.rules.base import RuleContext, Scope, Violation, rule

SECRETS = "secrets"


def _secret_name_for(owner: str) -> str:
    return f"{owner}-credentials" if owner else "app-credentials"


@rule(
    id="SC-001",
    name="secret-in-env-value",
    title="Credential written as a literal environment variable",
    severity=Severity.HIGH,
    area=SECRETS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
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
    PEM private keys, JSON Web Tokens; critical), URLs with an embedded password, names such as
    `DB_PASSWORD`, `CLIENT_SECRET`, `GITHUB_TOKEN`, `API_KEY`, `PRIVATE_KEY`, `CREDENTIALS`,
    `AWS_SECRET_ACCESS_KEY` (high), and values that look random and whose Shannon entropy reaches
    the configured threshold (`--secret-entropy-threshold`, default 3.5 bits per character;
    medium). Empty values, booleans, numbers, paths, URLs without credentials and `$(VAR)`
    references are never flagged, nor names that describe a secret rather than hold one
    (`TOKEN_TTL`, `SECRET_NAME`, `PASSWORD_FILE`). The finding names the variable and the reason;
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
                f"Move {name} into a Secret (kubectl create secret generic {secret}"
                f"{_ns(container.pod.carrier)} --from-file={name}=./{name.lower()}.txt), reference it with"
                f" valueFrom.secretKeyRef or a secret volume, and rotate the credential."
            ),
        )


def _ns(resource: Resource) -> str:
    return f" -n {resource.namespace}" if resource.namespace else ""


def _binary_text(value: str) -> str | None:
    """binaryData is base64; its decoded bytes read as Latin-1 so every byte maps to a character."""
    try:
        return base64.b64decode(value, validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return None


def _configmap_hint(key: str, value: str, threshold: float, binary: bool) -> SecretHint | None:
    if binary:
        decoded = _binary_text(value)
        label = known_pattern(decoded if decoded is not None else value)
        if label is not None:
            return SecretHint(f"content matches {label} pattern", Severity.CRITICAL)
        hint = name_hint(key)
        # Binary content is high-entropy by nature: only the key's name can speak for it.
        return SecretHint(f"key name looks like {hint}") if hint is not None and value.strip() else None
    if "\n" in value.strip():
        return classify_file(value)
    return classify(key, value, threshold)


@rule(
    id="SC-002",
    name="secret-in-configmap",
    title="Credential stored in a ConfigMap",
    severity=Severity.HIGH,
    area=SECRETS,
    stage=Stage.CRAWL,
    scope=Scope.OBJECT,
    kinds={"ConfigMap"},
    frameworks={
        "nsa-cisa": ["network.secrets"],
        "owasp-k8s-2022": ["K08"],
        "owasp-k8s-2025": ["K03"],
        "mitre-attack": ["T1552", "T1552.001"],
    },
    remediation="Move the key into a Secret, update the consumers, and rotate the credential.",
)
def secret_in_configmap(ctx: RuleContext, configmap: Resource) -> Iterator[Violation]:
    """Credential stored in a ConfigMap.

    ## What it does
    Looks at every key of a ConfigMap's `data` and `binaryData` with the heuristics of SC-001:
    known key formats anywhere in the value (critical), URLs with embedded passwords, keys named
    like credentials (`db-password`, `api_token`), and random-looking single values with high
    entropy. Multi-line values are read as configuration files: each `key: value` or `key=value`
    line is judged by its own key (`spring.datasource.password=…`), without entropy, since files
    are full of harmless hashes. `binaryData` is decoded and searched for key formats only. The
    finding names the ConfigMap key (and the line), never the value.

    ## Why is this bad?
    ConfigMaps are meant to be read: they are not encrypted at rest, RBAC roles such as `view`
    grant them freely, and they are printed in logs, dashboards and support bundles. A credential
    there is readable by far more people and tools than one in a Secret.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-config, namespace: shop}
    data:
      LOG_LEVEL: info
      application.properties: |
        server.port=8080
        spring.datasource.url=jdbc:postgresql://db:5432/shop
        spring.datasource.password=Pr0d-Passw0rd
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-config, namespace: shop}
    data:
      LOG_LEVEL: info
      application.properties: |
        server.port=8080
        spring.datasource.url=jdbc:postgresql://db:5432/shop
        spring.datasource.password=${DB_PASSWORD}
    ```

    ## Remediation
    Create a Secret for the credential (`kubectl create secret generic api-db -n shop
    --from-literal=password=…`), have the application read it from a mounted file or an
    environment reference, remove it from the ConfigMap, and rotate it.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/configmap/
    - https://kubernetes.io/docs/concepts/security/secrets-good-practices/
    """
    threshold = ctx.config.secret_entropy_threshold
    for section, binary in (("data", False), ("binaryData", True)):
        entries = configmap.raw.get(section)
        if not isinstance(entries, Mapping):
            continue
        for key, value in entries.items():
            if not isinstance(key, str) or not isinstance(value, str):
                continue
            hint = _configmap_hint(key, value, threshold, binary)
            if hint is None:
                continue
            yield Violation(
                f'ConfigMap key "{key}" ({section}) looks like a credential: {hint.reason}',
                (section, key),
                severity=hint.severity,
                remediation=(
                    f'Move key "{key}" into a Secret (kubectl create secret generic {configmap.name}'
                    f"{_ns(configmap)} --from-file={key}=./{key}), point its consumers at the Secret,"
                    f" remove it from ConfigMap {configmap.name}, and rotate the credential."
                ),
            )


@rule(
    id="SC-003",
    name="secret-as-env-var",
    title="Secret passed to a container as environment variables",
    severity=Severity.LOW,
    area=SECRETS,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.4.1"],
        "nsa-cisa": ["network.secrets"],
        "owasp-k8s-2022": ["K08"],
        "owasp-k8s-2025": ["K03"],
        "mitre-attack": ["T1552"],
    },
    remediation="Mount the Secret as a read-only volume and read the file instead of an environment variable.",
)
def secret_as_env_var(ctx: object, container: ContainerRef) -> Iterator[Violation]:
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
