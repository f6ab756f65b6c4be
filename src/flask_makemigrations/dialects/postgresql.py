"""PostgreSQL: its drivers' names for the database, and the cast it writes after a default's literal."""

import re
from typing import ClassVar

from .default import DefaultImpl

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
