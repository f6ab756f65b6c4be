"""What the tool knows of a kind of database, apart from making databases of it: which database a
driver's connect arguments reach, how its reflection spells defaults and SQL, how it fingerprints its
tables. One class per dialect, registered by SQLAlchemy's dialect name (``impl_for``), the way
Alembic registers its ``DefaultImpl`` subclasses; everything else asks by name, never "which database
is this?". The connection guard and the schema comparison meet connections of any dialect, so all of
it is class-level: nothing here makes, or needs, a database.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.engine import URL, Connection

_BY_NAME: dict[str, "type[DefaultImpl]"] = {}


@dataclass(frozen=True)
class TableState:
    """One table as a connection's transaction sees it at an instant (``DefaultImpl.lock_probe``)."""

    name: str  # as SQL names it: schema-qualified outside the connection's current schema
    locks: frozenset[str]  # the lock modes this transaction holds on it, as the database names them
    storage: int  # the table's file: another after a statement means the statement rewrote it
    scans: int  # sequential scans of it in this transaction (a validation scans the table)


@dataclass(frozen=True)
class LockProbe:
    """What a database says, between two statements, of what a connection holds (``lock_probe``)."""

    transaction: str  # the transaction the probe ran in: another one means a commit came between
    lock_timeout: str  # the connection's setting, as the database shows it ("0": wait forever)
    tables: dict[int, TableState]  # every user table, by the database's id for it


class DefaultImpl:
    """What holds for any dialect, and what a dialect the tool does not know is described with."""

    #: SQLAlchemy's dialect name (``Dialect.name``, ``URL.get_backend_name()``).
    name: ClassVar[str] = "default"
    #: The connect arguments that say *which* database a connection reaches (as opposed to how), in
    #: every driver's spelling: psycopg's ``dbname``, pg8000's ``database`` and ``unix_sock``,
    #: mysqlclient's ``db``, PyMySQL's and the MariaDB connector's ``database``, ``unix_socket``.
    identifying_params: ClassVar[tuple[str, ...]] = (
        "host",
        "port",
        "dbname",
        "db",
        "database",
        "unix_socket",
        "unix_sock",
    )
    #: Of those, the ones that name the database, in the order drivers prefer them.
    database_params: ClassVar[tuple[str, ...]] = ("dbname", "db", "database")
    #: Whether reflection gives a column's type as a name the dialect reads back into the same type
    #: (SQLite's declared types), so that autogenerate's reflection answers can be kept as JSON.
    types_by_name: ClassVar[bool] = False
    #: Whether an enum is a type of its own in the database, created and dropped apart from the
    #: tables that use it (PostgreSQL's ``CREATE TYPE ... AS ENUM``).
    enum_types: ClassVar[bool] = False
    #: Whether ``ALTER TABLE`` changes a column or a constraint in place; SQLite's does not (Alembic's
    #: batch mode copies the table instead).
    alters_in_place: ClassVar[bool] = True
    #: Whether a URL's database is a file's path (SQLite's), which ``sqlite3.connect`` may open too.
    databases_are_files: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _BY_NAME[cls.name] = cls

    @classmethod
    def identity(
        cls, cargs: Sequence[Any], cparams: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """What makes two connections reach the same database: the positional connect arguments and
        the identifying keyword ones (``identifying_params``: by default every driver's spelling, which a
        dialect narrows to its own drivers')."""
        identifying = tuple((k, str(cparams[k])) for k in cls.identifying_params if k in cparams)
        return tuple(str(a) for a in cargs), identifying

    @classmethod
    def describe(cls, dialect_name: str, cargs: Sequence[Any], cparams: Mapping[str, Any]) -> str:
        """A URL for an error message, built from a driver's arguments, never with a password."""
        database = next((cparams[k] for k in cls.database_params if cparams.get(k)), None)
        return URL.create(
            dialect_name,
            username=cparams.get("user") or cparams.get("username"),  # the MariaDB connector's
            host=cparams.get("host"),
            port=cparams.get("port"),
            database=database,
        ).render_as_string(hide_password=True)

    @classmethod
    def normalized_default(cls, text: str) -> str:
        """A reflected server default as it compares: ``'x'``, ``('x')`` and ``x`` are the same."""
        value = text.strip()
        previous = None
        while value != previous:
            previous = value
            value = unwrap_parentheses(cls.without_cast(value))
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1].replace("''", "'")
        return value

    @classmethod
    def without_cast(cls, default: str) -> str:
        """A server default without the type cast this database writes after a literal, if any."""
        return default

    @classmethod
    def normalized_sql(cls, text: str) -> str:
        """Reflected SQL (a CHECK, an index expression) without the layout and the enclosing
        parentheses that databases add."""
        return unwrap_parentheses(" ".join(text.split()))

    @classmethod
    def reflected_check(cls, text: str) -> str:
        """A reflected CHECK constraint's SQL, cut to the constraint where the dialect's reflection
        reads past its end; as the database has it otherwise."""
        return text

    @classmethod
    def enum_labels(cls, connection: Connection) -> dict[str, list[str]]:
        """Each enum type's values in order, by ``schema.name``: none where enums are not types."""
        return {}

    #: The lock modes a table can be held in, weakest first, each with what it keeps other sessions
    #: from doing to the table (``reads``, ``writes``); empty where the database cannot say
    #: (``lock_probe``).
    lock_modes: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def lock_probe(cls, dbapi_connection: Any) -> LockProbe | None:
        """The locks a connection's transaction holds on tables, their files and scans, read on the
        driver's connection itself (no SQLAlchemy event fires for it); None where the database has no
        way to tell (the lock report is PostgreSQL's)."""
        return None

    @classmethod
    def table_fingerprints(cls, connection: Connection) -> dict[str, str] | None:
        """A digest per table of everything that reflecting it reads, where this kind of database can
        tell in one query: a table whose digest did not change reflects the same. None: it cannot
        (every table is reflected each time)."""
        return None


def registered(name: str) -> "type[DefaultImpl]":
    """The class registered for dialect ``name``; for any other, the defaults (a connection the guard
    refuses still needs describing)."""
    return _BY_NAME.get(name, DefaultImpl)


def unwrap_parentheses(text: str) -> str:
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
