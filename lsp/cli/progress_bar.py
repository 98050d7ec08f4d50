"""A terminal progress bar fed by the engine's ``progress(message, fraction)`` callback: the first run's
model join and conversion takes about a minute, and a bar says it is working and how far it is."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn


class TerminalProgressBar:
    """A rich progress bar on ``stream`` (a terminal), or one plain line per step elsewhere (a log file,
    a pipe: the shared engine's stderr is its log). Closes itself when the work reports 1.0."""

    def __init__(self, title: str, stream: TextIO) -> None:
        self._title = title
        self._stream = stream
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False

    def __call__(self, message: str, fraction: float | None) -> None:
        if self._closed:
            return
        if not self._stream.isatty():
            print(f"{self._title}: {message}", file=self._stream, flush=True)
        else:
            self._show(message, fraction)
        if fraction is not None and fraction >= 1.0:
            self.close()

    def _show(self, message: str, fraction: float | None) -> None:
        if self._bar is None or self._task is None:
            self._bar = Progress(
                TextColumn(f"{self._title}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self._stream),
            )
            self._bar.start()
            self._task = self._bar.add_task(message, total=1.0)
        self._bar.update(
            self._task, description=message, completed=fraction if fraction is not None else None
        )

    def close(self) -> None:
        """Leave the bar on the screen where it got to; later output goes below it."""
        self._closed = True
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
