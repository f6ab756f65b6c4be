"""What every front end does once it has parsed its options: check the installed libraries, call the
engine, and turn its result, or whatever ended the run early, into a ``report.Report``; then write that
report out. A front end only parses, says how it spells the other tasks, and exits with the status.

The engine is imported inside each run, once ``requirements`` has checked the installed libraries:
importing it with an SQLAlchemy too old would fail before any message could say so.
"""

import atexit
import functools
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import Spelling, Terminated, UsageError
from ..run.requirements import check_installed
from ..run.signals import signals_raised
from ..run.streams import discard_results, results_stream
from . import json_report, questions, report
from .terminal import progress_line

if TYPE_CHECKING:  # imported at run time only once the libraries are checked (see above)
    from ..revisions.driver import Progress
    from ..run.session import Project, Runtime


#: What ``--format`` may ask for.
FORMATS = ("text", "json")


@dataclass(frozen=True)
class FrontEnd:
    """How one front end names things in what it prints."""

    spelling: Spelling  # the other tasks, as next steps: {NextStep.MERGE: "'invoke merge'", ...}
    run_again: str  # a run that writes the pending changes, said when a check finds some
    #: Folders the front end put on sys.path, which must not shadow the project's own modules.
    hidden_dirs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Given:
    """What a front end parsed, for any task: one field per option of ``surface.py``'s table, named
    as the option (a task that lacks an option leaves its field at the default, as not given)."""

    app: str | None = None
    message: str | None = None
    check: bool = False
    dry_run: bool = False
    empty: bool = False
    rev_id: str | None = None
    rename: tuple[str, ...] = ()  # OLD=NEW, as --rename gives them
    default: tuple[str, ...] = ()  # TABLE.COLUMN=VALUE, as --default gives them
    against: str | None = None  # a git ref: the history merged with its history is checked too
    safe: bool = False  # the revision in the forms that do not block production (PostgreSQL)
    locks: bool = False  # verify: also what each revision locks (PostgreSQL)
    revisions: str | None = None  # locks: REV or START:END (default: the head)
    no_verify: bool = False
    strict: bool = False
    no_cache: bool = False
    since: str | None = None
    onto: str | None = None  # a git ref: rebase moves this branch's revisions after its head
    regenerate: bool = False  # rebase's answer up front: regenerate what no longer applies
    directory: str | None = None
    url_env: str = "DATABASE_URL"
    database: str | None = None
    bind_env: tuple[str, ...] = ()  # NAME=VAR, as --bind-env gives them
    verbose: bool = False
    format: str = "text"  # or "json": stdout is one JSON object (makemigrations and verify)
    clear: bool = False
    #: --bind-env from configuration (Invoke's makemigrations.bind_env): an option overrides its bind's.
    configured_bind_env: tuple[str, ...] = ()

    @property
    def json(self) -> bool:
        return self.format == "json"


def make_migrations(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not given.verbose) as progress:
            api = _engine()
            from ..request import Mode, Request

            request = Request(
                mode=Mode.from_flags(check=given.check, dry_run=given.dry_run),
                message=given.message,
                empty=given.empty,
                rev_id=given.rev_id,
                verify=not given.no_verify,
                strict=given.strict,
                use_cache=not given.no_cache,
                against=given.against,
                safe=given.safe,
            )
            questioner = questions.questioner(given.rename, given.default, request.mode.writes, progress)
            runtime = replace(_runtime(front, given, progress), questioner=questioner)
            result = api.make_migrations(_project(given), request, runtime)
        shown = report.of_makemigrations(result, given.dry_run, front.run_again, front.spelling)
        if given.json:
            return json_report.as_json(
                shown, json_report.of_makemigrations(result, given.dry_run, front.spelling)
            )
        return shown

    return _reported(given, front, run, "makemigrations")


def merge(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        result = _engine().merge_heads(_project(given), given.message, given.rev_id, _runtime(front, given))
        return report.of_merge(result)

    return _reported(given, front, run)


def squash(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not given.verbose) as progress:
            squashed = _engine().squash_history(
                _project(given),
                given.message or "",
                given.since,
                given.dry_run,
                not given.no_cache,
                _runtime(front, given, progress),
            )
        return report.of_squash(squashed, front.spelling)

    return _reported(given, front, run)


def rebase(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not given.verbose) as progress:
            asked = questions.questioner((), (), not given.dry_run, progress, given.regenerate)
            runtime = replace(_runtime(front, given, progress), questioner=asked)
            rebased = _engine().rebase_onto(
                _project(given), given.onto or "", given.dry_run, not given.no_cache, runtime
            )
        return report.of_rebase(rebased, front.spelling)

    return _reported(given, front, run)


def verify(front: FrontEnd, given: Given) -> report.Report:
    started = time.monotonic()

    def run() -> report.Report:
        with progress_line("Verifying revisions", wanted=not given.verbose) as progress:
            verified = _engine().verify_history(
                _project(given), _runtime(front, given, progress), given.against, given.locks
            )
        seconds = time.monotonic() - started
        shown = report.of_verify(verified, seconds, front.spelling)
        if given.json:
            return json_report.as_json(shown, json_report.of_verify(verified, seconds, front.spelling))
        return shown

    return _reported(given, front, run, "verify")


def locks(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not given.verbose) as progress:
            reports = _engine().revision_locks(
                _project(given), given.revisions, _runtime(front, given, progress)
            )
        shown = report.of_locks(reports)
        return json_report.as_json(shown, json_report.of_locks(reports)) if given.json else shown

    return _reported(given, front, run, "locks")


def prune(front: FrontEnd, given: Given) -> report.Report:
    return _reported(given, front, lambda: report.of_prune(_engine().prune_shadow_databases(given.database)))


def cache(front: FrontEnd, given: Given) -> report.Report:
    def run() -> report.Report:
        api = _engine()
        if given.clear:
            return report.of_cleared_cache(api.clear_snapshots(given.database))
        state = api.cache_state(given.directory, given.database)
        return report.of_cache(state, given.directory or "migrations")

    return _reported(given, front, run)


def write(shown: report.Report) -> int:
    """Write a report out: stderr, stdout (results only, to the process's original stdout), then the
    closing line on stderr; return the exit status.

    A stdout that takes nothing (a full disk, a closed descriptor) is an error, status 2, never the 1
    CI reads as pending changes; a reader that closed the pipe after what it wanted (``| head -1``)
    is not, and the run ends as it would have."""
    for line in shown.stderr:
        print(line, file=sys.stderr)
    closing, status = shown.closing, shown.status
    try:
        _write_results(shown.stdout)
    except BrokenPipeError:
        discard_results()
    except OSError as exc:
        discard_results()
        closing, status = report.of_unwritable_stdout(exc, shown.written), report.ERROR
    if closing:
        print(closing, file=sys.stderr)
    sys.stderr.flush()
    return status


def _write_results(lines: list[str]) -> None:
    out = results_stream()
    for line in lines:
        print(line, file=out)
    out.flush()


def _reported(
    given: Given, front: FrontEnd, run: Callable[[], report.Report], command: str | None = None
) -> report.Report:
    """The single place where whatever ends a run early becomes its report and exit status;
    ``command`` names a run that can report in JSON."""
    results_stream()  # from here on, fd 1 is stderr for everything but the results
    try:
        with signals_raised():  # and one that arrived while the front end parsed, raised here
            if given.format not in FORMATS:
                raise UsageError(f"--format {given.format!r}: choose {' or '.join(FORMATS)}")
            return run()
    except (Exception, KeyboardInterrupt, Terminated, SystemExit) as exc:
        shown = report.of_exception(exc, front.spelling, given.verbose)
        if given.json and command is not None:
            return json_report.as_json(shown, json_report.of_exception(exc, shown, command, front.spelling))
        return shown


def _engine() -> ModuleType:
    """The engine's entry points, imported once the installed libraries are known to be usable."""
    check_installed()
    _no_last_collection_at_exit()
    from .. import api

    return api


@functools.cache
def _no_last_collection_at_exit() -> None:
    """As a front end's process exits, Python's last garbage collection walks every object the run
    left (300,000 with 250 models and 1000 revisions: 0.5 s of a 2.3 s warm run) only to free memory
    the operating system takes back anyway. So the objects alive then are frozen out of it
    (``gc.freeze``, as the interpreter starts to exit). Front ends only: a program that calls the
    engine and goes on keeps every collection."""
    atexit.register(gc.freeze)


def _project(given: Given) -> "Project":
    from ..run.binds import bind_env_option  # after _engine(): see the module's docstring
    from ..run.session import Project

    bind_env = {**bind_env_option(given.configured_bind_env), **bind_env_option(given.bind_env)}
    return Project(given.app, given.directory, given.url_env, given.database, bind_env)


def _runtime(front: FrontEnd, given: Given, progress: "Progress | None" = None) -> "Runtime":
    from ..run.session import Runtime

    return Runtime(hidden_dirs=front.hidden_dirs, verbose=given.verbose, progress=progress)
