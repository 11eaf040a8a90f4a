"""Progress of long commands: a tqdm bar on a terminal, plain lines anywhere else.

Two shapes, for the commands of every app (apps above media_store import it from here):
``progress()`` for a bar with running tallies (import_images, load_demo_data, media_gc),
and :class:`Progress` for commands that also report each item on its own line
(media_sync)::

    with Progress(self.stdout, total=len(names), unit="file") as progress:
        for name in names:
            ...
            progress.step(f"copied {name}")
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import IO

from django.core.management.base import OutputWrapper
from tqdm import tqdm

# Counts, percentage, elapsed<remaining (the ETA), rate, and the command's own tallies.
LINE_FORMAT = (
    "{desc}: {n_fmt}/{total_fmt} ({percentage:.0f}%) [{elapsed}<{remaining}, {rate_fmt}]{postfix}"
)
# Seconds between plain lines, so a log gets a line now and then, not one per item.
LINE_INTERVAL = 5.0


def progress(stream: IO[str], *, total: int, desc: str, unit: str = "file") -> tqdm:
    """A progress bar over ``total`` items written to ``stream`` (a command's stderr).

    Not on a terminal (a log, CI, a pipe), it writes a line when it starts, every
    ``LINE_INTERVAL`` seconds, and when it closes, with the same figures.
    """
    # Django's OutputWrapper ends every write with a newline, which breaks redraws.
    raw = getattr(stream, "_out", stream)
    if raw.isatty():
        return tqdm(total=total, desc=desc, unit=unit, file=raw, dynamic_ncols=True)
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=_Lines(raw),
        bar_format=LINE_FORMAT,
        mininterval=LINE_INTERVAL,
        maxinterval=LINE_INTERVAL,
    )


class _Lines:
    """Turns tqdm's carriage-return redraws into whole lines, each written once."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line and line != self.last:
            self.stream.write(line + "\n")
            self.last = line

    def flush(self) -> None:
        self.stream.flush()


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
