"""Signals during a run: SIGTERM must clean up like Ctrl-C, Ctrl-C must not get lost, and cleanup
must not be cut short.

Python's default SIGTERM action kills the process without running ``finally`` blocks, which would
leave the shadow database behind; Ctrl-C arrives as KeyboardInterrupt. Either exception can be lost on
the way: raised inside a weakref callback or a ``__del__`` (Python prints "Exception ignored" and goes
on), or caught by a migration's ``except BaseException``. So the signal is also remembered, and the
next SQL statement of the run raises it again. And once a run is cleaning up, an impatient second
Ctrl-C would abandon the cleanup halfway: from then on both are ignored.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..errors import Terminated

_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)
_RAISED: dict[int, type[BaseException]] = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated}


class _Pending:
    """The interrupt that arrived and has not reached the cleanup yet."""

    signum: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum
        raise _RAISED[signum]()

    def raise_again(self, *args: Any) -> None:
        """Before every SQL statement: an interrupt that was swallowed on its way out comes back."""
        if self.signum is not None:
            raise _RAISED[self.signum]()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # the only one signals reach


@contextmanager
def cleanup_shield() -> Iterator[Callable[[], None]]:
    """Inside the block Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated`, again at the
    next SQL statement if it was swallowed; the function it yields makes both ignored from the moment
    cleanup starts until the block ends, when the handlers the process had are put back."""
    if not _in_main_thread():
        yield lambda: None
        return
    previous = {signum: signal.getsignal(signum) for signum in _INTERRUPTS}
    pending = _Pending()
    for signum in _INTERRUPTS:
        signal.signal(signum, pending.handle)
    event.listen(Engine, "before_cursor_execute", pending.raise_again)

    def cleanup_starts() -> None:
        for signum in _INTERRUPTS:
            signal.signal(signum, signal.SIG_IGN)
        pending.signum = None  # it got here: the cleanup's own statements must run
        event.remove(Engine, "before_cursor_execute", pending.raise_again)

    try:
        yield cleanup_starts
    finally:
        if event.contains(Engine, "before_cursor_execute", pending.raise_again):
            event.remove(Engine, "before_cursor_execute", pending.raise_again)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def uninterrupted() -> Iterator[None]:
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
