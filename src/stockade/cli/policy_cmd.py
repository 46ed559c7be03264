"""``stockade policy test|dry-run``, and the ``--policies`` options of the reading commands.

``test`` runs suites: Gatekeeper's gator format (``kind: Suite``, ``test.gatekeeper.sh/v1alpha1``)
and Stockade's ``PolicyTest`` (:mod:`stockade.policies.suite`); a directory is searched for both.
``dry-run`` scans objects (files, a cluster, snapshots) with only the given policies and reports
what each would deny, warn about or audit today.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE
from stockade.cli.output_options import add_output_options, write_output


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """``--policies PATH`` (repeatable) and ``--policies-from-sources``."""
    parser.add_argument(
        "--policies",
        action="append",
        default=[],
        metavar="PATH",
        help="user policies: ValidatingAdmissionPolicies and bindings, Gatekeeper ConstraintTemplates and "
        "Constraints, their params (files or directories; each binding or constraint is rule POL-<name>)",
    )
    parser.add_argument(
        "--policies-from-sources",
        action="store_true",
        help="also use the policies among the objects read (e.g. those already in the cluster)",
    )


def add_policy_parser(sub: argparse._SubParsersAction[Any]) -> None:
    policy = sub.add_parser(
        "policy",
        help="test user policies (CEL, Rego) and see what they would do to existing objects",
        description="Test ValidatingAdmissionPolicies and Gatekeeper policies with their suites, and see what they "
        "would deny, warn about or audit among the objects that exist today.",
    )
    commands = policy.add_subparsers(dest="policy_command", required=True, parser_class=type(policy))
    test = commands.add_parser(
        "test",
        help="run policy test suites (gator Suite, Stockade PolicyTest)",
        description="Run gator suites (kind: Suite, test.gatekeeper.sh/v1alpha1) with every engine a template "
        "provides, and Stockade PolicyTest suites. A directory is searched for suite files. Exit 1 when a case "
        "fails, 3 when a suite cannot be read.",
    )
    test.add_argument("paths", nargs="+", metavar="PATH", help="suite files or directories holding them")
    add_output_options(test, ("table", "junit", "json"), "table")
    dry_run = commands.add_parser(
        "dry-run",
        help="what the policies would deny, warn about or audit among existing objects",
        description="Scan the objects read (files, a live cluster, snapshots) with only the given policies and "
        "report, per policy and namespace, what each would deny, warn about or audit. Exit 1 when something "
        "would be denied, 3 when a policy or an input cannot be read.",
    )
    dry_run.add_argument(
        "--policy", action="append", required=True, metavar="PATH", help="the policies (files or directories)"
    )
    dry_run.add_argument(
        "--each", type=int, default=5, metavar="N", help="objects listed per policy and namespace in the table"
    )
    from stockade.cli.inputs import add_source_options

    add_source_options(dry_run)
    add_output_options(dry_run, ("table", "json"), "table")


def run_policy(args: argparse.Namespace) -> int:
    runners: dict[str, Callable[[argparse.Namespace], int]] = {"test": _run_test, "dry-run": _run_dry_run}
    return runners[args.policy_command](args)


# -- test ------------------------------------------------------------------------------------------
def _suite_files(paths: Sequence[str]) -> Iterator[Path | str]:
    """Suite files under ``paths`` (a file named is taken as a suite); a problem as a string."""
    for given in paths:
        path = Path(given)
        if path.is_file():
            yield path
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*.y*ml") if p.is_file() and _looks_like_suite(p))
            if not found:
                yield f"{given}: no suite (kind: Suite or kind: PolicyTest) in this directory"
            yield from found
        else:
            yield f"{given}: no such file or directory"


def _looks_like_suite(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return any(line.strip() in ("kind: Suite", "kind: PolicyTest") for line in head.splitlines())


def _run_test(args: argparse.Namespace) -> int:
    from stockade.errors import ConfigFileError
    from stockade.policies.gator import run_suite
    from stockade.policies.suite import CaseResult, SuiteError, is_policy_test, run_policy_test
    from stockade.sources.configfile import read_config_file

    results: list[Any] = []
    problems: list[str] = []
    for found in _suite_files(args.paths):
        if isinstance(found, str):
            problems.append(found)
            continue
        try:
            document = read_config_file(str(found))
            if is_policy_test(document):
                results.extend(run_policy_test(found))
            else:
                results.extend(run_suite(found))
        except (SuiteError, ConfigFileError) as exc:
            problems.append(str(exc))
        except Exception as exc:
            problems.append(f"{found}: {type(exc).__name__}: {exc}")
    cases = [_case(r, CaseResult) for r in results]
    if args.format == "junit":
        write_output(_junit(cases, problems), args.output)
    elif args.format == "json":
        import orjson

        document = {"cases": [vars_of(c) for c in cases], "problems": problems}
        write_output(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode(), args.output)
    else:
        write_output(_table(cases, problems), args.output)
    for problem in problems:
        sys.stderr.write(f"error: {problem}\n")
    if problems:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if any(not c.passed for c in cases) else EXIT_CLEAN


def _case(result: Any, kind: type[Any]) -> Any:
    if isinstance(result, kind):
        return result
    return kind(
        suite=str(getattr(result, "suite", "")),
        test=str(getattr(result, "test", "")),
        case=str(getattr(result, "case", "")),
        passed=bool(getattr(result, "passed", False)),
        why=str(getattr(result, "why", "") or ""),
        engine=str(getattr(result, "engine", "") or ""),
    )


def vars_of(case: Any) -> dict[str, object]:
    return {key: getattr(case, key) for key in ("suite", "test", "case", "engine", "passed", "why")}


def _table(cases: Sequence[Any], problems: Sequence[str]) -> str:
    from stockade.model.text import visible

    lines = []
    for case in cases:
        mark = "PASS" if case.passed else "FAIL"
        engine = f" [{case.engine}]" if case.engine else ""
        where = " / ".join(visible(p) for p in dict.fromkeys((case.suite, case.test, case.case)) if p)
        lines.append(f"{mark}  {where}{engine}" + (f": {visible(case.why)}" if case.why and not case.passed else ""))
    failed = sum(1 for c in cases if not c.passed)
    lines.append(
        f"{len(cases)} case(s): {len(cases) - failed} passed, {failed} failed"
        + (f"; {len(problems)} suite problem(s)" if problems else "")
    )
    return "\n".join(lines)


def _junit(cases: Sequence[Any], problems: Sequence[str]) -> str:
    root = ET.Element("testsuites", name="stockade policy test")
    by_suite: dict[str, list[Any]] = {}
    for case in cases:
        by_suite.setdefault(case.suite, []).append(case)
    for suite, members in by_suite.items():
        failures = sum(1 for c in members if not c.passed)
        element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(members)), failures=str(failures))
        for case in members:
            name = " / ".join(p for p in dict.fromkeys((case.test, case.case)) if p)
            if case.engine:
                name += f" [{case.engine}]"
            item = ET.SubElement(element, "testcase", classname=suite, name=name)
            if not case.passed:
                ET.SubElement(item, "failure", message=case.why[:500]).text = case.why
    if problems:
        element = ET.SubElement(
            root, "testsuite", name="unreadable suites", tests=str(len(problems)), errors=str(len(problems))
        )
        for problem in problems:
            item = ET.SubElement(element, "testcase", classname="unreadable", name=problem[:200])
            ET.SubElement(item, "error", message=problem[:500]).text = problem
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# -- dry-run ---------------------------------------------------------------------------------------
def _run_dry_run(args: argparse.Namespace) -> int:
    import orjson

    from stockade.api import ScanOptions, scan
    from stockade.cli.inputs import sources_from_args, usage_errors
    from stockade.model.finding import Status
    from stockade.model.text import visible
    from stockade.policies.load import read_policies
    from stockade.report.problems import render_problems

    policies = read_policies(args.policy)
    if not policies.policies:
        sys.stderr.write(render_problems(list(policies.problems), []))
        sys.stderr.write("error: no policy could be read from " + ", ".join(args.policy) + "\n")
        return EXIT_UNREADABLE
    with usage_errors():
        result = scan(sources_from_args(args), ScanOptions(rules=["POL"], policies=policies, max_findings_per_rule=0))
    modes = policies.admission_modes
    effects: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for finding in result.findings:
        if finding.status not in (Status.FAIL, Status.ERROR):
            continue
        effect = "error" if finding.status is Status.ERROR else _EFFECT[modes.get(finding.rule_id, "enforce")]
        key = (finding.rule_id, finding.resource.namespace or "", effect)
        effects.setdefault(key, []).append((finding.resource.display, finding.message))
    sys.stderr.write(render_problems(result.errors, result.skipped_inputs))
    if args.format == "json":
        document = {
            "apiVersion": "stockade.io/v1alpha1",
            "kind": "PolicyDryRun",
            "policies": sorted(modes),
            "effects": [
                {
                    "rule": rule,
                    "namespace": ns or None,
                    "effect": effect,
                    "objects": [{"object": name, "message": message} for name, message in objects],
                }
                for (rule, ns, effect), objects in sorted(effects.items())
            ],
            "objects": result.resources_scanned,
        }
        write_output(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode(), args.output)
    else:
        lines = []
        for (rule, ns, effect), objects in sorted(effects.items()):
            lines.append(f"{rule}  {visible(ns or '(cluster-scoped)')}  {effect}: {len(objects)} object(s)")
            for name, message in objects[: args.each]:
                lines.append(f"    {visible(name)}: {visible(message)}")
            if len(objects) > args.each:
                lines.append(f"    ... and {len(objects) - args.each} more")
        counts = {e: sum(len(o) for (_, _, effect), o in effects.items() if effect == e) for e in _EFFECT.values()}
        lines.append(
            f"{result.resources_scanned} object(s), {len(modes)} policy rule(s): {counts['denied']} would be denied,"
            f" {counts['warned']} warned, {counts['audited']} audited, {counts['logged']} only logged (dry-run)"
        )
        write_output("\n".join(lines), args.output)
    if result.errors:
        return EXIT_UNREADABLE
    denied = any(effect in ("denied", "error") for (_, _, effect) in effects)
    return EXIT_FINDINGS if denied else EXIT_CLEAN


_EFFECT = {"enforce": "denied", "warn": "warned", "audit": "audited", "dry-run": "logged"}
