"""SC-002: a credential stored in a ConfigMap key (a value, a line of a file, or binary data)."""

from __future__ import annotations

import base64
import binascii
import shlex
from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules._kubectl import namespace_flag
from stockade.rules.base import RuleContext, Violation, object_rule
from stockade.rules.sc._heuristics import SecretHint, classify, classify_file, known_pattern, name_hint


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
        hint = name_hint(key, environment=False)
        # Binary content is high-entropy by nature: only the key's name can speak for it.
        return SecretHint(f"key name looks like {hint}") if hint is not None and value.strip() else None
    if "\n" in value.strip():
        return classify_file(value)
    return classify(key, value, threshold, environment=False)


@object_rule(
    id="SC-002",
    name="secret-in-configmap",
    title="Credential stored in a ConfigMap",
    severity=Severity.HIGH,
    area=Area.SECRETS,
    stage=Stage.CRAWL,
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
    like credentials (`db-password`, `api_token`; `PWD` too, which in a ConfigMap is a password,
    not the shell's working directory), HTTP Authorization values, and random-looking single values with high
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
                    f'Move key "{key}" into a Secret (kubectl create secret generic {shlex.quote(configmap.name)}'
                    f"{namespace_flag(configmap)} --from-file={shlex.quote(f'{key}=./{key}')}), point its consumers at the Secret,"
                    f" remove it from ConfigMap {configmap.name}, and rotate the credential."
                ),
            )
