"""Progress for management commands: a tqdm bar on a terminal, numbered lines otherwise.

Shared by the commands of every app (apps above media_store import it from here)::

    with Progress(self.stdout, total=len(names), unit="file") as progress:
        for name in names:
            ...
            progress.step(f"copied {name}")

Lines go to the command's stdout either way; on a terminal the bar is drawn
below them on the same stream, and redrawn after each line.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from django.core.management.base import OutputWrapper
from tqdm import tqdm


class _Unterminated:
    """The command's stdout as tqdm writes to it: no newline added, no styling."""

    def __init__(self, out: OutputWrapper) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, style_func=lambda text: text, ending="")

    def flush(self) -> None:
        self._out.flush()


class Progress:
    """Counts items done out of ``total`` and shows each item's line."""

    def __init__(self, out: OutputWrapper, *, total: int, unit: str = "item") -> None:
        self.out = out
        self.total = total
        self.done = 0
        self._bar = (
            tqdm(total=total, unit=unit, file=_Unterminated(out), dynamic_ncols=True, leave=False)
            if out.isatty()
            else None
        )

    def step(self, line: str = "", style: Callable[[str], str] | None = None) -> None:
        """One item done; ``line`` says what happened to it."""
        self.done += 1
        if self._bar is None:
            if line:
                self.out.write(f"[{self.done}/{self.total}] {line}", style)
            return
        if line:
            self.note(line, style)
        self._bar.update()

    def note(self, line: str, style: Callable[[str], str] | None = None) -> None:
        """A line that is not an item done (a warning, a phase starting)."""
        if self._bar is None:
            self.out.write(line, style)
            return
        self._bar.clear()
        self.out.write(line, style)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
