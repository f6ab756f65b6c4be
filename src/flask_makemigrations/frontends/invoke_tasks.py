"""The Invoke tasks: Django-style ``makemigrations`` for Flask-Migrate projects.

The engine's only front end, and the only module of the package that imports Invoke (the ``tasks``
extra): it lives in the package so that a project can import the tasks into its own ``tasks.py``;
this repository's ``tasks.py`` does just that. Thin on purpose: parse options, call the engine,
print its result, and turn its errors into one line on stderr and an exit status:
0 success or no changes, 1 ``--check`` found changes, 2 any error, 130 Ctrl-C, 143 SIGTERM.

Results go to the process's original stdout (``streams.results_stream``); everything else, user code
included, to stderr. The engine is imported inside the tasks, once ``requirements`` has checked the
installed libraries: importing it with an SQLAlchemy too old would fail before any message could say so.
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from invoke import Collection, Exit, Task, task

from ..errors import NextStep, Terminated, shown_path
from ..run.requirements import check_installed
from ..run.streams import results_stream
from . import report
from .terminal import progress_line

# How messages name the other tasks they send the user to, in Invoke's syntax.
SPELLING = {
    NextStep.MERGE: "'invoke merge'",
    NextStep.PRUNE: "'invoke prune --database <the same URL>'",
}

# Short flags as `flask db` has them, and no invented ones (Invoke would derive -a, -u, ...).
SHORT_FLAGS = {"message": "m", "directory": "d"}

COMMON_HELP = {
    "app": "the Flask app, as for `flask --app` (default: $FLASK_APP, then wsgi.py/app.py)",
    "directory": "the migrations directory (default: the one the app's Migrate was given)",
    "url_env": "environment variable the app reads its database URL from (default: DATABASE_URL)",
    "database": "shadow database: a new SQLite file path, ':memory:', or a server URL "
    "(postgresql://user:password@host/dbname) to create it on (default: a temporary file)",
    "verbose": "show Alembic's log, one line per applied revision (instead of a progress line)",
}


class FlaskDbTask(Task):
    def arg_opts(self, name, default, taken_names):
        opts = super().arg_opts(name, default, taken_names)
        opts["names"] = opts["names"][:1] + ([SHORT_FLAGS[name]] if name in SHORT_FLAGS else [])
        return opts


def _task(help):
    return task(klass=FlaskDbTask, auto_shortflags=False, help={**COMMON_HELP, **help})


def _engine():
    """The engine's entry points, imported once the installed libraries are known to be usable."""
    check_installed()
    from .. import api

    return api


def _project(c, app, directory, url_env, database):
    """Options first, then Invoke configuration (``makemigrations.url_env``), then Flask's defaults."""
    from ..run.session import Project  # after _engine(): see the module's docstring

    configured = c.config.get("makemigrations") or {}
    return Project(
        app=app,
        directory=directory,
        url_env=url_env or configured.get("url_env") or "DATABASE_URL",
        database=database,
    )


def _runtime(c, verbose, progress=None):
    from ..run.session import Runtime

    return Runtime(hidden_dirs=_task_file_folder(c), verbose=verbose, progress=progress)


def _task_file_folder(c) -> tuple:
    """Invoke imports the task file it found as a top-level module (``tasks``) and puts its folder
    first on sys.path; from another project (``invoke -r``) neither may shadow the project's own."""
    module = sys.modules.get(c.config.tasks.collection_name)
    path = getattr(module, "__file__", None)
    return (Path(path).parent,) if path else ()


@contextmanager
def _exit_codes(verbose: bool = False) -> Iterator[None]:
    """The single place where whatever ends a task early becomes its report and exit status."""
    try:
        yield
    except (Exception, KeyboardInterrupt, Terminated, SystemExit) as exc:
        _show(report.of_exception(exc, SPELLING, verbose))


def _show(shown: report.Report) -> None:
    """Write a report out: stderr, stdout (results only), the closing line; exit if not 0."""
    for line in shown.stderr:
        print(line, file=sys.stderr)
    out = results_stream()
    for line in shown.stdout:
        print(line, file=out)
    out.flush()
    if shown.status != report.SUCCESS or shown.closing:
        raise Exit(shown.closing, code=shown.status)


@_task(
    help={
        "message": "what the revision does (required unless --check or --dry-run)",
        "check": "write nothing; exit 1 and list the operations if models and migrations differ",
        "dry_run": "write nothing; print the migration script that would be written",
        "empty": "write an empty revision, for a hand-written data migration",
        "rev_id": "use this revision id instead of a random one",
        "no_verify": "skip verifying the new revision on the shadow database (write it even if it fails)",
        "strict": "exit 2 and write nothing if there is any warning (for CI)",
        "no_cache": "build the shadow database from scratch instead of from a cached snapshot",
    }
)
def makemigrations(
    c,
    message=None,
    directory=None,
    app=None,
    check=False,
    dry_run=False,
    empty=False,
    url_env=None,
    database=None,
    rev_id=None,
    no_verify=False,
    strict=False,
    no_cache=False,
    verbose=False,
):
    """Autogenerate a migration against a throwaway shadow database at head, then review and verify it."""
    results_stream()  # from here on, fd 1 is stderr for everything but the results
    with progress_line("Applying revisions", wanted=not verbose) as progress, _exit_codes(verbose):
        engine = _engine()
        from ..request import Mode, Request

        request = Request(
            mode=Mode.from_flags(check=check, dry_run=dry_run),
            message=message,
            empty=empty,
            rev_id=rev_id,
            verify=not no_verify,
            strict=strict,
            use_cache=not no_cache,
        )
        project = _project(c, app, directory, url_env, database)
        result = engine.make_migrations(project, request, _runtime(c, verbose, progress))
    _show(report.of_makemigrations(result, dry_run, "'invoke makemigrations -m ...'", SPELLING))


@_task(
    help={
        "message": "message of the merge revision (default: 'merge heads')",
        "rev_id": "use this revision id instead of a random one",
    }
)
def merge(c, message=None, directory=None, app=None, url_env=None, database=None, rev_id=None, verbose=False):
    """Merge every head of the migration history into one, as `flask db merge heads` does."""
    results_stream()
    with _exit_codes(verbose):
        engine = _engine()
        project = _project(c, app, directory, url_env, database)
        result = engine.merge_heads(project, message, rev_id, _runtime(c, verbose))
    _show(report.of_merge(result))


@task(
    klass=FlaskDbTask,
    auto_shortflags=False,
    help={"database": "the server URL, as given to makemigrations --database (postgresql://...)"},
)
def prune(c, database=None):
    """Drop the shadow databases that runs on this machine leaked (killed before they could clean up)."""
    results_stream()
    with _exit_codes():
        result = _engine().prune_shadow_databases(database)
    _show(report.of_prune(result))


@_task(help={})
def verify(c, directory=None, app=None, url_env=None, database=None, verbose=False):
    """Check the whole history on a shadow database: each revision up, down and up again; head = models."""
    started = time.monotonic()
    results_stream()
    with progress_line("Verifying revisions", wanted=not verbose) as progress, _exit_codes(verbose):
        engine = _engine()
        project = _project(c, app, directory, url_env, database)
        verified = engine.verify_history(project, _runtime(c, verbose, progress))
    _show(report.of_verify(verified, time.monotonic() - started, SPELLING))


@task(
    klass=FlaskDbTask,
    auto_shortflags=False,
    help={
        "clear": "remove every cached shadow snapshot, of every project",
        "directory": "the migrations directory whose snapshots to show (default: ./migrations)",
    },
)
def cache(c, clear=False, directory=None):
    """Show where the shadow-database snapshots are cached (this project's folder); --clear removes them."""
    results_stream()
    with _exit_codes():
        _engine()
        from ..shadow.cache import ShadowCache, clear_cache, user_cache_dir

        if clear:
            _show(report.Report(stdout=[f"Removed {clear_cache()} snapshot(s) from {user_cache_dir()}"]))
            return
        migrations = Path(directory or "migrations")
        folder = ShadowCache.for_project(migrations.absolute()).folder
        snapshots = len(list(folder.glob("*.sqlite")))
    _show(
        report.Report(
            stdout=[
                f"Cache: {user_cache_dir()}",
                f"This project ({shown_path(migrations)}): {folder} ({snapshots} snapshot(s))",
            ]
        )
    )


# Declaring the setting lets Invoke fill it from every configuration source, including the
# environment (INVOKE_MAKEMIGRATIONS_URL_ENV), which only overrides keys that already exist.
ns = Collection(makemigrations, merge, verify, prune, cache)
ns.configure({"makemigrations": {"url_env": None}})
