"""Progress of long commands: a bar on a terminal; elsewhere (CI, a pipe, a file) a line every few seconds.

A bar redrawn in place is noise in a log, and nothing at all until the end
leaves a long load looking hung; so off a terminal the meter prints what was
done, out of how much, and how fast, at most every ``interval`` seconds, and
once more at the end.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, TaskID

DEFAULT_INTERVAL_S = 5.0


class Meter:
    """Counts ``unit`` done of ``total`` (None: unknown) under ``label``."""

    def __init__(
        self, console: Console, label: str, unit: str, total: int | None = None, interval_s: float = DEFAULT_INTERVAL_S
    ) -> None:
        self.console, self.label, self.unit, self.total, self.interval_s = console, label, unit, total, interval_s
        self.done = self._done_shown = 0
        self._started = self._shown = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._bar = Progress(console=console, transient=True)
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Meter:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif (
            error is None
            and self.done != self._done_shown
            and (now := time.monotonic()) - self._started >= self.interval_s
        ):
            self._line(now)  # the total, for a run long enough to have shown progress

    def advance(self, count: int = 1) -> None:
        """Note ``count`` more done; off a terminal, print a line if ``interval_s`` has passed since the last."""
        self.done += count
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, count)
            return
        now = time.monotonic()
        if now - self._shown >= self.interval_s:
            self._shown = now
            self._line(now)

    def _line(self, now: float) -> None:
        self._done_shown = self.done
        elapsed = max(now - self._started, 1e-9)
        done = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        self.console.print(
            f"{self.label}: {done} {self.unit}{share}, {self.done / elapsed:,.0f}/s, {elapsed:.0f} s",
            markup=False,
            highlight=False,
        )
