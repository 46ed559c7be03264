"""``kubectl stockade …``: what changes when Stockade runs as a kubectl plugin.

kubectl runs ``kubectl-stockade`` with every argument after the plugin name, unchanged, and its own
environment (``KUBECONFIG`` included); it refuses global flags placed before the plugin name. So
kubectl users type their global flags right after ``stockade`` (``kubectl stockade -n shop rbac
who-can get secrets``): those are moved behind the command they belong to. With nothing named to
read, the plugin reads the cluster of the current context, as every kubectl command does.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from stockade.cli.inputs import wants_cluster

PLUGIN_NAME = "kubectl-stockade"
# kubectl's global flags that Stockade's commands also take, with the same meaning.
_WITH_VALUE = frozenset({"--context", "--kubeconfig", "-n", "--namespace"})
_SWITCHES = frozenset({"-A", "--all-namespaces"})


def invoked_as_plugin(argv0: str) -> bool:
    """True for ``kubectl-stockade`` (kubectl passes the plugin's full path as argv[0])."""
    return Path(argv0).stem == PLUGIN_NAME


def _leading_globals(argv: Sequence[str]) -> int:
    """How many leading arguments are kubectl global flags (with their values)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        name, equals, _ = token.partition("=")
        long_with_value = bool(equals) and name.startswith("--") and name in _WITH_VALUE  # --context=prod
        attached = token.startswith("-n") and len(token) > 2 and token[2] != "-"  # -nshop
        if token in _SWITCHES or long_with_value or attached:
            i += 1
        elif token in _WITH_VALUE and i + 1 < len(argv):
            i += 2
        else:
            break
    return i


def _command_depth(parser: argparse.ArgumentParser, argv: Sequence[str]) -> int:
    """How many of ``argv``'s first words name a command and its subcommands (``rbac who-can``: 2)."""
    depth = 0
    while depth < len(argv):
        choices = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if not isinstance(choices, dict) or argv[depth] not in choices:
            break
        parser = choices[argv[depth]]
        depth += 1
    return depth


def move_global_flags(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``-n shop rbac who-can get secrets`` → ``rbac who-can -n shop get secrets``.

    Only kubectl's globals (``--context``, ``--kubeconfig``, ``-n/--namespace``, ``-A``) that come
    before the command move; everything else stays where the user put it."""
    count = _leading_globals(argv)
    flags, rest = list(argv[:count]), list(argv[count:])
    depth = _command_depth(parser, rest)
    return [*rest[:depth], *flags, *rest[depth:]]


def read_current_context_by_default(args: argparse.Namespace) -> None:
    """A reading command given no files, snapshot or cluster option reads the current context's cluster."""
    if hasattr(args, "paths") and not args.paths and not args.snapshot and not wants_cluster(args):
        args.cluster = True
