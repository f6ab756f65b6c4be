"""Turn SIGTERM into an exception for the duration of a run.

Python's default SIGTERM action kills the process without running ``finally`` blocks, which would
leave the shadow database behind; Ctrl-C already arrives as KeyboardInterrupt.
"""

import signal
import threading
from contextlib import contextmanager

from .errors import Terminated


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def sigterm_raises():
    """Raise :class:`Terminated` on SIGTERM inside the block (main thread only, as signals require)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def uninterrupted():
    """Ignore Ctrl-C and SIGTERM inside the block: for cleanup steps that must not stop halfway.

    The run is ending anyway when cleanup runs; an impatient second Ctrl-C would otherwise abandon
    the drop of a server shadow database and leave it behind. The block must be bounded in time
    (the server connection has a connect timeout); SIGKILL still ends everything.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
