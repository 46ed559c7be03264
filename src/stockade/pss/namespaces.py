"""Namespace labels: which Pod Security level each admission mode applies, read as the plugin reads them.

A namespace opts in with ``pod-security.kubernetes.io/<mode>: <level>`` and may pin the policy with
``pod-security.kubernetes.io/<mode>-version: v1.<minor> | latest`` (modes: enforce, audit, warn).
An unlabelled mode gets the cluster default (``privileged:latest`` unless the admission
configuration says otherwise). A value the plugin cannot parse is replaced as it replaces it:
an unknown ``enforce`` level by ``restricted`` (fail closed), an unknown ``audit`` or ``warn``
level by ``privileged`` (those modes never block), and an unknown version by ``latest``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from stockade.pss.model import LATEST, LEVELS, Level, PolicyVersion

Mode = Literal["enforce", "audit", "warn"]
MODES: Final[tuple[Mode, ...]] = ("enforce", "audit", "warn")
LABEL_PREFIX: Final = "pod-security.kubernetes.io/"

# Stricter than :func:`stockade.pss.parse_version`: the label needs the ``v`` (as the plugin does).
_LABEL_VERSION: Final = re.compile(r"v1\.([0-9]|[1-9][0-9]*)")


def level_label(mode: Mode) -> str:
    return LABEL_PREFIX + mode


def version_label(mode: Mode) -> str:
    return f"{LABEL_PREFIX}{mode}-version"


@dataclass(frozen=True, slots=True)
class Default:
    """The policy for modes a namespace does not label (the admission configuration's defaults)."""

    level: Level = "privileged"
    version: PolicyVersion = LATEST


@dataclass(frozen=True, slots=True)
class ModePolicy:
    """The level and version one mode applies; ``labelled`` is False when the default applies."""

    mode: Mode
    level: Level
    version: PolicyVersion
    labelled: bool


@dataclass(frozen=True, slots=True)
class LabelProblem:
    """A label value the plugin cannot parse, and what it uses instead."""

    label: str
    message: str


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """A namespace's three modes, and the label values the plugin could not parse (with what it used)."""

    namespace: str
    enforce: ModePolicy
    audit: ModePolicy
    warn: ModePolicy
    problems: tuple[LabelProblem, ...] = field(default=())

    def mode(self, mode: Mode) -> ModePolicy:
        return self.enforce if mode == "enforce" else self.audit if mode == "audit" else self.warn


def _level(mode: Mode, raw: object, problems: list[LabelProblem]) -> Level:
    if isinstance(raw, str) and raw in LEVELS:
        return raw
    fallback: Level = "restricted" if mode == "enforce" else "privileged"
    label = level_label(mode)
    problems.append(
        LabelProblem(
            label,
            f"label {label}={raw!r} is not one of {', '.join(LEVELS)}; the admission plugin uses {fallback} instead",
        )
    )
    return fallback


def _version(mode: Mode, raw: object, problems: list[LabelProblem]) -> PolicyVersion:
    if raw == "latest":
        return LATEST
    match = _LABEL_VERSION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        label = version_label(mode)
        problems.append(
            LabelProblem(
                label, f"label {label}={raw!r} is not 'latest' or 'v1.<minor>'; the admission plugin uses latest"
            )
        )
        return LATEST
    return PolicyVersion(int(match.group(1)))


def policy_from_labels(namespace: str, labels: Mapping[str, object], default: Default = Default()) -> NamespacePolicy:
    """The policy a namespace with ``labels`` gets from the Pod Security admission plugin."""
    problems: list[LabelProblem] = []
    modes: list[ModePolicy] = []
    for mode in MODES:
        labelled = level_label(mode) in labels
        level = _level(mode, labels[level_label(mode)], problems) if labelled else default.level
        version = _version(mode, labels[version_label(mode)], problems) if version_label(mode) in labels else None
        modes.append(ModePolicy(mode, level, version or default.version, labelled))
    return NamespacePolicy(namespace, modes[0], modes[1], modes[2], tuple(problems))


def namespace_policies(
    namespaces: Iterable[tuple[str, Mapping[str, object]]], default: Default = Default()
) -> dict[str, NamespacePolicy]:
    """Policies by namespace name, from (name, labels) pairs; a name given twice keeps its first labels."""
    out: dict[str, NamespacePolicy] = {}
    for name, labels in namespaces:
        if name not in out:
            out[name] = policy_from_labels(name, labels, default)
    return out
