"""stdout carries results only, at the level of file descriptors too.

Alembic and apps print progress on stdout, and ``redirect_stdout`` only catches Python's ``print``: an
app or a C extension writing with ``os.write(1, ...)``, or an ``atexit`` hook that runs after the
result was printed, still reaches file descriptor 1, and ``--dry-run > new.py`` is no longer Python.
So while user code runs, descriptor 1 is stderr; a front end, which owns its process, keeps it so until
the process ends and writes its results to a duplicate of the original stdout. Standard library only.

That original stdout may take nothing: a full disk, ``/dev/full``, a descriptor the shell closed
(``>&-``), a reader that went away (``| head -1``). Writing it then raises ``OSError`` for the front
end to report; afterwards :func:`discard_results` lets the rest go nowhere, so that Python's own flush
at exit cannot print a second complaint.
"""

import errno
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import TextIO

_results: TextIO | None = None


class _ClosedStdout(io.StringIO):
    """Where results go when the process started without a descriptor 1: every write fails as
    writing to a closed descriptor does, so the run reports it like any other unwritable stdout."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")


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
        _results = _original_stdout()
        os.dup2(2, 1)
        if sys.stdout is None:  # Python found no descriptor 1 at startup; now it is stderr's
            sys.stdout = os.fdopen(1, "w", buffering=1, encoding=sys.stderr.encoding, closefd=False)
    return _results


def _original_stdout() -> TextIO:
    """A duplicate of descriptor 1 as the process got it, or :class:`_ClosedStdout` without one."""
    if sys.stdout is None:  # started with descriptor 1 closed: whatever holds it now is not stdout
        return _ClosedStdout()
    sys.stdout.flush()
    return os.fdopen(os.dup(1), "w", buffering=1, encoding=sys.stdout.encoding, errors="replace")


def discard_results() -> None:
    """After a write to the results failed: send what is still buffered, and anything later, nowhere."""
    if _results is None or isinstance(_results, _ClosedStdout):
        return
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, _results.fileno())
    os.close(nowhere)
