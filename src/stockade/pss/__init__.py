"""Pod Security Standards: the exact, versioned evaluator.

Evaluates a pod (or pod template) at the ``privileged``, ``baseline`` or ``restricted`` level and at
a policy version from ``v1.0`` to ``v1.37`` (or ``latest``), check by check with the semantics and
version boundaries of the Kubernetes Pod Security Admission plugin. Pure: no I/O, no globals that
change after import (plans are cached per level and version).

    >>> from stockade.pss import evaluate_pod, parse_version
    >>> evaluate_pod({}, {"containers": [{"name": "app"}]}, "baseline", parse_version("v1.30")).allowed
    True
"""

from stockade.pss.model import (
    LATEST,
    LEVELS,
    MAX_MINOR,
    CheckInfo,
    CheckViolation,
    Level,
    Malformed,
    PolicyVersion,
    PssResult,
    parse_version,
)
from stockade.pss.registry import CheckResults, checks_for, evaluate_check, evaluate_pod, evaluate_view

__all__ = [
    "LATEST",
    "LEVELS",
    "MAX_MINOR",
    "CheckInfo",
    "CheckResults",
    "CheckViolation",
    "Level",
    "Malformed",
    "PolicyVersion",
    "PssResult",
    "checks_for",
    "evaluate_check",
    "evaluate_pod",
    "evaluate_view",
    "parse_version",
]
