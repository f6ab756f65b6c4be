"""The one exception family for everything a user can cause.

Each error carries a single line that names what was being attempted, so the task layer can print it
as-is and map it to an exit status without knowing which step failed. Standard library only: a front end
imports this module before it knows whether the installed libraries are usable at all.
"""

import os
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class NextStep(Enum):
    """Another task a message sends the user to. Each front end spells it in its own syntax, where
    the message says ``{command}``; without a front end it reads "the merge task"."""

    MERGE = "merge"
    PRUNE = "prune"


#: How each front end spells the next steps: ``{NextStep.MERGE: "'invoke merge'", ...}``.
Spelling = Mapping[NextStep, str]


def spelled(text: str, next_step: "NextStep | None", spelling: Spelling | None = None) -> str:
    """``text`` with its ``{command}`` written the way ``spelling`` says (or a neutral default)."""
    if next_step is None:
        return text
    return text.replace("{command}", (spelling or {}).get(next_step) or f"the {next_step.value} task")


@dataclass(frozen=True)
class Advice:
    """A line for the user beside the result, not an error, and the task it sends them to, if any."""

    text: str
    next_step: NextStep | None = None

    def render(self, spelling: Spelling | None = None) -> str:
        return spelled(self.text, self.next_step, spelling)

    def __str__(self) -> str:
        return self.render()


#: Where an exception keeps the advice attached to it: an exception of any class (KeyboardInterrupt
#: too) can carry it only in its own ``__dict__`` (exceptions take no weak references, so no table
#: beside them; PEP 678's notes are strings, and ``--verbose`` would print them in the traceback).
_ADVICE = "advice"


def attach_advice(exc: BaseException, advice: Advice) -> None:
    """Let an exception on its way out carry advice about the cleanup (a database left behind), for
    the front end to show before the exception's own line (``attached_advice``)."""
    exc.__dict__.setdefault(_ADVICE, []).append(advice)


def attached_advice(exc: BaseException) -> list[Advice]:
    """The advice attached to ``exc``, in the order it was attached."""
    return list(exc.__dict__.get(_ADVICE, ()))


class MakemigrationsError(Exception):
    """A problem the user can fix: bad option, app that will not load, broken migration, ..."""

    def __init__(self, message: str, next_step: NextStep | None = None):
        # Keep it to one line: multi-line database errors would otherwise spill into the terminal.
        super().__init__(" ".join(str(message).split()))
        self.next_step = next_step

    def render(self, spelling: Spelling | None = None) -> str:
        return spelled(self.args[0], self.next_step, spelling)

    def __str__(self) -> str:
        return self.render()


class UsageError(MakemigrationsError):
    """An option or combination of options that cannot work."""


class AppLoadError(MakemigrationsError):
    """The Flask app could not be found, imported or built, or is unsafe to run against."""


class ForeignDatabaseError(AppLoadError):
    """The app (or its env.py) tried to reach a database other than the shadow database."""


class ShadowDatabaseError(MakemigrationsError):
    """The shadow database could not be created, reached or removed."""


class FileSystemError(MakemigrationsError):
    """A file or folder could not be read, created or written (permissions, a full disk, ...)."""


class UnsupportedLibraryError(MakemigrationsError):
    """An installed library is older than the versions the tool supports."""


class MigrationError(MakemigrationsError):
    """The migration history is broken: a script fails to load or to apply, or has several heads."""


class AppExitError(MigrationError):
    """``env.py`` or a migration called ``sys.exit()``: an error, whatever the status it asked for."""


class MultipleHeadsError(MigrationError):
    """Several heads: a new revision would have no single parent."""


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so every ``finally`` block still cleans up.

    A BaseException, so that ``except Exception`` in application code cannot swallow it.
    """


class VerificationError(MigrationError):
    """Verification could not pass: the models cannot be built, or the schema differs at head."""


class RevisionFailedError(VerificationError):
    """A revision does not survive upgrade, downgrade and upgrade again on the shadow database."""


class StrictError(MakemigrationsError):
    """``--strict`` found warnings; they travel with the error so they can still be shown, and with
    them the run's result (``api.Result``): the run finished, so all it found is known."""

    def __init__(self, message: str, warnings: list[str], result: object = None):
        super().__init__(message)
        self.warnings = list(warnings)
        self.result = result


class UnansweredQuestionError(MakemigrationsError):
    """A writing run met a question only the user can answer (a NOT NULL column's value for the rows
    a table has) and no one answered it: nothing is written, and the status is Django's for this
    case, 3. ``questions`` are the ``questioner.Question``s, for the report."""

    def __init__(self, message: str, questions: list[object]):
        super().__init__(message)
        self.questions = list(questions)


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as the user would type it from where they ran the command: relative inside the current
    directory, absolute elsewhere (``../../tmp/x`` says less than ``/tmp/x``)."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if os.path.commonpath([absolute, cwd]) != cwd:
        return absolute
    return os.path.relpath(absolute, cwd)


def exit_call(exc: SystemExit) -> str:
    """How the code that raised ``exc`` called it: ``sys.exit(0)``, ``sys.exit('message')``."""
    return "sys.exit()" if exc.code is None else f"sys.exit({exc.code!r})"


def disk_error(
    doing: str, exc: OSError, path: str | os.PathLike[str] | None = None, then: str = ""
) -> FileSystemError:
    """One line naming the operation, the path (the one that failed, unless ``path`` says which to
    show) and the system's reason, then what it means for the run."""
    path = path or exc.filename
    where = f" {shown_path(path)}" if path else ""
    return FileSystemError(f"{doing}{where} failed: {exc.strerror or exc}{then}")


@contextmanager
def foreign_failures(
    exited: Callable[[SystemExit], MakemigrationsError], failed: Callable[[Exception], MakemigrationsError]
) -> Iterator[None]:
    """Around code that is not ours (the app, a revision file): our own errors pass as they are, any
    other becomes one of ours, made by ``failed``. ``SystemExit`` too, made by ``exited``: it is not
    a way out, as exit 0 would pass a CI check that never ran."""
    try:
        yield
    except MakemigrationsError:
        raise
    except SystemExit as exc:
        raise exited(exc) from None
    except Exception as exc:
        raise failed(exc) from exc


@contextmanager
def on_disk(doing: str) -> Iterator[None]:
    """Turn an ``OSError`` in the block into :func:`disk_error`'s line."""
    try:
        yield
    except OSError as exc:
        raise disk_error(doing, exc) from exc


def unexpected(exc: BaseException) -> str:
    """One line for an exception nothing turned into an error: a bug, ours or a library's.

    Names the exception and the innermost frame it came from, so a report can point at the code.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" in {Path(last.filename).name}:{last.lineno} ({last.name})"
    message = " ".join(str(exc).split())  # one line, whatever the exception's text
    return f"unexpected {type(exc).__name__}{where}: {message}; --verbose shows the traceback"
