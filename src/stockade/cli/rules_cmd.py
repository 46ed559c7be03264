"""``stockade rules list | explain | docs``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stockade.cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNREADABLE, fatal
from stockade.cli.output_options import write_output
from stockade.report._summary import clean


def run_rules(args: argparse.Namespace) -> int:
    from stockade.api import catalogue
    from stockade.policies.load import read_policies

    policies = read_policies(getattr(args, "policies", []))
    rules = catalogue(policies)
    if policies.problems:
        from stockade.report.problems import render_problems

        sys.stderr.write(render_problems(list(policies.problems), []))
    code = EXIT_UNREADABLE if policies.problems else EXIT_CLEAN
    if args.rules_command == "list":
        from stockade.api import ScanOptions, select
        from stockade.cli.inputs import listed_option, usage_errors

        listed_option("--rules", args.rules)
        listed_option("--framework", args.framework)
        # The listing shows opt-in rules too (marked).
        wanted = args.rules if args.rules or args.framework else ["all"]
        with usage_errors():
            selected = select(
                ScanOptions(rules=wanted, frameworks=args.framework, min_severity=args.min_severity), policies
            )
        if args.format == "json":
            payload = [
                {
                    "id": r.id,
                    "name": r.name,
                    "title": r.title,
                    "severity": r.severity.value,
                    "area": r.area.value,
                    "stage": r.stage.value,
                    "default": r.default,
                    "frameworks": {k: list(v) for k, v in r.frameworks.items()},
                }
                for r in selected
            ]
            write_output(json.dumps(payload, indent=2) + "\n", args.output)
        else:
            from stockade.report._table import table_lines

            rows = [
                (
                    r.id,
                    r.name,
                    r.severity.value,
                    r.stage.value,
                    r.area.label,
                    r.title + ("" if r.default else " (opt-in)"),
                )
                for r in selected
            ]
            lines = table_lines(("", "", "", "", "", ""), rows, header=False)
            write_output("".join(line + "\n" for line in lines), args.output)
        return code
    if args.rules_command == "explain":
        from stockade.rules import rule_aliases
        from stockade.rules.docs import rule_text

        aliases = rule_aliases(rules)
        rid = aliases.get(args.rule) or aliases.get(args.rule.upper()) or aliases.get(args.rule.lower())
        rid = rid or next((r for r in rules if r.lower() == args.rule.lower()), None)
        if rid is None:
            fatal(f"no rule {args.rule!r} (see `stockade rules list`)")
        sys.stdout.write(rule_text(rules[rid]))
        return code
    if args.rules_command == "docs":
        from stockade.cli.docs_dir import stale, write_docs
        from stockade.rules import load_rules
        from stockade.rules.docs import generated_files

        directory = Path(args.directory)
        files = generated_files(load_rules().values())
        if args.check:
            changed, extra = stale(directory, files)
            if changed or extra:
                sys.stderr.write(
                    f"stockade: docs in {clean(str(directory))} are stale ({len(changed)} changed, "
                    f"{len(extra)} obsolete); run `stockade rules docs`\n"
                )
                return EXIT_FINDINGS
            return EXIT_CLEAN
        try:
            done = write_docs(directory, files)
        except OSError as exc:
            fatal(f"cannot write docs: {clean(str(exc))}")
        deleted = f", removed {len(done.delete)} no longer generated" if done.delete else ""
        sys.stdout.write(f"wrote {len(files)} files to {clean(str(directory))}{deleted}\n")
        return EXIT_CLEAN
    raise AssertionError(args.rules_command)
