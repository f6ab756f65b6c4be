"""What the app built in its databases while it loaded, and the part of it a run keeps.

The app loads against the shadow databases, and a factory may build there: ``create_all()`` then
``stamp()``, ``upgrade()`` then reading rows, an extension creating its own table (Flask-Session's
``sessions``, Flask-AppBuilder's ``ab_*``). The comparison cannot start from the models' tables made
that way (every change would read as "no changes"), so once the app has loaded, whatever it built is
thrown away: the shadow databases are built from the history, and from the cache, like any other
run's. What ``flask db migrate`` would find of the extensions' own tables in a developer's database
is put back first, as the extension made them: the tables the app's own models do not declare.
"""

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlalchemy.schema import CreateIndex, CreateTable

K = TypeVar("K")  # a bind key
#: A statement that changes the schema.
_DDL = re.compile(r"\s*(CREATE|ALTER|DROP|RENAME)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ExtensionTables:
    """The tables extensions made in one database while the app loaded, as they made them."""

    metadata: sa.MetaData  # reflected from the database the app loaded against
    names: list[str]

    def create(self, engine: sa.engine.Engine) -> None:
        """Make them again in an emptied database, before the history is applied, as in a developer's
        database where the app ran before the first upgrade."""
        with engine.begin() as connection:
            self.metadata.create_all(connection, tables=self._tables(), checkfirst=True)

    def fingerprint(self, dialect: sa.engine.Dialect) -> list[str]:
        """Their DDL, for the cache's keys: a snapshot holds them, so a change in them is another key."""
        statements = []
        for table in self._tables():
            statements.append(str(CreateTable(table).compile(dialect=dialect)))
            indexes = sorted(table.indexes, key=lambda index: str(index.name))
            statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in indexes]
        return statements

    def _tables(self) -> list[sa.Table]:
        return [self.metadata.tables[name] for name in self.names]


@dataclass
class ContextRun:
    """One Alembic migration context the app configured while it loaded: where its scripts were
    (None: a context made without an ``env.py``, as a plugin system's migrations make one), and
    whether its connection changed the schema."""

    where: str | None
    changed: bool = False


@dataclass
class MigrationsRun:
    """The Alembic migration contexts the app configured while it loaded."""

    contexts: list[ContextRun] = field(default_factory=list)

    def foreign(self, project_dir: str) -> list[str]:
        """Where the migrations that changed the schema came from, those not the project's history."""
        own = os.path.realpath(project_dir)
        return sorted(
            {
                run.where or "a migration context of the app's own"
                for run in self.contexts
                if run.changed and (run.where is None or os.path.realpath(run.where) != own)
            }
        )


@contextmanager
def migrations_watched() -> Iterator[MigrationsRun]:
    """While the app loads, note every ``MigrationContext`` it configures (``upgrade()`` through
    ``env.py``, or one of its own) and whether its connection runs DDL."""
    run = MigrationsRun()
    original = MigrationContext.__dict__["configure"]

    def configure(cls: type[MigrationContext], *args: Any, **kwargs: Any) -> MigrationContext:
        context: MigrationContext = original.__func__(cls, *args, **kwargs)
        environment = context.environment_context
        this = ContextRun(environment.script.dir if environment is not None else None)
        run.contexts.append(this)
        if context.connection is not None:

            def noted(conn: object, cursor: object, statement: str, *rest: object) -> None:
                this.changed = this.changed or bool(_DDL.match(statement))

            event.listen(context.connection, "before_cursor_execute", noted)
        return context

    MigrationContext.configure = classmethod(configure)  # type: ignore[assignment,method-assign]
    try:
        yield run
    finally:
        MigrationContext.configure = original  # type: ignore[method-assign]


def tables_in(engine: sa.engine.Engine) -> list[str]:
    """Every table in the database's default schema, sorted."""
    with engine.connect() as connection:
        return sorted(sa.inspect(connection).get_table_names())


def set_aside(
    engine: sa.engine.Engine, made: list[str], models: sa.MetaData | None, library_tables: set[str]
) -> ExtensionTables:
    """The extensions' tables among ``made``, reflected: neither a version table nor one the app's own
    models declare (``library_tables`` are declared by models an installed library defines)."""
    own = set(models.tables) - library_tables if models is not None else set()
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        names = [name for name in made if name not in own and not _is_version_table(inspector, name)]
        metadata = sa.MetaData()
        if names:
            metadata.reflect(connection, only=names)
    return ExtensionTables(metadata, names)


def _is_version_table(inspector: sa.engine.Inspector, table: str) -> bool:
    """Alembic's version table, under its own name or the one ``version_table`` gives: by its shape."""
    return {column["name"] for column in inspector.get_columns(table)} == {"version_num"}


def library_tables(
    mappers: "Iterable[Mapper[Any]]", projects: Callable[[ModuleType | None], bool]
) -> set[str]:
    """The tables that only classes of installed libraries map (an extension's models, in the app's
    metadata); ``projects`` says whether a module is the project's own."""
    owned: dict[str, bool] = {}
    for mapper in mappers:
        module = sys.modules.get(mapper.class_.__module__)
        for table in mapper.tables:
            if isinstance(table, sa.Table):
                owned[table.name] = owned.get(table.name, False) or projects(module)
    return {name for name, by_project in owned.items() if not by_project}


def fingerprints(
    extension_tables: Mapping[K, ExtensionTables], engines: Mapping[K, sa.engine.Engine]
) -> dict[str, list[str]]:
    """Every database's extension tables' DDL, by bind (as a string: None is the main database)."""
    return {str(key): tables.fingerprint(engines[key].dialect) for key, tables in extension_tables.items()}
