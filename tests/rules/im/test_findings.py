"""What IM findings say and the fixes they suggest (the fixtures check which containers fail, and where)."""

from __future__ import annotations

from stockade.model.finding import Finding, Status
from stockade.rules.base import RuleConfig
from tests.helpers import scan_objects


def failed(rule_id: str, *images: object, config: RuleConfig | None = None, **fields: object) -> list[Finding]:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {"containers": [{"name": f"c{i}", "image": image, **fields} for i, image in enumerate(images)]},
    }
    result = scan_objects([pod], [rule_id], config=config)
    assert result.errors == []
    assert [f for f in result.findings if f.status is Status.ERROR] == []
    return [f for f in result.findings if f.status is Status.FAIL]


def test_latest_tells_no_tag_from_the_latest_tag() -> None:
    untagged, latest = failed("IM-001", "nginx", "nginx:latest")
    assert untagged.message == 'container "c0" image nginx has no tag (the runtime pulls latest)'
    assert latest.message == 'container "c1" image nginx:latest uses the latest tag'


def test_unparseable_image_is_named_without_guessing() -> None:
    [finding] = failed("IM-001", "${IMAGE}")
    assert finding.message == (
        "container \"c0\" has image reference '${IMAGE}', which cannot be parsed; its version cannot be checked"
    )


def test_digest_message() -> None:
    [finding] = failed("IM-002", "registry.example.com/shop/api:2.3.1")
    assert finding.message == 'container "c0" image registry.example.com/shop/api:2.3.1 is not pinned by digest'


def test_allow_list_messages_name_the_registry_and_the_list() -> None:
    config = RuleConfig(allowed_registries=("registry.example.com", "ghcr.io/acme/"))
    hub, lookalike, templated = failed("IM-003", "nginx", "ghcr.io/acmex/app:1", "x/${APP}", config=config)
    assert hub.message == (
        'container "c0" pulls docker.io/library/nginx from docker.io, which is not an allowed registry'
        " (allowed: registry.example.com, ghcr.io/acme/)"
    )
    assert "ghcr.io/acmex/app from ghcr.io" in lookalike.message
    assert templated.message == (
        "container \"c2\" has image reference 'x/${APP}', which cannot be parsed; its registry is unknown"
    )
    [nothing_allowed] = failed("IM-003", "registry.example.com/a:1", config=RuleConfig(allowed_registries=()))
    assert nothing_allowed.message.endswith("(allowed: none)")
    pinned = RuleConfig(allowed_registries=("registry.example.com/a:1",))
    [other_tag] = failed("IM-003", "registry.example.com/a:2", config=pinned)
    assert other_tag.message == (
        'container "c0" pulls registry.example.com/a:2, which is not an allowed image of registry.example.com/a'
        " (allowed: registry.example.com/a:1)"
    )


def test_pull_policy_messages_and_patch() -> None:
    [defaulted] = failed("IM-004", "registry.example.com/a:1.0")
    assert defaulted.message == (
        'container "c0" pulls mutable image registry.example.com/a:1.0 with imagePullPolicy IfNotPresent'
        " (the default for a tag other than latest)"
    )
    assert defaulted.remediation == (
        "kubectl patch pod app -n shop --type=strategic -p"
        ' \'{"spec":{"containers":[{"name":"c0","imagePullPolicy":"Always"}]}}\''
    )
    [odd] = failed("IM-004", "registry.example.com/a:1.0", imagePullPolicy=["Always"])
    assert odd.message.endswith("with imagePullPolicy ['Always']")
