"""WL-012 and the Pod Security restricted seccomp check judge the legacy annotations alike: no profile."""

from __future__ import annotations

from stockade.model.finding import Severity, Status
from tests.helpers import scan_text

ANNOTATED = """
apiVersion: v1
kind: Pod
metadata:
  name: legacy
  namespace: shop
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: runtime/default
spec:
  containers:
    - {name: api, image: registry.example.com/shop/api:2.3.1}
"""


def test_the_ignored_annotation_is_no_profile_for_both_and_the_message_says_why() -> None:
    result = scan_text(ANNOTATED, rules=["WL-012", "PSS-017"])
    by_rule = {f.rule_id: f for f in result.findings}
    assert set(by_rule) == {"WL-012", "PSS-017"}
    wl = by_rule["WL-012"]
    assert (wl.status, wl.severity) == (Status.FAIL, Severity.MEDIUM)
    assert wl.message == (
        'container "api" has no seccomp profile'
        " (the seccomp.security.alpha.kubernetes.io annotation is ignored since Kubernetes 1.27)"
    )
    assert by_rule["PSS-017"].status is Status.FAIL
