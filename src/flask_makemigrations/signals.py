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
