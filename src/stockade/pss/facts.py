"""Pod facts that relax checks, shared by the evaluator and the WL rules so both read them alike.

Only an explicit value counts: a malformed ``hostUsers`` or ``os`` earns no relaxation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def windows_pod(spec: Mapping[str, Any]) -> bool:
    """``spec.os.name: windows``: Linux-only restricted requirements do not apply (policy v1.25+)."""
    os_ = spec.get("os")
    return isinstance(os_, Mapping) and os_.get("name") == "windows"


def user_namespace(spec: Mapping[str, Any]) -> bool:
    """``spec.hostUsers: false``: root in the pod is not root on the node (relaxations from v1.35)."""
    return spec.get("hostUsers") is False
