"""How a project is set up, as far as a run needs to know: where the Alembic config comes from, which
metadatas and engines the app has, and what the project gives ``env.py``.

A run reads the project through this protocol only, so that a project set up another way (plain
Alembic, another Flask extension) is one more implementation, not edits across the engine. One exists
today: Flask-Migrate's, which reads the state ``Migrate`` puts in ``app.extensions["migrate"]``.
"""

from argparse import Namespace
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper

from ..compat import flask_sqlalchemy_engines, flask_sqlalchemy_metadatas
from ..revisions.driver import option_value
from .app_loading import MigrateState
from .binds import BindKey


def flask_migrate_config(migrate: Any, directory: Path, opts: list[str]) -> Config:
    """What Flask-Migrate's ``Migrate.get_config(directory, opts=opts)`` gives, with the folder's path
    escaped: ``get_config`` hands it to ``set_main_option`` as it is, so a '%' in ``$TMPDIR``, where the
    staging copy lives, failed every task. The same steps otherwise: the folder's ``alembic.ini``, the
    flags as ``cmd_opts`` (no ``-x`` arguments, which only ``flask db``'s command line gives), then the
    app's ``Migrate.configure`` callbacks (Flask-Migrate's ``Config`` subclass adds only the templates
    of ``flask db init``)."""
    config = Config(str(directory / "alembic.ini"))
    config.set_main_option("script_location", option_value(str(directory)))
    config.cmd_opts = Namespace(x=[], **dict.fromkeys(opts, True))
    configured: Config = migrate.call_configure_callbacks(config)
    return configured


class ProjectAdapter(Protocol):
    """What a run reads of a project's set-up."""

    @property
    def directory(self) -> str:
        """The migrations directory the project names (``--directory`` overrides it)."""

    def alembic_config(self, directory: Path, autogenerate: bool = False) -> Config:
        """The project's Alembic config for the migrations directory at ``directory`` (a staging copy),
        with the project's own configuration hooks applied."""

    def engines(self) -> dict[BindKey, Engine]:
        """Every engine of the app, by bind key (None: the main database, first)."""

    def metadatas(self) -> Mapping[BindKey, MetaData]:
        """The models' metadata of each bind."""

    def mappers(self) -> "Iterable[Mapper[Any]]":  # quoted: SQLAlchemy 1.4's Mapper is no generic
        """The mapped classes of the app's models, to tell an installed extension's models (Flask-Session's,
        in the app's metadata) from the project's own."""

    def env_settings(self) -> Mapping[str, object]:
        """What the project gives ``env.py`` beside the files, for the cache's keys: a change in it may
        change what the migrations build."""


class FlaskMigrate:
    """A project set up with Flask-Migrate: ``Migrate(app, db)``, its ``configure`` callbacks and the
    options it gives ``env.py``'s ``context.configure`` (``configure_args``)."""

    def __init__(self, state: MigrateState):
        self.state = state
        # Flask-Migrate's env.py stores its "skip empty revision" hook in the app-wide configure_args
        # on first use; a second command would inherit a hook bound to the first command's config.
        # Every command starts from the arguments as the app set them.
        self._configure_args = dict(state.configure_args)
        self._metadatas: Mapping[BindKey, MetaData] | None = None

    @property
    def directory(self) -> str:
        return self.state.directory

    def alembic_config(self, directory: Path, autogenerate: bool = False) -> Config:
        self.state.configure_args.clear()
        self.state.configure_args.update(self._configure_args)
        return flask_migrate_config(self.state.migrate, directory, ["autogenerate"] if autogenerate else [])

    def engines(self) -> dict[BindKey, Engine]:
        """Needs an app context (Flask-SQLAlchemy keys its engines by app)."""
        engines = flask_sqlalchemy_engines(self.state.db)
        return {key: engines[key] for key in sorted(engines, key=lambda key: key is not None)}

    def metadatas(self) -> Mapping[BindKey, MetaData]:
        """Read once: with Flask-SQLAlchemy 2.x and binds they are copies, made once per run."""
        if self._metadatas is None:
            self._metadatas = flask_sqlalchemy_metadatas(self.state.db)
        return self._metadatas

    def mappers(self) -> "Iterable[Mapper[Any]]":  # quoted: SQLAlchemy 1.4's Mapper is no generic
        """The mappers of ``db.Model``'s registry (SQLAlchemy 1.4's declarative base has one too)."""
        registry = getattr(self.state.db.Model, "registry", None)
        return list(registry.mappers) if registry is not None else []

    def env_settings(self) -> Mapping[str, object]:
        """The options ``Migrate`` passes to ``context.configure`` (the version table and its schema,
        ``include_schemas``, ...) and the ``@migrate.configure`` callbacks. ``process_revision_directives``
        is left out: Flask-Migrate's env.py puts its own there on first use, and it only shapes new
        revision files."""
        options: dict[str, Any] = {
            name: value
            for name, value in self.state.configure_args.items()
            if name != "process_revision_directives"
        }
        callbacks = getattr(self.state.migrate, "configure_callbacks", [])
        return {"configure_args": options, "configure_callbacks": list(callbacks)}
