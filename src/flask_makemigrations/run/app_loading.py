"""Load the user's Flask app the way ``flask --app`` does, and tell why it could not be loaded.

What the app builds in its databases while loading is ``made_while_loading``'s concern; which
databases it may reach, the guard's (``guard``) and the redirection's (``redirection``).
"""

import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask
from flask.cli import NoAppException, ScriptInfo

from ..compat import flask_sqlalchemy_engines_made, ignore_flask_sqlalchemy_deprecations
from ..errors import AppLoadError, MigrationError, exit_call, foreign_failures

if TYPE_CHECKING:  # annotations only
    from flask_sqlalchemy import SQLAlchemy


class MigrateState(Protocol):
    """What the tool reads of the state ``Migrate`` puts in ``app.extensions["migrate"]`` (Flask-Migrate
    has no type information: this is its ``_MigrateConfig``)."""

    migrate: Any  # the Migrate object: get_config(), configure callbacks
    db: "SQLAlchemy"
    directory: str
    configure_args: dict[str, Any]  # the options for env.py's context.configure()


@contextmanager
def environment_variable(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the block, then put back what was there."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextmanager
def project_imports(hidden_dirs: Iterable[Path] = ()) -> Iterator[None]:
    """Let imports resolve as they would under ``flask`` in the project's directory.

    A task runner imports its own task file as the top-level module ``tasks`` and puts that file's
    folder first on ``sys.path``; a project may well have its own ``tasks`` module or ``app`` package.
    ``hidden_dirs`` (the runner's folder) is taken off the path and its modules out of sight while
    the project's code runs.
    """
    cwd = {os.getcwd(), os.path.realpath(os.getcwd())}
    hidden = {form for d in hidden_dirs for form in (os.path.abspath(d), os.path.realpath(d))} - cwd
    saved_path = sys.path[:]
    # Plain string comparisons: resolving the path of every loaded module costs more than the rest.
    saved_modules = {
        name: module
        for name, module in list(sys.modules.items())
        if hidden and "." not in name and _module_dir(module) in hidden
    }
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") not in hidden]
    for name in saved_modules:
        del sys.modules[name]
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.modules.update(saved_modules)


def forget_modules_since(imported: set[str], binds: list[str]) -> None:
    """Forget the project's modules imported since ``imported`` was taken, so that loading the app
    again runs its code (its configuration, its models) again, with ``binds``' variables set.

    The project's: below the current directory, where Flask finds the app, and not in an
    environment's libraries (a ``.venv`` may be there too); a library imported twice would hold two
    copies of its classes. A project module imported before the run (by a task file, say) would
    stay, and models imported anew onto its metadata would clash: such a run names the binds to
    give instead.
    """
    project = project_modules()
    before = [name for name in imported if project(sys.modules.get(name))]
    if before:
        variables = " ".join(f"--bind-env {bind}=VAR" for bind in binds)
        raise AppLoadError(
            f"the app declares bind(s) {', '.join(binds)}, which read their URLs while it loads, and its "
            f"module {sorted(before)[0]} was imported before the run, so it cannot be loaded again: name "
            f"every bind's variable ({variables}, or makemigrations.bind_env)"
        )
    for name in set(sys.modules) - imported:
        if project(sys.modules[name]):
            del sys.modules[name]


def project_modules() -> Callable[[ModuleType | None], bool]:
    """Whether a module is the project's (see ``forget_modules_since``)."""
    project = os.path.join(os.path.realpath(os.getcwd()), "")
    paths = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    libraries = tuple(os.path.join(os.path.realpath(path), "") for path in paths if path)

    def projects(module: ModuleType | None) -> bool:
        file = _module_file(module) if module is not None else None
        return bool(file and file.startswith(project) and not file.startswith(libraries))

    return projects


def _module_file(module: ModuleType) -> str | None:
    """Where a module was loaded from (a namespace package: its first folder), resolved."""
    file = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", None) or []), None)
    return os.path.realpath(file) if file else None


def _module_dir(module: ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    return os.path.dirname(os.path.abspath(file)) if file else None


def load_app(app_import: str | None) -> Flask:
    """Flask's own discovery: ``module:name``, ``module:factory(args)``, ``file.py`` or, given
    nothing, ``wsgi.py``/``app.py`` in the current directory."""
    ignore_flask_sqlalchemy_deprecations()  # as the run ignores the other libraries' (2.x's filter)
    with foreign_failures(
        lambda exc: AppLoadError(f"the app called {exit_call(exc)} while loading"),
        lambda exc: _load_failure(app_import, exc),
    ):
        return ScriptInfo(app_import_path=app_import, set_debug_flag=False).load_app()


def _load_failure(app_import: str | None, exc: Exception) -> AppLoadError:
    """Flask's own "could not locate" in short; any other error with the app it came from."""
    if isinstance(exc, NoAppException):
        return AppLoadError(f"could not load the Flask app: {_summary(str(exc))}")
    where = app_import or "found by Flask's default discovery"
    return AppLoadError(f"could not load the Flask app {where}: {type(exc).__name__}: {exc}")


def _summary(text: str) -> str:
    """Flask embeds whole tracebacks in some messages; keep the first and the last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if len(lines) < 2 else f"{lines[0]} {lines[-1]}"


def migrate_extension(app: Flask) -> MigrateState:
    """The ``Migrate`` state that ``flask db`` itself reads from the app."""
    extension: MigrateState | None = app.extensions.get("migrate")
    if extension is None:
        raise AppLoadError(f"app {app.name!r} does not use Flask-Migrate: call Migrate(app, db)")
    return extension


def app_being_loaded(exc: BaseException) -> Flask | None:
    """The Flask app that was being built when loading failed with ``exc``: the innermost one in the
    traceback's frames (a factory's ``app``, the argument of Flask-SQLAlchemy's ``init_app``).

    An app whose bind reads a variable that is not set hands Flask-SQLAlchemy ``None`` for a URL, and
    ``init_app`` fails before the app exists for anyone to ask which binds it declares; its
    configuration is there all the same.
    """
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        found = next((value for value in frame.f_locals.values() if isinstance(value, Flask)), found)
    return found


def dispose_engines(app: Flask) -> None:
    """Close the pooled connections of every engine the app made (of a load that is abandoned)."""
    state = app.extensions.get("sqlalchemy")
    if state is not None:
        with app.app_context():
            for engine in flask_sqlalchemy_engines_made(state):
                engine.dispose()


@contextmanager
def history_builds_its_own_tables(extension_tables: list[str]) -> Iterator[None]:
    """Tell a history that creates a table an extension made while the app loaded as such: its
    upgrade fails with "already exists", as ``flask db upgrade`` does on a new database."""
    try:
        yield
    except MigrationError as exc:
        if extension_tables and "already exists" in str(exc):
            raise AppLoadError(
                f"the app created table(s) {', '.join(extension_tables)} while loading (an extension does), "
                f"and the history creates one of them too ({exc}): let the history create it, or the "
                "extension, not both"
            ) from exc
        raise
