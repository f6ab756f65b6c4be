"""Everything a run needs before it touches the history, set up and torn down in one place.

The order matters: the shadow database exists and the connection guard is on before the app is
imported, and both outlive every use of the app, so nothing the app does can reach another database
and nothing is left behind, whatever ends the run.
"""

import logging
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from ..compat import app_of_failed_init
from ..errors import Advice, AppLoadError, ForeignDatabaseError
from ..revisions.driver import Progress
from ..revisions.staging import Staging
from ..shadow.backend import Backend, ShadowDatabase
from ..shadow.backends import parse_database
from ..shadow.cache import user_cache_dir
from ..shadow.database import shadow_database
from .app_loading import (
    MigrateState,
    check_app_uses_shadow,
    environment_variable,
    forget_modules_since,
    load_app,
    migrate_extension,
    project_imports,
    tables_made_while_loading,
)
from .binds import (
    BindKey,
    BindVariables,
    UnprovisionedBinds,
    app_engines,
    check_binds,
    declared_binds,
    missing_urls,
    no_url_error,
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
    #: --bind-env: bind -> the variable it reads its URL from; one not named reads <BIND>_DATABASE_URL.
    bind_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def variables(self) -> BindVariables:
        return BindVariables.parse(self.bind_env, self.url_env)


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
    #: A shadow database per database of the app, by bind key (None: the main one).
    shadows: dict[BindKey, ShadowDatabase]
    guard: ConnectionGuard
    directory: Path
    shown_paths: ShownPaths  # how warnings name files: the staging copy's as the project's
    #: Further empty ones, by bind key, for verification to build from the models.
    models_shadows: dict[BindKey, ShadowDatabase] = field(default_factory=dict)
    #: Tables an extension created while the app loaded (Flask-Session's): part of the comparison.
    made_while_loading: list[str] = field(default_factory=list)

    @property
    def shadow(self) -> ShadowDatabase:
        """The main database's shadow database."""
        return self.shadows[None]

    @property
    def binds(self) -> list[str]:
        return [bind for bind in self.shadows if bind is not None]

    def stage(self) -> Staging:
        """The staging copy of the migrations directory, in this run's private folder."""
        staging = Staging.copy(self.directory, self.shadow.workdir)
        self.shown_paths.show_as(staging.staged_dir, staging.project_dir)
        return staging

    @property
    def notes(self) -> list[Advice]:
        """What the user should know about this session, beside the result."""
        notes = [advice for shadow in self.shadows.values() for advice in shadow.advice]
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
    variables = project.variables
    imported = set(sys.modules)
    attempt = stack.enter_context(ExitStack())
    try:
        return _load(attempt, project, backend, variables, variables.binds, models_database, shown_paths)
    except UnprovisionedBinds as found:
        # The app read its binds' variables before it said which binds it has: undo everything (the
        # shadow databases too) and load it afresh, its own modules imported again, with them set.
        attempt.close()
        forget_modules_since(imported)
        binds = [*variables.binds, *(bind for bind in found.binds if bind not in variables.binds)]
    try:
        return _load(stack, project, backend, variables, binds, models_database, shown_paths)
    except UnprovisionedBinds as again:  # its binds are not the same from one load to the next
        raise AppLoadError(
            f"the app declared other binds ({again}) when loaded again: name every bind with --bind-env"
        ) from None


def _load(
    stack: ExitStack,
    project: Project,
    backend: Backend,
    variables: BindVariables,
    binds: list[str],
    models_database: bool,
    shown_paths: ShownPaths,
) -> Session:
    """Make the shadow databases, guard every connection, set the variables, then load the app."""
    shadows, models_shadows = _shadow_databases(stack, backend, binds, models_database)
    hint = f"make the app read its database URL from ${project.url_env} (or pass --url-env)"
    others = [*list(shadows.values())[1:], *models_shadows.values()]
    owned = [user_cache_dir(), *(shadow.workdir for shadow in others)]
    guard = stack.enter_context(only_shadow_connections(shadows[None], hint, owned))
    for other in others:
        stack.enter_context(guard.allowing(other))
    stack.enter_context(environment_variable(project.url_env, shadows[None].url_string))
    for bind in binds:
        stack.enter_context(environment_variable(variables.of(bind), shadows[bind].url_string))

    app = _loaded_app(project, variables, binds)
    if guard.refused:  # the app swallowed the guard's error; it is still unsafe
        raise ForeignDatabaseError(f"the app tried to connect to {guard.refused[0]}; {hint}")
    _check_provisioned(app.config, binds)
    extension = migrate_extension(app)
    stack.enter_context(app.app_context())
    check_app_uses_shadow(extension, guard, project.url_env)
    check_binds(extension, guard, shadows, variables)
    for key, shadow in shadows.items():
        metadata = extension.db.metadatas.get(key)
        if metadata is not None:
            shadow.backend.check_isolated(metadata)
    engines = app_engines(extension)
    for engine in engines.values():
        stack.callback(engine.dispose)  # close pooled connections before the database goes
    made_while_loading = tables_made_while_loading(engines[None])
    directory = Path(project.directory or extension.directory).absolute()
    return Session(app, extension, shadows, guard, directory, shown_paths, models_shadows, made_while_loading)


def _shadow_databases(
    stack: ExitStack, backend: Backend, binds: list[str], models_database: bool
) -> tuple[dict[BindKey, ShadowDatabase], dict[BindKey, ShadowDatabase]]:
    """A shadow database for the main database and each of ``binds`` and, for verification, an empty
    one beside each (made before the guard, as a server's may need its admin database)."""
    shadows: dict[BindKey, ShadowDatabase] = {None: stack.enter_context(shadow_database(backend))}
    for bind in binds:
        shadows[bind] = stack.enter_context(shadow_database(backend.for_bind(bind), first=False))
    models_shadows: dict[BindKey, ShadowDatabase] = {}
    if models_database:
        for key in shadows:
            models_shadows[key] = stack.enter_context(shadow_database(backend.second(), first=False))
    return shadows, models_shadows


def _loaded_app(project: Project, variables: BindVariables, binds: list[str]) -> Flask:
    """The app, or why not; an app that failed because a bind had no URL names the bind."""
    try:
        return load_app(project.app or os.environ.get("FLASK_APP") or None)
    except AppLoadError as exc:
        app = app_of_failed_init(exc.__cause__) if exc.__cause__ is not None else None
        if app is None:
            raise
        _check_provisioned(app.config, binds)
        unset = missing_urls(app.config)
        if unset:
            raise no_url_error(unset[0], variables) from None
        raise


def _check_provisioned(config: Mapping[str, Any], binds: list[str]) -> None:
    """The app declares only binds whose variables were set before it loaded."""
    unknown = [bind for bind in declared_binds(config) if bind not in binds]
    if unknown:
        raise UnprovisionedBinds(unknown)


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
