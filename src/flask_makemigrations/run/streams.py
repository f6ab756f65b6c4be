"""stdout carries results only, at the level of file descriptors too.

Alembic and apps print progress on stdout, and ``redirect_stdout`` only catches Python's ``print``: an
app or a C extension writing with ``os.write(1, ...)``, or an ``atexit`` hook that runs after the
result was printed, still reaches file descriptor 1, and ``--dry-run > new.py`` is no longer Python.
So while user code runs, descriptor 1 is stderr; a front end, which owns its process, keeps it so until
the process ends and writes its results to a duplicate of the original stdout. Standard library only.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import TextIO

_results: TextIO | None = None


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point Python's ``sys.stdout`` and file descriptor 1 at stderr for the block."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def results_stream() -> TextIO:
    """The process's original stdout, for results alone; from the first call until the process ends,
    file descriptor 1 (and so ``sys.stdout``, ``print`` and ``atexit`` hooks) writes to stderr."""
    global _results
    if _results is None:
        sys.stdout.flush()
        _results = os.fdopen(os.dup(1), "w", buffering=1, encoding=sys.stdout.encoding, errors="replace")
        os.dup2(2, 1)
    return _results
