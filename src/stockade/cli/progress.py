"""A progress display on stderr for long scans; silent when stderr is not a terminal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()

    @contextmanager
    def phase(self, label: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        from rich.console import Console

        console = Console(stderr=True)
        with console.status(f"[bold]stockade[/]: {label}…", spinner="dots"):
            yield
        elapsed = time.perf_counter() - self.started
        console.print(f"[dim]stockade: {label} — done ({elapsed:.1f}s)[/]", highlight=False)
