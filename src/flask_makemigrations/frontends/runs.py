"""What every front end does once it has parsed its options: check the installed libraries, call the
engine, and turn its result, or whatever ended the run early, into a ``report.Report``; then write that
report out. A front end only parses, says how it spells the other tasks, and exits with the status.

The engine is imported inside each run, once ``requirements`` has checked the installed libraries:
importing it with an SQLAlchemy too old would fail before any message could say so.
"""

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import Spelling, Terminated, UsageError
from ..run.requirements import check_installed
from ..run.signals import signals_raised
from ..run.streams import discard_results, results_stream
from . import json_report, report
from .terminal import progress_line

if TYPE_CHECKING:  # imported at run time only once the libraries are checked (see above)
    from ..revisions.driver import Progress
    from ..run.session import Project, Runtime


#: What ``--format`` may ask for.
FORMATS = ("text", "json")
#: ``squash``'s own options, in every front end.
SQUASH_HELP = {
    "message": "message of the squashed revision (required)",
    "since": "keep this revision and those before it; fold the ones after (default: fold all)",
    "dry_run": "write nothing; print the squashed revision and the files it would replace",
}
#: ``--no-cache``, in every front end and task that has it.
NO_CACHE_HELP = (
    "use no cache: build the shadow databases, read the revision files and reflect the schemas from scratch"
)


@dataclass(frozen=True)
class FrontEnd:
    """How one front end names things in what it prints, and what it was asked to print."""

    spelling: Spelling  # the other tasks, as next steps: {NextStep.MERGE: "'invoke merge'", ...}
    run_again: str  # a run that writes the pending changes, said when a check finds some
    #: Folders the front end put on sys.path, which must not shadow the project's own modules.
    hidden_dirs: tuple[Path, ...] = ()
    format: str = "text"  # or "json": stdout is one JSON object (makemigrations and verify)

    @property
    def json(self) -> bool:
        return self.format == "json"


@dataclass(frozen=True)
class Where:
    """The options every task that loads the app takes."""

    app: str | None = None
    directory: str | None = None
    url_env: str = "DATABASE_URL"
    database: str | None = None
    verbose: bool = False
    bind_env: tuple[str, ...] = ()  # NAME=VAR, as --bind-env gives them
    #: The same from configuration (Invoke's makemigrations.bind_env): an option overrides its bind's.
    configured_bind_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wanted:
    """``makemigrations``'s own options, as flags."""

    message: str | None = None
    check: bool = False
    dry_run: bool = False
    empty: bool = False
    rev_id: str | None = None
    verify: bool = True
    strict: bool = False
    use_cache: bool = True


def make_migrations(front: FrontEnd, where: Where, wanted: Wanted) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not where.verbose) as progress:
            api = _engine()
            from ..request import Mode, Request

            request = Request(
                mode=Mode.from_flags(check=wanted.check, dry_run=wanted.dry_run),
                message=wanted.message,
                empty=wanted.empty,
                rev_id=wanted.rev_id,
                verify=wanted.verify,
                strict=wanted.strict,
                use_cache=wanted.use_cache,
            )
            result = api.make_migrations(_project(where), request, _runtime(front, where, progress))
        shown = report.of_makemigrations(result, wanted.dry_run, front.run_again, front.spelling)
        if front.json:
            return json_report.as_json(
                shown, json_report.of_makemigrations(result, wanted.dry_run, front.spelling)
            )
        return shown

    return _reported(front, where.verbose, run, "makemigrations")


def merge(front: FrontEnd, where: Where, message: str | None, rev_id: str | None) -> report.Report:
    def run() -> report.Report:
        result = _engine().merge_heads(_project(where), message, rev_id, _runtime(front, where))
        return report.of_merge(result)

    return _reported(front, where.verbose, run)


def squash(
    front: FrontEnd,
    where: Where,
    message: str | None,
    since: str | None,
    dry_run: bool,
    use_cache: bool = True,
) -> report.Report:
    def run() -> report.Report:
        with progress_line("Applying revisions", wanted=not where.verbose) as progress:
            squashed = _engine().squash_history(
                _project(where), message or "", since, dry_run, use_cache, _runtime(front, where, progress)
            )
        return report.of_squash(squashed, front.spelling)

    return _reported(front, where.verbose, run)


def verify(front: FrontEnd, where: Where) -> report.Report:
    started = time.monotonic()

    def run() -> report.Report:
        with progress_line("Verifying revisions", wanted=not where.verbose) as progress:
            verified = _engine().verify_history(_project(where), _runtime(front, where, progress))
        seconds = time.monotonic() - started
        shown = report.of_verify(verified, seconds, front.spelling)
        if front.json:
            return json_report.as_json(shown, json_report.of_verify(verified, seconds, front.spelling))
        return shown

    return _reported(front, where.verbose, run, "verify")


def prune(front: FrontEnd, database: str | None) -> report.Report:
    return _reported(front, False, lambda: report.of_prune(_engine().prune_shadow_databases(database)))


def cache(front: FrontEnd, clear: bool, directory: str | None, database: str | None = None) -> report.Report:
    def run() -> report.Report:
        api = _engine()
        if clear:
            return report.of_cleared_cache(*api.clear_snapshots(database))
        return report.of_cache(api.cache_state(directory, database), directory or "migrations")

    return _reported(front, False, run)


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
    front: FrontEnd, verbose: bool, run: Callable[[], report.Report], command: str | None = None
) -> report.Report:
    """The single place where whatever ends a run early becomes its report and exit status;
    ``command`` names a run that can report in JSON."""
    results_stream()  # from here on, fd 1 is stderr for everything but the results
    try:
        with signals_raised():  # and one that arrived while the front end parsed, raised here
            if front.format not in FORMATS:
                raise UsageError(f"--format {front.format!r}: choose {' or '.join(FORMATS)}")
            return run()
    except (Exception, KeyboardInterrupt, Terminated, SystemExit) as exc:
        shown = report.of_exception(exc, front.spelling, verbose)
        if front.json and command is not None:
            return json_report.as_json(shown, json_report.of_exception(exc, shown, command, front.spelling))
        return shown


def _engine() -> ModuleType:
    """The engine's entry points, imported once the installed libraries are known to be usable."""
    check_installed()
    from .. import api

    return api


def _project(where: Where) -> "Project":
    from ..run.binds import bind_env_option  # after _engine(): see the module's docstring
    from ..run.session import Project

    bind_env = {**bind_env_option(where.configured_bind_env), **bind_env_option(where.bind_env)}
    return Project(where.app, where.directory, where.url_env, where.database, bind_env)


def _runtime(front: FrontEnd, where: Where, progress: "Progress | None" = None) -> "Runtime":
    from ..run.session import Runtime

    return Runtime(hidden_dirs=front.hidden_dirs, verbose=where.verbose, progress=progress)
