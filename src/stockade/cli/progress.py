"""A progress display on stderr for long scans; silent when stderr is not a terminal.

The library reports progress through a callback ``(what, done, total)``; this draws it: a spinner
while the total is unknown (files are read in one call), a bar once the engine says how far it is.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


class ProgressDisplay:
    """Callable as a :data:`~stockade.sources.base.ProgressCallback`; use as a context manager."""

    def __init__(self) -> None:
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]stockade[/]: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
            console=Console(stderr=True),
        )
        self._bar.start()
        self._task = self._bar.add_task("starting", total=None)
        return self

    def __call__(self, what: str, done: int, total: int) -> None:
        if self._bar is None or self._task is None:
            return
        from rich.markup import escape

        self._bar.update(self._task, description=escape(what), completed=done, total=total or None)

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
