"""Progress of long commands: a tqdm bar on a terminal, plain lines anywhere else."""

from __future__ import annotations

from typing import IO

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
