"""Everything a run needs before it touches the history, set up and torn down in one place.

The order matters: the connection guard is on and the shadow databases exist before the app is
imported, and both outlive every use of the app, so nothing the app does can reach another database
and nothing is left behind, whatever ends the run. The guard stays on across the one case where the
app is loaded twice (binds it did not know about, see ``binds``).
"""

import logging
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from ..cache.files import user_cache_dir
from ..errors import Advice, AppLoadError, ForeignDatabaseError
from ..questioner import ANSWER_DEFAULTS, Questioner
from ..revisions.driver import Progress
from ..revisions.staging import Staging
from ..revisions.swap import check_no_interrupted_squash
from ..shadow.backend import Backend, ShadowDatabase
from ..shadow.backends import parse_database
from ..shadow.database import shadow_database
from .adapter import FlaskMigrate, ProjectAdapter
from .app_loading import (
    app_being_loaded,
    dispose_engines,
    environment_variable,
    forget_modules_since,
    load_app,
    migrate_extension,
    project_imports,
    project_modules,
)
from .binds import (
    BindKey,
    BindVariables,
    UnprovisionedBinds,
    check_databases,
    declared_binds,
    label,
    missing_urls,
    no_url_error,
)
from .guard import ConnectionGuard, only_shadow_connections
from .made_while_loading import (
    ExtensionTables,
    MigrationsRun,
    library_tables,
    migrations_watched,
    set_aside,
    tables_in,
)
from .redirection import Redirected, configured_urls_redirected
from .signals import cleanup_shield, uninterrupted
from .streams import stdout_to_stderr
from .user_warnings import ShownPaths, attributed_to_the_project


@dataclass(frozen=True)
class Project:
    """Where the app and its migrations are, following ``flask`` and ``flask db`` conventions."""

    app: str | None = None  # --app; else $FLASK_APP; else Flask's default discovery
    directory: str | None = None  # migrations directory; else the one the app's Migrate names
    #: A variable set to the shadow database's URL while the app loads (optional: the URL the app
    #: configures is redirected, wherever it came from).
    url_env: str = "DATABASE_URL"
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
    questioner: Questioner = ANSWER_DEFAULTS  # asked what autogenerate cannot know (none is asked yet)


#: No hidden folder, Alembic quiet, no progress: an API caller's default (frozen, so safe to share).
QUIET = Runtime()


@dataclass
class Session:
    app: Flask
    adapter: ProjectAdapter  # how the project is set up: its Alembic config, metadatas and engines
    #: A shadow database per database of the app, by bind key (None: the main one).
    shadows: dict[BindKey, ShadowDatabase]
    guard: ConnectionGuard
    directory: Path
    shown_paths: ShownPaths  # how warnings name files: the staging copy's as the project's
    stack: ExitStack  # what undoes the session: the databases made later too
    #: Further empty ones, by bind key, that verification built the models in (``models_database``).
    models_shadows: dict[BindKey, ShadowDatabase] = field(default_factory=dict)
    #: Tables an extension created while the app loaded (Flask-Session's), by bind key: part of the
    #: comparison, made again whenever a shadow database is emptied.
    extension_tables: dict[BindKey, ExtensionTables] = field(default_factory=dict)
    #: What the app's configuration named before its URLs were redirected to the shadow databases.
    redirected: Redirected | None = None

    @property
    def shadow(self) -> ShadowDatabase:
        """The main database's shadow database."""
        return self.shadows[None]

    @property
    def binds(self) -> list[str]:
        return [bind for bind in self.shadows if bind is not None]

    def stage(self) -> Staging:
        """The staging copy of the migrations directory, in this run's private folder."""
        check_no_interrupted_squash(self.directory)
        staging = Staging.copy(self.directory, self.shadow.workdir)
        self.shown_paths.show_as(staging.staged_dir, staging.project_dir)
        return staging

    def models_database(self, bind: BindKey) -> ShadowDatabase:
        """An empty throwaway database of the shadow database's kind, to build ``bind``'s models in:
        made when first asked for (the cache may know their schema), removed with the session."""
        if bind not in self.models_shadows:
            backend = self.shadow.backend.second()
            made = self.stack.enter_context(shadow_database(backend, first=False))
            self.stack.enter_context(self.guard.allowing(made))
            self.models_shadows[bind] = made
        return self.models_shadows[bind]

    def empty(self, keys: Iterable[BindKey] | None = None) -> None:
        """The shadow databases of ``keys`` (every one by default) emptied, the app's pooled
        connections closed first, with the extensions' tables made again: to build a history in."""
        self.release_connections()
        engines = self.adapter.engines()
        for key in self.shadows if keys is None else keys:
            self.shadows[key].backend.empty(self.shadows[key])
            if key in self.extension_tables:
                self.extension_tables[key].create(engines[key])

    def release_connections(self) -> None:
        """Close the app's pooled connections (before a server's shadow database is copied or replaced;
        the engines connect again when next used)."""
        for engine in self.adapter.engines().values():
            engine.dispose()

    @property
    def made_while_loading(self) -> dict[BindKey, list[str]]:
        """The extensions' tables, by bind key."""
        return {key: tables.names for key, tables in self.extension_tables.items()}

    @property
    def loaded_tables(self) -> list[str]:
        """Every table an extension made while the app loaded, in any of its databases."""
        return [table for tables in self.made_while_loading.values() for table in tables]

    @property
    def notes(self) -> list[Advice]:
        """What the user should know about this session, beside the result."""
        notes = [advice for shadow in self.shadows.values() for advice in shadow.advice]
        if self.redirected is not None:
            notes += self.redirected.notes
        if self.made_while_loading:
            made = "; ".join(
                f"{label(bind)}: {', '.join(tables)}" if bind else ", ".join(tables)
                for bind, tables in self.made_while_loading.items()
            )
            notes.append(
                Advice(
                    f"the app created table(s) {made} while loading (an extension such as Flask-Session "
                    "does); they take part in the comparison, as under 'flask db migrate'"
                )
            )
        return notes


@contextmanager
def open_session(project: Project, runtime: Runtime = QUIET) -> Iterator[Session]:
    with cleanup_shield() as shield, ExitStack() as stack:
        try:
            yield _enter(stack, project, runtime)
        finally:
            shield()  # runs before the stack unwinds: no signal can cut the cleanup short


#: What an environment variable's name looks like, for an app that failed on one that is not set.
_ENVIRONMENT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class _Loading:
    """What every attempt at loading the app is given."""

    project: Project
    backend: Backend
    variables: BindVariables
    guard: ConnectionGuard
    shown_paths: ShownPaths


def _enter(stack: ExitStack, project: Project, runtime: Runtime) -> Session:
    """Set everything up in order, each piece registered on ``stack`` to be undone."""
    shown_paths = stack.enter_context(_library_noise_silenced(runtime.verbose))
    # stdout carries results only; Alembic and apps print progress there.
    stack.enter_context(stdout_to_stderr())
    stack.enter_context(project_imports(runtime.hidden_dirs))
    backend = parse_database(project.database)
    hint = (
        "the engines Flask-SQLAlchemy makes from the app's configuration are redirected to them; "
        "connect through those (db.engine, db.session), not an engine or a driver connection of the app's own"
    )
    guard = stack.enter_context(only_shadow_connections(hint, [user_cache_dir()]))
    loading = _Loading(project, backend, project.variables, guard, shown_paths)
    imported = set(sys.modules)
    attempt = stack.enter_context(ExitStack())
    try:
        return _load(attempt, loading, loading.variables.binds)
    except UnprovisionedBinds as found:
        # The app read its binds' variables before it said which binds it has: undo this attempt (its
        # shadow databases too; the guard stays) and load the app afresh, with their variables set.
        with uninterrupted():
            attempt.close()
        forget_modules_since(imported, found.binds)
        binds = [*loading.variables.binds, *found.binds]
    try:
        return _load(stack, loading, binds)
    except UnprovisionedBinds as again:  # its binds are not the same from one load to the next
        raise AppLoadError(
            f"the app declared other binds ({again}) when loaded again: name every bind with --bind-env"
        ) from None


def _load(stack: ExitStack, loading: _Loading, binds: list[str]) -> Session:
    """Make the shadow databases (for the main database and each of ``binds``; another bind's when the
    app declares it), set the variables, load the app with its configured URLs redirected to them,
    check that each of its databases is its shadow database, and throw away what it built there."""
    loading.variables.check_distinct(binds)
    loading.guard.refused.clear()  # what an abandoned attempt tried is no concern of this one
    shadows = _shadow_databases(stack, loading, binds)
    stack.enter_context(environment_variable(loading.project.url_env, shadows[None].url_string))
    for bind in binds:
        stack.enter_context(environment_variable(loading.variables.of(bind), shadows[bind].url_string))

    def url_for(key: BindKey) -> str:
        if key not in shadows:  # a bind the app declares, not named before it loaded
            shadows[key] = _bind_shadow(stack, loading, [bind for bind in shadows if bind], str(key))
        return shadows[key].url_string

    with (
        configured_urls_redirected(url_for, loading.backend.name) as redirected,
        migrations_watched() as migrations,
    ):
        app = _loaded_app(loading, binds)
    stack.callback(dispose_engines, app)  # close pooled connections before the databases go
    guard = loading.guard
    _check_provisioned(app.config, [bind for bind in shadows if bind])
    if guard.refused:  # the app swallowed the guard's error; it is still unsafe
        raise ForeignDatabaseError(f"the app tried to connect to {guard.refused[0]}; {guard.hint}")
    loading.variables.check_declared(declared_binds(app.config))
    adapter = FlaskMigrate(migrate_extension(app))
    stack.enter_context(app.app_context())
    check_databases(adapter, shadows)
    for key, metadata in adapter.metadatas().items():
        if key in shadows:
            shadows[key].backend.check_isolated(metadata)
    directory = Path(loading.project.directory or adapter.directory).absolute()
    _check_no_foreign_migrations(migrations, directory)
    session = Session(
        app, adapter, shadows, guard, directory, loading.shown_paths, stack, redirected=redirected
    )
    _start_afresh(session)
    return session


def _check_no_foreign_migrations(migrations: MigrationsRun, directory: Path) -> None:
    """Migrations other than the project's that changed the schema while the app loaded (a plugin
    system's own): a shadow database built from the history would lack what they did, and the
    comparison would be wrong, so the run stops."""
    foreign = migrations.foreign(str(directory))
    if foreign:
        raise AppLoadError(
            "the app ran migrations that are not the project's history while loading "
            f"({', '.join(foreign)}), so a shadow database built from the history would lack what they "
            "did and the comparison would be wrong: make the app skip them when it loads, for this run"
        )


def _start_afresh(session: Session) -> None:
    """Throw away what the app built while loading (see ``made_while_loading``): every shadow database
    it built in is emptied, then given back the extensions' tables, which the session keeps."""
    adapter = session.adapter
    engines = adapter.engines()
    # A server's shadow database that nothing reached while the app loaded is not made yet: it holds
    # nothing, and looking would make it (``server.Deferred``).
    reached = {key: engine for key, engine in engines.items() if session.shadows[key].made}
    made = {key: tables for key, engine in reached.items() if (tables := tables_in(engine))}
    if not made:
        return
    libraries = library_tables(adapter.mappers(), project_modules())
    metadatas = adapter.metadatas()
    kept = {
        key: set_aside(engines[key], tables, metadatas.get(key), libraries) for key, tables in made.items()
    }
    session.extension_tables = {key: extension for key, extension in kept.items() if extension.names}
    session.empty(made)


def _shadow_databases(stack: ExitStack, loading: _Loading, binds: list[str]) -> dict[BindKey, ShadowDatabase]:
    """A shadow database for the main database and each of ``binds``; the guard lets connections
    reach each of them while the run lasts."""
    backend = loading.backend
    bind_backends = backend.for_binds(binds)
    shadows: dict[BindKey, ShadowDatabase] = {None: stack.enter_context(shadow_database(backend))}
    stack.enter_context(loading.guard.allowing(shadows[None]))
    for bind in binds:
        shadows[bind] = _bind_shadow(stack, loading, binds, bind, bind_backends[bind])
    return shadows


def _bind_shadow(
    stack: ExitStack, loading: _Loading, binds: list[str], bind: str, backend: Backend | None = None
) -> ShadowDatabase:
    """Bind ``bind``'s shadow database, which the guard lets connections reach while the run lasts
    (where it goes may depend on the other ``binds``: ``Backend.for_binds``)."""
    backend = backend or loading.backend.for_binds([*binds, bind])[bind]
    shadow = stack.enter_context(shadow_database(backend, first=False))
    stack.enter_context(loading.guard.allowing(shadow))
    return shadow


def _loaded_app(loading: _Loading, binds: list[str]) -> Flask:
    """The app, or why not: an app that failed while binds it declares had no variable set yet is
    loaded again; one whose bind had no URL names the bind; one that needs a variable that is not
    set says which."""
    project = loading.project
    try:
        return load_app(project.app or os.environ.get("FLASK_APP") or None)
    except AppLoadError as exc:
        app = app_being_loaded(exc.__cause__ or exc)
        if app is not None:
            _check_provisioned(app.config, binds)
            unset = missing_urls(app.config)
            if unset:
                raise no_url_error(unset[0], loading.variables) from None
        cause = exc.__cause__
        variable = cause.args[0] if isinstance(cause, KeyError) and cause.args else None
        if isinstance(variable, str) and _ENVIRONMENT_NAME.fullmatch(variable) and variable not in os.environ:
            raise AppLoadError(
                f"{exc}; if a bind reads ${variable}, name it: --bind-env NAME={variable}"
            ) from exc
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
