"""A progress line on the terminal, for the builds long enough to make a user wonder.

Only a person at a terminal is shown one: a log or a CI job gets the one-line summary alone, and
``--verbose`` has Alembic's own line per revision instead.
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

#: Shorter work is over before a progress line could be read.
MIN_STEPS = 20
#: Redraws per second at most: a redraw per revision would cost more than the revision.
REDRAWS_PER_SECOND = 10


class ProgressLine:
    """A ``(done, total)`` callback that redraws one line of ``stream`` in place."""

    def __init__(self, label: str, stream: TextIO):
        self.label = label
        self.stream = stream
        self.drawn_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        if total < MIN_STEPS:
            return
        now = time.monotonic()
        recent = self.drawn_at is not None and now - self.drawn_at < 1 / REDRAWS_PER_SECOND
        if recent and 0 < done < total:  # the first and the last state are always shown
            return
        self.stream.write(f"\r{self.label}: {done}/{total}")
        self.stream.flush()
        self.drawn_at = now

    def erase(self) -> None:
        """Leave the line empty for what is printed next (the summary, or an error)."""
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn_at = None


@contextmanager
def progress_line(label: str, wanted: bool = True) -> Iterator[ProgressLine | None]:
    """A progress line on stderr if it is a terminal and ``wanted``, else None; erased at the end."""
    if not wanted or not sys.stderr.isatty():
        yield None
        return
    line = ProgressLine(label, sys.stderr)
    try:
        yield line
    finally:
        line.erase()
