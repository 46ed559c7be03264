"""Limits that keep hostile or broken input from exhausting memory, time or the stack."""

from __future__ import annotations

from dataclasses import dataclass

# The YAML parser recurses on the native stack for every nesting level; past a few thousand levels
# it overflows and kills the process. Whatever a caller asks for, Stockade never lets a document
# nest deeper than this.
HARD_MAX_DEPTH = 1000


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """How much one input may ask of the parser.

    ``max_file_bytes`` caps a file, stdin or a renderer's output; ``max_depth`` caps how many
    collections may nest inside each other (never above :data:`HARD_MAX_DEPTH`);
    ``max_alias_events`` is the budget of events YAML aliases may replay, which stops
    "billion laughs" alias bombs; ``max_documents`` caps the documents read from one input.
    ``max_file_bytes`` also caps one snapshot (compressed and expanded) and one response of a
    cluster; ``max_cluster_bytes`` caps all responses of one cluster collection together.
    ``allow_remote_kustomize`` lets a kustomization load remote bases (off: reported instead).
    ``follow_links`` follows symbolic links that lead outside the paths named (off: reported instead).
    """

    max_file_bytes: int = 64 * 1024 * 1024
    max_depth: int = 200
    max_alias_events: int = 1_000_000
    max_documents: int = 100_000
    max_cluster_bytes: int = 2 * 1024 * 1024 * 1024
    allow_remote_kustomize: bool = False
    follow_links: bool = False

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_depth", "max_alias_events", "max_documents", "max_cluster_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"ParseLimits.{name} must be at least 1")

    @property
    def depth(self) -> int:
        """The nesting limit actually enforced."""
        return min(self.max_depth, HARD_MAX_DEPTH)


DEFAULT_LIMITS = ParseLimits()
