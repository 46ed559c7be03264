"""A progress display on stderr for long scans; silent when stderr is not a terminal.

Reading shows a spinner (files are read in one call); evaluation shows a bar, since the engine
reports how far it has got.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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

    @contextmanager
    def bar(self, label: str) -> Iterator[Callable[[int, int], None] | None]:
        """A bar fed with (done, total); yields None when progress is off (the engine then skips it)."""
        if not self.enabled:
            yield None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        with RichProgress(
            TextColumn(f"[bold]stockade[/]: {label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
