"""Signals during a run: SIGTERM must clean up like Ctrl-C, and cleanup must not be cut short.

Python's default SIGTERM action kills the process without running ``finally`` blocks, which would
leave the shadow database behind; Ctrl-C already arrives as KeyboardInterrupt. And once a run is
cleaning up, an impatient second Ctrl-C would abandon the cleanup halfway just the same.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import Terminated

_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


def _raise_terminated(signum, frame):
    raise Terminated()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # the only one signals reach


@contextmanager
def cleanup_shield() -> Iterator[Callable[[], None]]:
    """SIGTERM raises :class:`Terminated` inside the block; the function it yields makes Ctrl-C and
    SIGTERM ignored from the moment cleanup starts until the block ends, when the handlers the
    process had are put back."""
    if not _in_main_thread():
        yield lambda: None
        return
    previous = {signum: signal.getsignal(signum) for signum in _INTERRUPTS}
    signal.signal(signal.SIGTERM, _raise_terminated)

    def ignore_interrupts() -> None:
        for signum in _INTERRUPTS:
            signal.signal(signum, signal.SIG_IGN)

    try:
        yield ignore_interrupts
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def uninterrupted():
    """Ignore Ctrl-C and SIGTERM inside the block: for cleanup steps that must not stop halfway.

    The run is ending anyway when cleanup runs; an impatient second Ctrl-C would otherwise abandon
    the drop of a server shadow database and leave it behind. The block must be bounded in time
    (the server connection has a connect timeout); SIGKILL still ends everything.
    """
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _INTERRUPTS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
