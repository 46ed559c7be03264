"""Kustomize directories, rendered with ``kubectl kustomize``."""

from __future__ import annotations

import os

from stockade.sources.base import SourceResult
from stockade.sources.limits import ParseLimits
from stockade.sources.render import RENDER_TIMEOUT, render

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_kustomization(directory: str) -> bool:
    """Whether ``directory`` holds a kustomization file (then it is rendered, not read file by file)."""
    return any(os.path.isfile(os.path.join(directory, name)) for name in KUSTOMIZATION_FILES)


def render_kustomization(directory: str, limits: ParseLimits, *, timeout: float = RENDER_TIMEOUT) -> SourceResult:
    """The objects ``kubectl kustomize <directory>`` produces, origin ``"<directory> (kustomize)"``."""
    return render(
        "kubectl",
        ["kustomize", directory],
        directory=directory,
        label="kustomize",
        missing=(
            f"kubectl is not installed; cannot render kustomization {directory}: "
            "install kubectl or scan rendered manifests"
        ),
        limits=limits,
        timeout=timeout,
    )
