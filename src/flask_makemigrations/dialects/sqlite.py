"""SQLite: a file path for a database, the CHECK text SQLAlchemy 1.4 reflects, and the one query per
reflection that fingerprints every table."""

import hashlib
import json
import sqlite3
import string
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect

from .default import DefaultImpl

#: Every statement of the schema (tables, indexes, triggers), by the table it belongs to, in order.
_SCHEMA_STATEMENTS = (
    "SELECT tbl_name, type, name, sql FROM sqlite_master UNION ALL "
    "SELECT tbl_name, type, name, sql FROM sqlite_temp_master ORDER BY 1, 2, 3"
)
#: The tables each table's foreign keys refer to (table-valued pragmas: SQLite 3.16).
_REFERRED_TABLES = (
    'SELECT m.name, f."table" FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f '
    "WHERE m.type = 'table'"
)


#: SQLite's case folding of names: ASCII letters only.
_ASCII_FOLDED = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _folded(name: str) -> str:
    return name.translate(_ASCII_FOLDED)


def _declared_type_names(dialect: Dialect) -> str:
    """The names the dialect knows declared types by, and the types it makes of them: packages add
    names at import (GeoAlchemy2 its geometry types), which changes what the same statements reflect."""

    def named(kind: type) -> str:
        return f"{kind.__module__}.{kind.__qualname__}"

    declared: dict[str, type] = getattr(dialect, "ischema_names", {})  # DefaultDialect's, not the interface's
    return json.dumps([named(type(dialect)), sorted((name, named(kind)) for name, kind in declared.items())])


class SQLiteImpl(DefaultImpl):
    name = "sqlite"
    types_by_name = True
    alters_in_place = False
    databases_are_files = True

    @classmethod
    def describe(cls, dialect_name: str, cargs: Sequence[Any], cparams: Mapping[str, Any]) -> str:
        return f"sqlite:///{cargs[0] if cargs else cparams.get('database', '')}"

    @classmethod
    def normalized_sql(cls, text: str) -> str:
        return super().normalized_sql(cls.reflected_check(text))

    @classmethod
    def reflected_check(cls, text: str) -> str:
        """SQLAlchemy 1.4 reads a CHECK up to the last closing parenthesis of its line: one too many,
        or, when a clause follows it, that clause too (``length(body) > 0), CONSTRAINT pk_note
        PRIMARY KEY (id``). A CHECK's own parentheses balance: it ends before the first one that
        closes nothing."""
        return text[: _first_unmatched_close(text)].rstrip()

    @classmethod
    def table_fingerprints(cls, connection: Connection) -> dict[str, str]:
        """SQLite's reflection reads the schema table's statements: a table's own, its indexes', and
        the referred table's for a foreign key that names no columns (for its primary key). The
        digests hash those (every referred table's, to be safe), with SQLite's version, whose pragmas
        answer the reflection, and the names the dialect turns declared types into."""
        statements: dict[str, list[str]] = {}
        for table, kind, name, sql in connection.exec_driver_sql(_SCHEMA_STATEMENTS):
            statements.setdefault(table, []).append(f"{kind}|{name}|{sql}")
        # A foreign key names its table as written; SQLite finds it whatever the (ASCII) case.
        by_folded_name = {_folded(table): own for table, own in statements.items()}
        referred: dict[str, set[str]] = {}
        for table, other in connection.exec_driver_sql(_REFERRED_TABLES):
            referred.setdefault(table, set()).add(_folded(other))
        types = _declared_type_names(connection.dialect)
        return {
            table: _digest(
                sqlite3.sqlite_version,
                types,
                *own,
                *(f"{other}|{by_folded_name.get(other)}" for other in sorted(referred.get(table, ()))),
            )
            for table, own in statements.items()
        }


def _first_unmatched_close(text: str) -> int:
    """Where the first ``)`` that closes nothing is (outside quotes), else the length of ``text``."""
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote  # a doubled quote closes and opens again
        elif char in "'\"`[":
            quote = "]" if char == "[" else char
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return index
    return len(text)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
