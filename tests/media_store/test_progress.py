"""media_store.progress.Progress: a bar on a terminal, numbered lines otherwise."""

from __future__ import annotations

from io import StringIO

from django.core.management.base import OutputWrapper

from media_store.progress import Progress


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_not_on_a_terminal_numbers_each_line():
    out = StringIO()

    with Progress(OutputWrapper(out), total=3, unit="file") as progress:
        progress.step("copied: a.jpg")
        progress.note("a warning")
        progress.step()  # an item with nothing to say
        progress.step("copied: c.jpg")

    assert out.getvalue() == "[1/3] copied: a.jpg\na warning\n[3/3] copied: c.jpg\n"


def test_progress_on_a_terminal_draws_a_bar_below_the_lines():
    out = Terminal()

    with Progress(OutputWrapper(out), total=2, unit="file") as progress:
        progress.step("copied: a.jpg")
        progress.step("copied: b.jpg")
        drawn = out.getvalue()

    assert "copied: a.jpg\n" in drawn
    assert "[1/2]" not in drawn
    # the bar, redrawn after each line (tqdm throttles its own updates)
    after_a = drawn[drawn.index("copied: a.jpg\n") :]
    assert "\r" in after_a
    assert "/2 [" in after_a
    assert "/2 [" in drawn[drawn.index("copied: b.jpg\n") :]
