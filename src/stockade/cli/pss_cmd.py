"""``stockade pss evaluate``: every pod and pod template against a Pod Security level.

With ``--level`` every pod is evaluated at that level (and ``--version``, default ``latest``).
Without it each pod gets the level its namespace enforces, read from the Namespace objects in
the input as the admission plugin reads their labels; a namespace without an enforce label, or
whose Namespace object is not in the input, gets the default (``--default-level``, privileged
unless told otherwise, as for a cluster without an admission configuration).

Output: one JSON object per pod (JSON lines), or ``--format table``. Exit 0 when every pod is
allowed, 1 when any is denied, 2 for a usage error, 3 when some input could not be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal

if TYPE_CHECKING:  # the parser is built for every command: the evaluator loads only when run
    from stockade.model.finding import InputProblem, SkippedInput
    from stockade.model.inventory import Inventory
    from stockade.model.podspec import PodTemplate
    from stockade.pss import Level, PolicyVersion, PssResult
    from stockade.pss.namespaces import NamespacePolicy

LEVELS = ("privileged", "baseline", "restricted")
FORMATS = ("json", "table")


def add_pss_evaluate_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``stockade pss evaluate`` beside the shared source options."""
    parser.add_argument(
        "--level", choices=LEVELS, help="evaluate every pod at this level (default: its namespace's enforce label)"
    )
    parser.add_argument(
        "--version",
        dest="policy_version",
        metavar="VERSION",
        help="policy version for --level: v1.0 … v1.37 or latest (default: latest)",
    )
    parser.add_argument(
        "--default-level",
        choices=LEVELS,
        default="privileged",
        help="level for namespaces without an enforce label or not in the input (default: privileged)",
    )
    parser.add_argument(
        "--default-version",
        metavar="VERSION",
        default="latest",
        help="version for those namespaces (default: latest)",
    )
    parser.add_argument("-f", "--format", choices=FORMATS, default="json", help="json (one object per line) or table")


@dataclass(frozen=True, slots=True)
class Policy:
    """The level and version a pod is evaluated at, and why."""

    level: Level
    version: PolicyVersion
    source: str


@dataclass(frozen=True, slots=True)
class Verdict:
    pod: PodTemplate
    namespace: str | None
    policy: Policy
    result: PssResult
    # What the namespace's audit and warn labels would record or print (PSA evaluates each mode
    # at its own level and version); only for labelled modes, and not with --level.
    modes: tuple[tuple[str, Policy, PssResult], ...] = ()


def _version(text: str, option: str) -> PolicyVersion:
    from stockade.pss import parse_version

    try:
        return parse_version(text)
    except ValueError as exc:
        fatal(f"{option}: {exc}")


class PolicyChooser:
    """Picks each pod's policy: ``--level``, else its namespace's enforce label, else the default."""

    def __init__(self, args: argparse.Namespace, inventory: Inventory) -> None:
        from stockade.pss.namespaces import Default
        from stockade.rules._pss import policies_with_default

        self.inventory = inventory
        self.fixed: Policy | None = None
        if args.level is not None:
            version = _version(args.policy_version or "latest", "--version")
            self.fixed = Policy(args.level, version, "--level")
        elif args.policy_version is not None:
            fatal("--version goes with --level; without --level each namespace's enforce-version label decides")
        self.default = Default(args.default_level, _version(args.default_version, "--default-version"))
        self.policies: Mapping[str, NamespacePolicy] = policies_with_default(inventory, self.default)
        self.missing: set[str] = set()

    def choose(self, namespace: str | None) -> Policy:
        if self.fixed is not None:
            return self.fixed
        default = f"default ({self.default.level}"
        if namespace is None:
            return Policy(self.default.level, self.default.version, f"{default}: not in a namespace)")
        policy = self.policies.get(namespace)
        if policy is None:
            self.missing.add(namespace)
            return Policy(
                self.default.level, self.default.version, f"{default}: namespace {namespace} not in the input)"
            )
        enforce = policy.enforce
        if not enforce.labelled:
            return Policy(enforce.level, enforce.version, f"{default}: no enforce label)")
        return Policy(enforce.level, enforce.version, f"namespace {namespace} label")

    def other_modes(self, namespace: str | None) -> list[tuple[str, Policy]]:
        """The audit and warn policies a namespace labels (none with --level)."""
        if self.fixed is not None or namespace is None or namespace not in self.policies:
            return []
        policy = self.policies[namespace]
        return [
            (mode.mode, Policy(mode.level, mode.version, f"namespace {namespace} label"))
            for mode in (policy.audit, policy.warn)
            if mode.labelled
        ]


def evaluate_all(inventory: Inventory, chooser: PolicyChooser) -> list[Verdict]:
    from stockade.pss import evaluate_pod

    verdicts = []
    for pod in inventory.pod_templates:
        namespace = inventory.effective_namespace(pod.carrier)
        policy = chooser.choose(namespace)
        result = evaluate_pod(pod.metadata, pod.spec, policy.level, policy.version)
        modes = tuple(
            (mode, other, evaluate_pod(pod.metadata, pod.spec, other.level, other.version))
            for mode, other in chooser.other_modes(namespace)
        )
        verdicts.append(Verdict(pod, namespace, policy, result, modes))
    return verdicts


def _mode_json(policy: Policy, result: PssResult) -> dict[str, Any]:
    return {
        "level": policy.level,
        "version": str(policy.version),
        "allowed": result.allowed,
        "violations": [
            {"check": v.check, "message": v.message, "containers": list(v.containers)} for v in result.violations
        ],
    }


def as_json(verdict: Verdict) -> dict[str, Any]:
    carrier = verdict.pod.carrier
    policy = verdict.policy
    return {
        "kind": carrier.kind,
        "namespace": verdict.namespace,
        "name": carrier.name,
        "allowed": verdict.result.allowed,
        "level": policy.level,
        "version": str(policy.version),
        "policy": {"level": policy.level, "version": str(policy.version), "from": policy.source},
        "violations": [
            {"check": v.check, "message": v.message, "containers": list(v.containers)}
            for v in verdict.result.violations
        ],
        "file": carrier.origin.file,
        "line": carrier.origin.line,
        # What the namespace's audit / warn labels would record or print; null when unlabelled.
        **dict.fromkeys(("audit", "warn")),
        **{mode: _mode_json(policy, result) for mode, policy, result in verdict.modes},
    }


def render_table(verdicts: Sequence[Verdict]) -> str:
    header = ("NAMESPACE", "KIND", "NAME", "POLICY", "FROM", "RESULT")
    rows = [
        (
            v.namespace or "-",
            v.pod.carrier.kind,
            v.pod.carrier.name,
            f"{v.policy.level}:{v.policy.version}",
            v.policy.source,
            "allowed" if v.result.allowed else "denied: " + ", ".join(x.check for x in v.result.violations),
        )
        for v in verdicts
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = []
    for row, verdict in zip((header, *rows), (None, *verdicts), strict=True):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
        for violation in verdict.result.violations if verdict is not None else ():
            lines.append(f"    {violation.check}: {violation.message}")
        for mode, policy, result in verdict.modes if verdict is not None else ():
            if not result.allowed:
                checks = ", ".join(x.check for x in result.violations)
                lines.append(f"    {mode} ({policy.level}:{policy.version}) would report: {checks}")
    denied = sum(1 for v in verdicts if not v.result.allowed)
    lines.append("")
    lines.append(f"{len(verdicts)} pods evaluated: {len(verdicts) - denied} allowed, {denied} denied")
    return "\n".join(lines) + "\n"


def _report_inputs(errors: Sequence[InputProblem], skipped: Sequence[SkippedInput]) -> None:
    for error in errors:
        where = error.source + (f":{error.line}" if error.line else "")
        about = f" {error.object}:" if error.object else ""
        sys.stderr.write(f"stockade: error: {where}:{about} {error.message}\n")
    for item in skipped:
        where = item.source + (f":{item.line}" if item.line else "")
        sys.stderr.write(f"stockade: note: skipped {where}: {item.reason}\n")


def run_pss(args: argparse.Namespace) -> int:
    import orjson

    from stockade.cli.inputs import read_inputs

    if args.pss_command != "evaluate":
        raise AssertionError(f"unhandled pss command {args.pss_command}")
    read = read_inputs(args)
    assert read.inventory is not None
    chooser = PolicyChooser(args, read.inventory)
    verdicts = evaluate_all(read.inventory, chooser)
    _report_inputs(read.errors, read.skipped_inputs)
    if args.format == "table":
        sys.stdout.write(render_table(verdicts))
    else:
        sys.stdout.write("".join(orjson.dumps(as_json(v)).decode() + "\n" for v in verdicts))
    sys.stdout.flush()
    if chooser.missing:
        names = ", ".join(sorted(chooser.missing))
        sys.stderr.write(
            f"stockade: note: the Namespace objects of {names} are not in the input; their pods were evaluated "
            f"at {chooser.default.level}:{chooser.default.version} "
            "(give --level, --default-level, or the Namespace objects)\n"
        )
    if not verdicts and not read.errors:
        sys.stderr.write("stockade: note: no pods or pod templates in the input\n")
    if read.errors:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if any(not v.result.allowed for v in verdicts) else EXIT_CLEAN
