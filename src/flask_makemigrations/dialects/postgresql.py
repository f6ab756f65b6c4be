"""PostgreSQL: its drivers' names for the database, and the cast it writes after a default's literal."""

import re
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .default import DefaultImpl

#: Every enum type's values in their order (``enumsortorder``: a value added ``BEFORE`` another takes a
#: higher oid than those after it); a type without values, once with none.
_ENUM_LABELS = sa.text(
    "SELECT n.nspname, t.typname, e.enumlabel FROM pg_catalog.pg_type t "
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid "
    "WHERE t.typtype = 'e' ORDER BY n.nspname, t.typname, e.enumsortorder"
)

#: The cast PostgreSQL writes after a default's literal: ``'x'::character varying``, ``'{}'::text[]``.
_CAST = re.compile(r"::[\w .\"]+(\[\])?$")


class PostgreSQLImpl(DefaultImpl):
    name = "postgresql"
    #: psycopg's ``dbname``, pg8000's ``database`` and ``unix_sock``, libpq's ``service``.
    identifying_params: ClassVar[tuple[str, ...]] = (
        "host",
        "port",
        "dbname",
        "database",
        "unix_sock",
        "service",
    )
    database_params: ClassVar[tuple[str, ...]] = ("dbname", "database")
    enum_types = True

    @classmethod
    def without_cast(cls, default: str) -> str:
        return _CAST.sub("", default).strip()

    @classmethod
    def enum_labels(cls, connection: Connection) -> dict[str, list[str]]:
        """Each enum type's values in order, by ``schema.name``."""
        labels: dict[str, list[str]] = {}
        for schema, name, label in connection.execute(_ENUM_LABELS):
            values = labels.setdefault(f"{schema}.{name}", [])
            values += [label] if label is not None else []
        return labels
