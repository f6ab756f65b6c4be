"""The Invoke tasks: Django-style ``makemigrations`` for Flask-Migrate projects.

The primary front end, and the only module of the package that imports Invoke (the ``tasks`` extra):
it lives in the package so that a project can import the tasks into its own ``tasks.py``; this
repository's ``tasks.py`` does just that. Thin on purpose: parse Invoke's options and configuration,
hand them to ``runs`` (which calls the engine and makes the report), and exit with the status:
0 success or no changes, 1 ``--check`` found changes, 2 any error, 130 Ctrl-C, 143 SIGTERM.
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# From the defining modules: the package's own namespace re-exports them implicitly only.
from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task, task

from ..errors import NextStep
from ..run.signals import signals_held
from . import report, runs

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
    "bind_env": "NAME=VAR: the environment variable bind NAME reads its URL from (repeatable; "
    "default: NAME_DATABASE_URL, upper-cased)",
    "verbose": "show Alembic's log, one line per applied revision (instead of a progress line)",
}
FORMAT_HELP = "text (default), or json: one JSON object on stdout, for CI tools"


class FlaskDbTask(Task[Any]):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A signal from the task's first instant is the run's to report (``signals.signals_held``):
        Invoke would make Ctrl-C status 1, which CI reads as pending changes."""
        with signals_held():
            return super().__call__(*args, **kwargs)

    def arg_opts(self, name: str, default: Any, taken_names: set[str]) -> dict[str, Any]:
        opts = super().arg_opts(name, default, taken_names)
        opts["names"] = opts["names"][:1] + ([SHORT_FLAGS[name]] if name in SHORT_FLAGS else [])
        return opts


def _task(help: dict[str, str]) -> Callable[[Callable[..., None]], FlaskDbTask]:
    return task(klass=FlaskDbTask, auto_shortflags=False, help={**COMMON_HELP, **help}, iterable=["bind_env"])


def _front(c: Context, format: str = "text") -> runs.FrontEnd:
    return runs.FrontEnd(SPELLING, "'invoke makemigrations -m ...'", _task_file_folder(c), format)


def _where(
    c: Context,
    app: str | None,
    directory: str | None,
    url_env: str | None,
    database: str | None,
    bind_env: list[str],
    verbose: bool = False,
) -> runs.Where:
    """Options first, then Invoke configuration (``makemigrations.url_env``, ``makemigrations.bind_env``:
    a mapping of bind to variable, or a list of NAME=VAR), then Flask's defaults."""
    configured = c.config.get("makemigrations") or {}
    url_env = url_env or configured.get("url_env") or "DATABASE_URL"
    configured_bind_env = tuple(_configured_bind_env(configured.get("bind_env")))
    return runs.Where(app, directory, url_env, database, verbose, tuple(bind_env), configured_bind_env)


def _configured_bind_env(value: Any) -> list[str]:
    """``makemigrations.bind_env`` as NAME=VAR items: a configuration file's mapping (or list, or one
    string)."""
    if not value:
        return []
    if hasattr(value, "items"):
        return [f"{bind}={variable}" for bind, variable in value.items()]
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _task_file_folder(c: Context) -> tuple[Path, ...]:
    """Invoke imports the task file it found as a top-level module (``tasks``) and puts its folder
    first on sys.path; from another project (``invoke -r``) neither may shadow the project's own."""
    module = sys.modules.get(c.config.tasks.collection_name)
    path = getattr(module, "__file__", None)
    return (Path(path).parent,) if path else ()


def _exit(shown: report.Report) -> None:
    """Write the report; a status other than 0 ends the task with it."""
    status = runs.write(shown)
    if status != report.SUCCESS:
        raise Exit(code=status)


@_task(
    help={
        "message": "what the revision does (required unless --check or --dry-run)",
        "check": "write nothing; exit 1 and list the operations if models and migrations differ",
        "dry_run": "write nothing; print the migration script that would be written",
        "empty": "write an empty revision, for a hand-written data migration",
        "rev_id": "use this revision id instead of a random one",
        "no_verify": "skip verifying the new revision on the shadow database (write it even if it fails)",
        "strict": "exit 2 and write nothing if there is any warning (for CI)",
        "no_cache": runs.NO_CACHE_HELP,
        "format": FORMAT_HELP,
    }
)
def makemigrations(
    c: Context,
    message: str | None = None,
    directory: str | None = None,
    app: str | None = None,
    check: bool = False,
    dry_run: bool = False,
    empty: bool = False,
    url_env: str | None = None,
    database: str | None = None,
    bind_env: list[str] | None = None,
    rev_id: str | None = None,
    no_verify: bool = False,
    strict: bool = False,
    no_cache: bool = False,
    verbose: bool = False,
    format: str = "text",
) -> None:
    """Autogenerate a migration against a throwaway shadow database at head, then review and verify it."""
    wanted = runs.Wanted(message, check, dry_run, empty, rev_id, not no_verify, strict, not no_cache)
    where = _where(c, app, directory, url_env, database, bind_env or [], verbose)
    _exit(runs.make_migrations(_front(c, format), where, wanted))


@_task(
    help={
        "message": "message of the merge revision (default: 'merge heads')",
        "rev_id": "use this revision id instead of a random one",
    }
)
def merge(
    c: Context,
    message: str | None = None,
    directory: str | None = None,
    app: str | None = None,
    url_env: str | None = None,
    database: str | None = None,
    bind_env: list[str] | None = None,
    rev_id: str | None = None,
    verbose: bool = False,
) -> None:
    """Merge every head of the migration history into one, as `flask db merge heads` does."""
    _exit(
        runs.merge(
            _front(c), _where(c, app, directory, url_env, database, bind_env or [], verbose), message, rev_id
        )
    )


@_task(help={**runs.SQUASH_HELP, "no_cache": runs.NO_CACHE_HELP})
def squash(
    c: Context,
    message: str | None = None,
    since: str | None = None,
    dry_run: bool = False,
    directory: str | None = None,
    app: str | None = None,
    url_env: str | None = None,
    database: str | None = None,
    bind_env: list[str] | None = None,
    no_cache: bool = False,
    verbose: bool = False,
) -> None:
    """Fold the revisions after --since (default: all) into one, proven on shadow databases first."""
    where = _where(c, app, directory, url_env, database, bind_env or [], verbose)
    _exit(runs.squash(_front(c), where, message, since, dry_run, not no_cache))


@task(
    klass=FlaskDbTask,
    auto_shortflags=False,
    help={"database": "the server URL, as given to makemigrations --database (postgresql://...)"},
)
def prune(c: Context, database: str | None = None) -> None:
    """Drop the shadow databases that runs on this machine leaked (killed before they could clean up)."""
    _exit(runs.prune(_front(c), database))


@_task(help={"format": FORMAT_HELP})
def verify(
    c: Context,
    directory: str | None = None,
    app: str | None = None,
    url_env: str | None = None,
    database: str | None = None,
    bind_env: list[str] | None = None,
    verbose: bool = False,
    format: str = "text",
) -> None:
    """Check the whole history on a shadow database: each revision up, down and up again; head = models."""
    _exit(
        runs.verify(_front(c, format), _where(c, app, directory, url_env, database, bind_env or [], verbose))
    )


@task(
    klass=FlaskDbTask,
    auto_shortflags=False,
    help={
        "clear": "remove every cached shadow snapshot, of every project (with --database: on that server)",
        "directory": "the migrations directory whose snapshots to show (default: ./migrations)",
        "database": "a PostgreSQL server's URL (as for makemigrations --database): its template databases",
    },
)
def cache(c: Context, clear: bool = False, directory: str | None = None, database: str | None = None) -> None:
    """Show where the shadow-database snapshots are cached (this project's folder); --clear removes them."""
    _exit(runs.cache(_front(c), clear, directory, database))


# Declaring the setting lets Invoke fill it from every configuration source, including the
# environment (INVOKE_MAKEMIGRATIONS_URL_ENV), which only overrides keys that already exist. bind_env
# is a mapping, {audit: AUDIT_URL}, so it comes from configuration files only.
ns = Collection(makemigrations, merge, squash, verify, prune, cache)
ns.configure({"makemigrations": {"url_env": None, "bind_env": {}}})
