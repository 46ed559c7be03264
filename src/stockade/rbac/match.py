"""Rule matching, field by field, exactly as the Kubernetes RBAC authorizer decides it.

Each function answers for one field of one PolicyRule. Only ``*`` is a wildcard, and only as a
whole entry, with two exceptions: a resource entry ``*/sub`` matches subresource ``sub`` of any
resource, and a nonResourceURL entry ending in ``*`` matches every path with that prefix.
Anything else, ``pods/*`` included, is compared literally.
"""

from __future__ import annotations

from stockade.rbac.model import PolicyRule, Request

ALL = "*"


def verb_matches(rule: PolicyRule, verb: str) -> bool:
    return ALL in rule.verbs or verb in rule.verbs


def api_group_matches(rule: PolicyRule, group: str) -> bool:
    return ALL in rule.api_groups or group in rule.api_groups


def resource_matches(rule: PolicyRule, combined: str, subresource: str) -> bool:
    """``combined`` is ``resource/subresource`` (or ``resource``); ``*/sub`` only serves subresources."""
    for entry in rule.resources:
        if entry in (ALL, combined):
            return True
        if subresource and entry == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: PolicyRule, name: str) -> bool:
    """No resourceNames means any name; with a list, a request without a name never matches."""
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: PolicyRule, path: str) -> bool:
    for entry in rule.non_resource_urls:
        if entry in (ALL, path):
            return True
        # Every trailing '*' goes, so "/api**" behaves as "/api*".
        if entry.endswith(ALL) and path.startswith(entry.rstrip(ALL)):
            return True
    return False


def rule_allows(rule: PolicyRule, request: Request) -> bool:
    """Whether this one rule authorizes the request (scope is the caller's business)."""
    if request.non_resource_url is not None:
        return verb_matches(rule, request.verb) and non_resource_url_matches(rule, request.non_resource_url)
    return (
        verb_matches(rule, request.verb)
        and api_group_matches(rule, request.api_group)
        and resource_matches(rule, request.combined_resource, request.subresource)
        and resource_name_matches(rule, request.name)
    )
