"""``stockade rules docs DIR``: write the generated rule pages, touching only files it generated.

The directory keeps a manifest (:data:`MANIFEST`) of the files the command wrote. A file is replaced
only when the manifest lists it, when it already holds exactly the generated text, or when it starts
with the generated page's own first line (a page from before the manifest existed); a file is
deleted only when the manifest lists it and it is no longer generated. Anything else in the
directory (a README.md of one's own, NOTES.md) is left alone; a name that would overwrite one is an
error. Every file is written by :func:`stockade.outputs.write_output`, which refuses symbolic links.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stockade.outputs import OutputPathError, write_output

MANIFEST = ".stockade-generated"
_HEADER = "# Files written by `stockade rules docs`; it replaces and deletes only these.\n"


@dataclass(frozen=True, slots=True)
class DocsPlan:
    write: tuple[str, ...]  # generated files that differ from what is on disk
    delete: tuple[str, ...]  # files the manifest lists that are no longer generated
    foreign: tuple[str, ...]  # files in the way that this command did not write


def read_manifest(directory: Path) -> set[str] | None:
    """The names the manifest lists (plain file names only), or None when there is none."""
    text = _regular_text(directory / MANIFEST)
    if text is None:
        return None
    names = {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}
    return {n for n in names if _plain_name(n)}


def _plain_name(name: str) -> bool:
    return name == os.path.basename(name) and name not in ("", ".", "..") and not name.startswith(".")


def _regular_text(path: Path) -> str | None:
    """The file's text when it is a regular file (a symbolic link is never read), else None."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def plan(directory: Path, files: Mapping[str, str]) -> DocsPlan:
    owned = read_manifest(directory) or set()
    write: list[str] = []
    foreign: list[str] = []
    for name, text in files.items():
        path = directory / name
        if not _exists(path):
            write.append(name)
            continue
        current = _regular_text(path)
        if current == text:
            continue
        ours = name in owned or (current is not None and current.split("\n", 1)[0] == text.split("\n", 1)[0])
        if ours and current is not None:
            write.append(name)
        else:
            foreign.append(name)
    delete = sorted(n for n in owned if n not in files and _regular_text(directory / n) is not None)
    return DocsPlan(tuple(write), tuple(delete), tuple(sorted(foreign)))


def stale(directory: Path, files: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(generated files missing or different on disk, files left that are no longer generated)."""
    changed = [name for name, text in files.items() if _regular_text(directory / name) != text]
    owned = read_manifest(directory)
    if owned is None:  # docs written before the manifest: every page here is a generated one
        listed = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
    else:
        listed = {n for n in owned if _exists(directory / n)}
    return changed, sorted(n for n in listed if n not in files)


def write_docs(directory: Path, files: Mapping[str, str]) -> DocsPlan:
    """Bring ``directory`` up to date; raises OutputPathError (naming the files) when a generated name
    is taken by a file this command did not write, before anything is changed."""
    if _exists(directory) and not directory.is_dir():
        raise OutputPathError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    todo = plan(directory, files)
    if todo.foreign:
        names = ", ".join(todo.foreign)
        raise OutputPathError(
            f"{directory} holds {names}, not written by `stockade rules docs` (not in {MANIFEST}); "
            "move them away or choose another directory"
        )
    # The manifest first: a run cut short still knows which files are its own.
    _write_manifest(directory, [*files, *todo.delete])
    for name in todo.write:
        write_output(directory / name, files[name].encode("utf-8"))
    for name in todo.delete:
        (directory / name).unlink()
    if todo.delete:
        _write_manifest(directory, list(files))
    return todo


def _write_manifest(directory: Path, names: list[str]) -> None:
    listing = _HEADER + "".join(f"{name}\n" for name in sorted(names))
    write_output(directory / MANIFEST, listing.encode("utf-8"))
