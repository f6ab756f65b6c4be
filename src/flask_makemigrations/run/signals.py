"""Signals during a run: SIGTERM must clean up like Ctrl-C, Ctrl-C must not get lost, and cleanup
must not be cut short.

Python's default SIGTERM action kills the process without running ``finally`` blocks, which would
leave the shadow database behind; Ctrl-C arrives as KeyboardInterrupt. Either exception can be lost on
the way: raised inside a weakref callback or a ``__del__`` (Python prints "Exception ignored" and goes
on), or caught by a migration's ``except BaseException``. So the signal is also remembered, and the
next SQL statement of the run raises it again. And once a run is cleaning up, an impatient second
Ctrl-C would abandon the cleanup halfway: from then on both are ignored.

A front end owns the signals from its command's first instant (:func:`signals_held`): until its run
can report one, a signal is remembered, then raised where the run starts (:func:`signals_raised`),
so that one in the first half-second, while the engine is imported, is still 130 or 143 and the JSON
object's status. Standard library only until a run is under way: the front ends use this module
before the installed libraries are checked.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType
from typing import Any

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


class _Held:
    """The signal that arrived before the run could report it, the first one if several did."""

    signum: int | None = None

    def remember(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def raise_if_any(self) -> None:
        signum, self.signum = self.signum, None
        if signum is not None:
            raise _RAISED[signum]()


_held = _Held()


@contextmanager
def _handled_by(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM go to ``handler`` inside the block; the process's handlers come back after."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in _INTERRUPTS}
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)


def signals_held() -> AbstractContextManager[None]:
    """A front end's command, from its first instant to the end of its report: Ctrl-C and SIGTERM are
    remembered, not acted on, except inside :func:`signals_raised`.

    Outside a run an exception has nowhere to go but the libraries' own handling (Invoke turns
    KeyboardInterrupt into status 1, Click into "Aborted!" and 1) and SIGTERM's default action kills
    the process without a word; nothing needs cleaning up there, so waiting costs nothing. One that
    arrives once the run has ended waits for the next run of the process (Invoke runs several tasks
    of one command line), which it stops at once."""
    return _handled_by(_held.remember)


@contextmanager
def signals_raised() -> Iterator[None]:
    """The run: Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated` wherever it is
    (importing the engine, loading the app), and one held before is raised as the block starts."""
    with _handled_by(_raise):
        _held.raise_if_any()
        yield


def signal_held() -> bool:
    """Whether a signal arrived that the run has not raised yet (a front end about to replace its
    process must not: the signal would be lost)."""
    return _held.signum is not None


def _raise(signum: int, frame: FrameType | None) -> None:
    raise _RAISED[signum]()


@contextmanager
def cleanup_shield() -> Iterator[Callable[[], None]]:
    """Inside the block Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated`, again at the
    next SQL statement if it was swallowed; the function it yields makes both ignored from the moment
    cleanup starts until the block ends, when the handlers the process had are put back."""
    if not _in_main_thread():
        yield lambda: None
        return
    # Here the run is under way: the installed libraries were checked before it started.
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

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
