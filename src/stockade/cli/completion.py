"""Shell completion (bash, zsh, fish) through argcomplete, and ``stockade completion SHELL``.

The shell script runs ``stockade`` with ``_ARGCOMPLETE`` set; :func:`complete` then answers from
the real parser and exits. Normal runs never import argcomplete, the rules or the kubeconfig.
Besides subcommands, options and ``-f`` formats (argparse choices), it offers rule ids and names
for ``--rules``/``--skip-rules`` and the kubeconfig's context names (never anything else from it)
for ``--context``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

SHELLS = ("bash", "zsh", "fish")
PROGRAMS = ("stockade", "kubectl-stockade")


def add_completion_parser(sub: Any) -> None:
    completion = sub.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh, fish)",
        description="Print the completion script for SHELL, for `stockade` and `kubectl-stockade`. "
        'bash: `eval "$(stockade completion bash)"` in ~/.bashrc; zsh: the same in ~/.zshrc (after compinit); '
        "fish: `stockade completion fish > ~/.config/fish/completions/stockade.fish`.",
    )
    completion.add_argument("shell", choices=SHELLS)


def run_completion(args: argparse.Namespace) -> int:
    import sys

    from argcomplete.shell_integration import shellcode

    sys.stdout.write(shellcode(list(PROGRAMS), shell=args.shell))
    return 0


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request (``_ARGCOMPLETE`` in the environment) and exit."""
    import argcomplete

    for action in _all_actions(parser):
        if action.dest in ("rules", "skip_rules"):
            action.completer = complete_rules  # type: ignore[attr-defined]
        elif action.dest == "context":
            action.completer = complete_contexts  # type: ignore[attr-defined]
    argcomplete.autocomplete(parser)


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                actions.extend(_all_actions(child))
    return actions


def complete_rules(prefix: str, **_: Any) -> list[str]:
    """Rule ids and names; after a comma, the next item of the list (``WL-001,WL-0…``)."""
    from stockade.rules import load_rules

    done = prefix.rpartition(",")[0]
    head = f"{done}," if done else ""
    words = [word for rule in load_rules().values() for word in (rule.id, rule.name)]
    return [head + word for word in words]


def complete_contexts(parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    """Context names of the kubeconfig kubectl would use (``--kubeconfig``, ``$KUBECONFIG``, ~/.kube/config)."""
    import yaml

    given = getattr(parsed_args, "kubeconfig", None)
    if given:
        files = [given]
    elif os.environ.get("KUBECONFIG"):
        files = [f for f in os.environ["KUBECONFIG"].split(os.pathsep) if f]
    else:
        files = [str(Path.home() / ".kube" / "config")]
    names: list[str] = []
    for file in files:
        try:
            config = yaml.safe_load(Path(file).expanduser().read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        contexts = config.get("contexts") if isinstance(config, dict) else None
        for context in contexts if isinstance(contexts, list) else []:
            name = context.get("name") if isinstance(context, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names
