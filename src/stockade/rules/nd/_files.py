"""File permission and ownership checks as data: one `FileCheck` per CIS control, one rule each.

``stockade node scan`` turns each key file of a node into a ``NodeFile`` object (path, role, mode,
owner; never contents, see `stockade.sources.node`); each rule judges the files of its role. A
node without the file (a worker has no etcd data directory) has nothing for the rule to judge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from stockade.model.finding import Area, Severity, Stage
from stockade.model.resource import Resource
from stockade.rules.base import Rule, RuleContext, Scope, Violation, table_rule

NODE_API = "node.stockade.io/v1alpha1"


@dataclass(frozen=True, slots=True)
class FileCheck:
    """``mode``: the most permissive mode allowed (e.g. 0o600); ``owner``: "user:group" required."""

    id: str
    name: str
    cis: str
    roles: tuple[str, ...]
    title: str
    what: str
    severity: Severity
    mode: int | None = None
    owner: str | None = None
    stage: Stage = Stage.CRAWL
    example_path: str = ""
    frameworks: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def role_kind(self) -> str:
        return role_kind(self.roles[0])


DIRECTORY_ROLES = frozenset({"etcd-data", "pki-directory"})


def role_kind(role: str) -> str:
    """What a role's files are: a directory, a socket or a regular file."""
    return "directory" if role in DIRECTORY_ROLES else "socket" if role == "runtime-socket" else "file"


def _spec(resource: Resource) -> Mapping[str, object]:
    spec = resource.raw.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def file_rule(check: FileCheck) -> Rule:
    def run(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
        spec = _spec(resource)
        roles = spec.get("roles")
        held = set(roles) if isinstance(roles, list) else {spec.get("role")}
        if not held & set(check.roles):
            return
        path = spec.get("path")
        if spec.get("type") == "symlink":
            yield Violation(f"{path} is a symbolic link: the file it points to is not checked here", ("spec", "type"))
            return
        if check.mode is not None:
            raw = spec.get("mode")
            mode = int(raw, 8) if isinstance(raw, str) and raw.isdigit() else None
            if mode is None:
                yield Violation(f"{path}: mode {raw!r} is not an octal mode", ("spec", "mode"))
            elif mode & ~check.mode:
                yield Violation(
                    f"{path} has mode {mode:04o}; it should be {check.mode:04o} or more restrictive", ("spec", "mode")
                )
        if check.owner is not None:
            owner = f"{spec.get('user')}:{spec.get('group')}"
            if owner != check.owner:
                yield Violation(f"{path} is owned by {owner}; it should be {check.owner}", ("spec", "user"))

    fix = f"chmod {check.mode:o} the file" if check.mode is not None else f"chown {check.owner} the file"
    frameworks = {**({"cis-1.10": [check.cis]} if check.cis else {}), **check.frameworks}
    remediation = fix.replace("the file", check.example_path or "the file")
    return table_rule(
        check,
        run,
        Scope.OBJECT,
        area=Area.NODE_FILES,
        frameworks=frameworks,
        remediation=remediation,
        doc=_doc(check),
        kinds=("NodeFile",),
    )


def node_file(path: str, role: str, mode: str, user: str = "root", group: str = "root", kind: str = "file") -> str:
    """A ``NodeFile`` as `stockade node scan` reads it (for examples and fixtures)."""
    return (
        f"apiVersion: {NODE_API}\n"
        "kind: NodeFile\n"
        f"metadata: {{name: 'node-1:{path}', labels: {{stockade.io/node: node-1}}}}\n"
        f"spec: {{node: node-1, path: {path}, role: {role}, type: {kind}, mode: '{mode}', "
        f"uid: 0, gid: 0, user: {user}, group: {group}}}\n"
    )


def _doc(check: FileCheck) -> str:
    role = check.roles[0]
    kind = role_kind(role)
    user, group = (check.owner or "root:root").split(":")
    good_mode = f"{check.mode:04o}" if check.mode is not None else "0600"
    bad_mode = "0644" if check.mode is not None else good_mode
    bad_owner = ("ubuntu", "ubuntu") if check.owner is not None else (user, group)
    path = check.example_path
    if check.mode is not None:
        what_wrong = f"mode {bad_mode} lets other users read it"
        fix = f"`chmod {check.mode:o} {path}`"
    else:
        what_wrong = f"it belongs to {bad_owner[0]}:{bad_owner[1]}"
        fix = f"`chown {check.owner} {path}`"
    return (
        f"{check.title}.\n\n"
        f"## What it does\n{check.what} `stockade node scan --root /` reads the file's mode and owner "
        "on the node (or on its file system mounted elsewhere); the file's contents are never read.\n\n"
        f"## Why is this bad?\nThe file configures or authenticates a Kubernetes component: whoever can "
        f"change it (or read it, for credentials) controls that component; here {what_wrong}.\n\n"
        f"## Example\n```yaml\n{node_file(path, role, bad_mode, *bad_owner, kind=kind)}```\n\n"
        f"## Use instead\n```yaml\n{node_file(path, role, good_mode, user, group, kind=kind)}```\n\n"
        f"## Remediation\nOn the node: {fix}.\n\n"
        + (f"## References\n- CIS Kubernetes Benchmark v1.10, control {check.cis}\n" if check.cis else "")
    )
