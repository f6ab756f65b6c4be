"""Signals during a run: SIGTERM must clean up like Ctrl-C, Ctrl-C must not get lost, and cleanup
must not be cut short.

Python's default SIGTERM action kills the process without running ``finally`` blocks, which would
leave the shadow database behind; Ctrl-C arrives as KeyboardInterrupt. Raising the exception is not
delivering the signal: whatever code runs at that instant may drop it, a garbage collection's weakref
callback or a ``__del__`` (Python prints "Exception ignored" and goes on: at any instant, importing
the engine as much as writing the revision) or a migration's ``except BaseException``. So a signal is
remembered from the command's first instant until its exception leaves the run for the report: the
run's next SQL statement raises it again, so does the moment before the run writes into the project,
and so does the end of the run, after its cleanup. Once the run has written, a signal no longer stops
it: its report could not say "nothing was written". And once a run is cleaning up, an impatient second
Ctrl-C would abandon the cleanup halfway: from then on both are remembered, not raised, until the
cleanup is done.

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

from ..errors import Terminated

_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)
_RAISED: dict[int, type[BaseException]] = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated}
_SIGNALLED = (KeyboardInterrupt, Terminated)


class _Arrived:
    """The signal that arrived and whose exception has not left the run yet, the first one if several
    did: only that exception reaching the report delivers it."""

    signum: int | None = None
    #: The run has written into the project: a signal from then on is one after the run, which waits
    #: with those the front end holds (the report cannot say "nothing was written" any more).
    written: bool = False

    def remember(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def raise_now(self, signum: int, frame: FrameType | None) -> None:
        self.remember(signum, frame)
        if not self.written:
            raise _RAISED[signum]()

    def raise_again(self) -> None:
        """Before every SQL statement: an interrupt that was swallowed on its way out comes back."""
        if self.signum is not None and not self.written:
            raise _RAISED[self.signum]()

    def raise_if_any(self) -> None:
        """Where the run can still stop: the one remembered is raised, and forgotten here."""
        if self.written:
            return
        signum, self.signum = self.signum, None
        if signum is not None:
            raise _RAISED[signum]()


_arrived = _Arrived()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # the only one signals reach


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


@contextmanager
def _raised_until_reported() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated` inside the block, and one
    remembered but not delivered is raised as the block starts and as it ends (after the handlers the
    process had are back): one that got lost inside ends the block all the same, whatever else would
    have, and the run's report says so. One whose exception leaves the block is delivered."""
    _arrived.written = False  # a run starts
    try:
        with _handled_by(_arrived.raise_now):
            _arrived.raise_if_any()
            try:
                yield
            except BaseException as ending:
                if not isinstance(ending, _SIGNALLED):
                    _arrived.raise_if_any()
                raise
        _arrived.raise_if_any()
    except _SIGNALLED:
        _arrived.signum = None  # on its way to the report
        raise


def signals_held() -> AbstractContextManager[None]:
    """A front end's command, from its first instant to the end of its report: Ctrl-C and SIGTERM are
    remembered, not acted on, except inside :func:`signals_raised`.

    Outside a run an exception has nowhere to go but the libraries' own handling (Invoke turns
    KeyboardInterrupt into status 1, Click into "Aborted!" and 1) and SIGTERM's default action kills
    the process without a word; nothing needs cleaning up there, so waiting costs nothing. One that
    arrives once the run has ended waits for the next run of the process (Invoke runs several tasks
    of one command line), which it stops at once."""
    return _handled_by(_arrived.remember)


@contextmanager
def signals_held_to_the_end() -> Iterator[None]:
    """:func:`signals_held` for a front end's command, after which the process only ends: from then
    on Ctrl-C and SIGTERM are ignored. The report is written and its status is the process's; a
    signal that came now (or one raised again on its way out) would replace that status with the
    signal's, as the interpreter puts the default actions back while it shuts down.

    The handlers go from holding straight to ignoring, never back to the process's own in between,
    and a command inside another (``python -m``'s, then Click's group, then its subcommand) leaves
    both to the outermost: a nested block that put the process's handlers back as it ended would
    open a moment, before the outer block ignores them, in which a signal ends the process with
    Python's default action instead of the report's status."""
    if not _in_main_thread() or _holding():
        yield
        return
    for signum in _INTERRUPTS:
        signal.signal(signum, _arrived.remember)
    try:
        yield
    finally:
        for signum in _INTERRUPTS:
            signal.signal(signum, signal.SIG_IGN)
        _forget_interrupts_left_in_exec()


def _forget_interrupts_left_in_exec() -> None:
    """CPython ends a ``python -m`` process by SIGINT, whatever its exit status, once a
    KeyboardInterrupt has left code that ``exec`` or ``eval`` ran from a string: it takes that for an
    interrupt no one handled (the interpreter's flag, which each such ``exec`` clears as it starts).
    dataclasses and namedtuple make their methods that way while modules are imported, so Ctrl-C in
    the run's first half-second can land there; the run handled it and its report says so. An empty
    ``exec`` clears the flag, and the process ends with the report's status."""
    exec("")  # a constant: it runs nothing


def signals_raised() -> AbstractContextManager[None]:
    """The run: Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated` wherever it is
    (importing the engine, loading the app), one held before is raised as the block starts, and one
    whose exception got lost on the way as it ends."""
    return _raised_until_reported()


def signal_held() -> bool:
    """Whether a signal arrived that the run has not raised yet (a front end about to replace its
    process must not: the signal would be lost)."""
    return _arrived.signum is not None


@contextmanager
def cleanup_shield() -> Iterator[Callable[[], None]]:
    """Inside the block Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated`, again at the
    next SQL statement if it was swallowed, and at the block's end if it got lost after the last one;
    the function it yields makes both remembered, not raised, from the moment cleanup starts until
    the block ends, when the handlers the process had are put back."""
    if not _in_main_thread():
        yield lambda: None
        return
    # Here the run is under way: the installed libraries were checked before it started.
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    # This shield's own listener (a bound method's would be every shield's): nested runs stay apart.
    statement = (Engine, "before_cursor_execute", lambda *args: _arrived.raise_again())

    def cleanup_starts() -> None:
        for signum in _INTERRUPTS:
            signal.signal(signum, _arrived.remember)
        if event.contains(*statement):  # the cleanup's own statements must run
            event.remove(*statement)

    event.listen(*statement)
    try:
        with _raised_until_reported():
            yield cleanup_starts
    finally:
        if event.contains(*statement):
            event.remove(*statement)


@contextmanager
def writing_the_project() -> Iterator[None]:
    """The run's last act, writing into the project: a signal that arrived and got lost is raised as
    the block starts, while nothing is written yet (unless the block is part of a longer step that
    holds signals, :func:`uninterrupted`, which must not stop halfway); inside, both are held, so
    that the writing is never cut halfway. Once it is done the run has done its work: a signal from
    then on is one after the run (see :func:`signals_held`), since its report could not say that
    nothing was written. A writing that fails has written nothing: a signal held inside it ends the
    run as usual."""
    if not _holding():
        _arrived.raise_if_any()
    with _handled_by(_arrived.remember):
        yield
        _arrived.written = True  # before the run's handlers are back


def _holding() -> bool:
    return _in_main_thread() and signal.getsignal(signal.SIGINT) == _arrived.remember


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM inside the block: for cleanup steps that must not stop halfway. One
    that arrives inside goes, once the block is done, to the handler the process had before it.

    The run is ending anyway when cleanup runs; an impatient second Ctrl-C would otherwise abandon
    the drop of a server shadow database and leave it behind. The block must be bounded in time
    (the server connection has a connect timeout); SIGKILL still ends everything.
    """
    if not _in_main_thread():
        yield
        return
    arrived_before = _arrived.signum
    try:
        with _handled_by(_arrived.remember):
            yield
    finally:
        if arrived_before is None and _arrived.signum is not None:
            signum, _arrived.signum = _arrived.signum, None
            signal.raise_signal(signum)
