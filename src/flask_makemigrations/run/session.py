"""Everything a run needs before it touches the history, set up and torn down in one place.

The order matters: the shadow database exists and the connection guard is on before the app is
imported, and both outlive every use of the app, so nothing the app does can reach another database
and nothing is left behind, whatever ends the run.
"""

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from ..errors import Advice, ForeignDatabaseError
from ..revisions.driver import Progress
from ..revisions.staging import Staging
from ..shadow.backend import ShadowDatabase
from ..shadow.backends import parse_database
from ..shadow.cache import user_cache_dir
from ..shadow.database import shadow_database
from .app_loading import (
    MigrateState,
    app_engine,
    check_app_uses_shadow,
    environment_variable,
    load_app,
    migrate_extension,
    project_imports,
    tables_made_while_loading,
)
from .guard import ConnectionGuard, only_shadow_connections
from .signals import cleanup_shield
from .streams import stdout_to_stderr
from .user_warnings import ShownPaths, attributed_to_the_project


@dataclass(frozen=True)
class Project:
    """Where the app and its migrations are, following ``flask`` and ``flask db`` conventions."""

    app: str | None = None  # --app; else $FLASK_APP; else Flask's default discovery
    directory: str | None = None  # migrations directory; else the one the app's Migrate names
    url_env: str = "DATABASE_URL"  # the variable the app reads its database URL from
    database: str | None = None  # --database: shadow file path, ':memory:' or server URL


@dataclass(frozen=True)
class Runtime:
    """How a front end runs the engine, apart from what it asks: none of it changes a result."""

    hidden_dirs: tuple[Path, ...] = ()  # a task runner's own folder, kept out of the app's imports
    verbose: bool = False  # show Alembic's per-revision log lines
    progress: Progress | None = None  # told how far a long build (or verify) has got


#: No hidden folder, Alembic quiet, no progress: an API caller's default (frozen, so safe to share).
QUIET = Runtime()


@dataclass
class Session:
    app: Flask
    extension: MigrateState  # Flask-Migrate's state: .migrate, .db, .directory, .configure_args
    shadow: ShadowDatabase
    guard: ConnectionGuard
    directory: Path
    shown_paths: ShownPaths  # how warnings name files: the staging copy's as the project's
    models_shadow: ShadowDatabase | None = None  # a second, empty one, for verification
    #: Tables an extension created while the app loaded (Flask-Session's): part of the comparison.
    made_while_loading: list[str] = field(default_factory=list)

    def stage(self) -> Staging:
        """The staging copy of the migrations directory, in this run's private folder."""
        staging = Staging.copy(self.directory, self.shadow.workdir)
        self.shown_paths.show_as(staging.staged_dir, staging.project_dir)
        return staging

    @property
    def notes(self) -> list[Advice]:
        """What the user should know about this session, beside the result."""
        notes = list(self.shadow.advice)
        if self.made_while_loading:
            notes.append(
                Advice(
                    f"the app created table(s) {', '.join(self.made_while_loading)} while loading (an "
                    "extension such as Flask-Session does); they take part in the comparison, as under "
                    "'flask db migrate'"
                )
            )
        return notes


@contextmanager
def open_session(
    project: Project, runtime: Runtime = QUIET, models_database: bool = False
) -> Iterator[Session]:
    """``models_database`` adds a second throwaway database, made like the shadow one and before the
    guard, as the creation may need the server's own admin database (PostgreSQL)."""
    with cleanup_shield() as shield, ExitStack() as stack:
        try:
            yield _enter(stack, project, runtime, models_database)
        finally:
            shield()  # runs before the stack unwinds: no signal can cut the cleanup short


def _enter(stack: ExitStack, project: Project, runtime: Runtime, models_database: bool) -> Session:
    """Set everything up in order, each piece registered on ``stack`` to be undone."""
    shown_paths = stack.enter_context(_library_noise_silenced(runtime.verbose))
    # stdout carries results only; Alembic and apps print progress there.
    stack.enter_context(stdout_to_stderr())
    stack.enter_context(project_imports(runtime.hidden_dirs))
    backend = parse_database(project.database)
    shadow = stack.enter_context(shadow_database(backend))
    models_shadow = None
    if models_database:
        models_shadow = stack.enter_context(shadow_database(backend.second(), first=False))
    hint = f"make the app read its database URL from ${project.url_env} (or pass --url-env)"
    owned = [user_cache_dir()] + ([models_shadow.workdir] if models_shadow is not None else [])
    guard = stack.enter_context(only_shadow_connections(shadow, hint, owned))
    if models_shadow is not None:
        stack.enter_context(guard.allowing(models_shadow))
    stack.enter_context(environment_variable(project.url_env, shadow.url_string))

    app = load_app(project.app or os.environ.get("FLASK_APP") or None)
    if guard.refused:  # the app swallowed the guard's error; it is still unsafe
        raise ForeignDatabaseError(f"the app tried to connect to {guard.refused[0]}; {hint}")
    extension = migrate_extension(app)
    stack.enter_context(app.app_context())
    check_app_uses_shadow(extension, guard, project.url_env)
    shadow.backend.check_isolated(extension.db.metadata)
    engine = app_engine(extension)
    stack.callback(engine.dispose)  # close pooled connections before the database goes
    made_while_loading = tables_made_while_loading(engine)
    directory = Path(project.directory or extension.directory).absolute()
    return Session(app, extension, shadow, guard, directory, shown_paths, models_shadow, made_while_loading)


@contextmanager
def _library_noise_silenced(verbose: bool) -> Iterator[ShownPaths]:
    """No deprecation warnings from the libraries, no INFO line per applied revision; the others
    once each, at the project's line that caused them.

    Only the libraries' own: a deprecated call made by this package (a warning attributed to one
    of its modules) still follows the interpreter's filters, which the test suite makes errors.
    """
    with warnings.catch_warnings(), attributed_to_the_project() as shown_paths:
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(?!flask_makemigrations\b)")
        if not verbose:
            logging.disable(logging.INFO)
        try:
            yield shown_paths
        finally:
            logging.disable(logging.NOTSET)
