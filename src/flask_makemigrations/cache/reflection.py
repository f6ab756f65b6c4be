"""Autogenerate's reflection of the tables a previous run saw, answered from the cache.

Alembic's comparison reflects every table of the shadow database through the dialect's per-table
methods (``get_columns``, ``get_indexes`` and the rest; SQLAlchemy 2's bulk methods call them table by
table on SQLite). What they answer is a function of what they read: on SQLite the table's statements in
the schema table, which ``SQLiteImpl.table_fingerprints`` digests with SQLite's version and the names
the dialect knows types by, and of SQLAlchemy's version. So a project keeps the answers its last run
got, by table and fingerprint, in ``<cache>/<project>/reflected.json``: a run answers from there
for each table whose fingerprint it finds (computed on the connection that asks, when it first
asks), and asks the database otherwise.

An answer is kept only if JSON holds it exactly: a type as the name SQLite's dialect reads back into
the same type, checked before the answer is kept. Any doubt asks the database: arguments other than
SQLAlchemy's bookkeeping, another schema, a database with no fingerprints, a file that does not load.
"""

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import TypeEngine

from ..compat import sqlite_type, table_reflection_answered_by
from ..dialects import impl_for
from .files import keep_salted_entries, project_file, salted_entries

#: Changes when what is stored changes shape.
FORMAT = 1
#: The per-table methods answered: everything autogenerate reflects of a table on SQLite.
METHODS = (
    "get_table_options",  # SQLAlchemy 2: WITHOUT ROWID, STRICT
    "get_columns",
    "get_pk_constraint",
    "get_foreign_keys",
    "get_indexes",
    "get_unique_constraints",
    "get_check_constraints",
)
#: The arguments SQLAlchemy adds to those calls that change nothing in the answer.
_BOOKKEEPING = frozenset({"info_cache", "unreflectable"})
#: How a type is marked in the stored answers (no key of a reflected dict starts with "__").
_TYPE = "__type__"


def reflected_file(migrations_dir: Path) -> Path:
    """Where a project's answers are kept: in its snapshot folder."""
    return project_file(migrations_dir, "reflected.json")


@contextmanager
def reflection_answered_from_cache(
    engines: Iterable[Engine], migrations_dir: Path, enabled: bool = True
) -> Iterator[None]:
    """Inside the block, the engines' reflection of a table the cache knows is answered from it; the
    answers the block used or got are kept for the next run when it ends."""
    if not enabled:
        yield
        return
    path = reflected_file(migrations_dir)
    salt = hashlib.sha256(json.dumps([FORMAT, sa.__version__]).encode()).hexdigest()
    known = salted_entries(path, salt)
    answers = _Answers(known)
    with table_reflection_answered_by([engine.dialect for engine in engines], METHODS, answers.answer):
        yield
    if answers.used != known:
        keep_salted_entries(path, salt, answers.used)


@dataclass
class _Answers:
    """The known answers by key, and the ones this run used or got (what is kept)."""

    known: dict[str, Any]
    used: dict[str, Any] = field(default_factory=dict)
    _connection: Connection | None = None  # the connection the fingerprints are of
    _fingerprints: dict[str, str] = field(default_factory=dict)  # by table

    def answer(self, method: str, ask: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
        """What the dialect's ``method`` answers for ``args`` and ``kw``: from the known answers for a
        table whose fingerprint is known, else by asking (and the answer kept, if JSON holds it)."""
        asked_about = _one_table(args, kw)
        fingerprint = self._fingerprint(*asked_about) if asked_about else None
        if asked_about is None or fingerprint is None:
            return ask(*args, **kw)
        connection, table = asked_about
        key = f"{method}|{table}|{fingerprint}"
        if key in self.known:
            with contextlib.suppress(Exception):  # a stored answer that does not decode: ask
                answer = _decoded(self.known[key], connection.dialect)
                self.used[key] = self.known[key]
                return answer
        answer = ask(*args, **kw)
        kept = _kept(answer, connection.dialect)
        if kept is not None:
            # The first answer: a later one may be the same object, changed by its callers since
            # (Alembic names constraints in place).
            self.used.setdefault(key, kept)
        return answer

    def _fingerprint(self, connection: Connection, table: str) -> str | None:
        if connection is not self._connection:
            fingerprints = impl_for(connection.dialect.name).table_fingerprints(connection)
            self._connection, self._fingerprints = connection, fingerprints or {}
        return self._fingerprints.get(table)


def _one_table(args: tuple[Any, ...], kw: dict[str, Any]) -> tuple[Connection, str] | None:
    """The connection and table a call asks about, if it asks about one table of the default schema
    with no argument beyond SQLAlchemy's bookkeeping (anything else is asked of the database)."""
    if not 2 <= len(args) <= 3:  # (connection, table name[, schema]): 1.4 passes the schema by position
        return None
    connection, table = args[:2]
    schema = args[2] if len(args) == 3 else kw.get("schema")
    if schema is not None or not set(kw) <= {"schema", *_BOOKKEEPING}:
        return None
    if not isinstance(connection, Connection) or not isinstance(table, str):
        return None
    return connection, table


class _NotKept(Exception):
    """Part of an answer that JSON cannot hold exactly."""


def _kept(answer: Any, dialect: Dialect) -> Any:
    """The answer as JSON holds it, or None if reading it back would not give the same answer."""
    try:
        encoded = _encoded(answer, dialect)
        again = _decoded(json.loads(json.dumps(encoded)), dialect)
    except Exception:  # _NotKept, or a type that does not compile on its own
        return None
    return encoded if _same(again, answer) else None


def _encoded(value: Any, dialect: Dialect) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encoded(item, dialect) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) and not key.startswith("__") for key in value):
        return {key: _encoded(item, dialect) for key, item in value.items()}
    if isinstance(value, TypeEngine) and impl_for(dialect.name).types_by_name:
        return {_TYPE: value.compile(dialect=dialect)}
    raise _NotKept(type(value).__name__)


def _decoded(value: Any, dialect: Dialect) -> Any:
    if isinstance(value, list):
        return [_decoded(item, dialect) for item in value]
    if isinstance(value, dict):
        if _TYPE in value:
            return sqlite_type(dialect, value[_TYPE])
        return {key: _decoded(item, dialect) for key, item in value.items()}
    return value


def _same(one: Any, other: Any) -> bool:
    """Equal, types included: of the same class with the same arguments."""
    if type(one) is not type(other):
        return False
    if isinstance(one, list):
        return len(one) == len(other) and all(map(_same, one, other))
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(_same(one[key], other[key]) for key in one)
    if isinstance(one, TypeEngine):
        return repr(one) == repr(other) and vars(one) == vars(other)
    return bool(one == other)
