"""PostgreSQL: its drivers' names for the database, the cast it writes after a default's literal, and
what its table locks block."""

import re
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .default import DefaultImpl, LockProbe, TableState

#: Every enum type's values in their order (``enumsortorder``: a value added ``BEFORE`` another takes a
#: higher oid than those after it); a type without values, once with none.
_ENUM_LABELS = sa.text(
    "SELECT n.nspname, t.typname, e.enumlabel FROM pg_catalog.pg_type t "
    "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid "
    "WHERE t.typtype = 'e' ORDER BY n.nspname, t.typname, e.enumsortorder"
)

#: Table lock modes as ``pg_locks`` names them, weakest first, by the name PostgreSQL's documentation
#: gives them, with what each keeps other sessions from doing ("Explicit Locking", table-level lock
#: modes and their conflicts): ``SELECT`` takes ACCESS SHARE, which only ACCESS EXCLUSIVE conflicts
#: with; ``INSERT``, ``UPDATE`` and ``DELETE`` take ROW EXCLUSIVE, which SHARE and stronger conflict with.
_LOCK_MODES = {
    "AccessShareLock": ("ACCESS SHARE", ()),
    "RowShareLock": ("ROW SHARE", ()),
    "RowExclusiveLock": ("ROW EXCLUSIVE", ()),
    "ShareUpdateExclusiveLock": ("SHARE UPDATE EXCLUSIVE", ()),
    "ShareLock": ("SHARE", ("writes",)),
    "ShareRowExclusiveLock": ("SHARE ROW EXCLUSIVE", ("writes",)),
    "ExclusiveLock": ("EXCLUSIVE", ("writes",)),
    "AccessExclusiveLock": ("ACCESS EXCLUSIVE", ("reads", "writes")),
}

#: The locks this connection's transaction holds on each user table (granted ones), the table's file
#: and its sequential scans in this transaction, beside the transaction's virtual id (every
#: transaction has one, even one that wrote nothing) and the lock timeout. One round trip.
_LOCK_PROBE = """
SELECT one.transaction, one.lock_timeout, t.oid, t.name, t.relfilenode, t.scans, t.modes
FROM (
  SELECT (SELECT l.virtualxid FROM pg_catalog.pg_locks l
          WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'virtualxid' LIMIT 1) AS transaction,
         pg_catalog.current_setting('lock_timeout') AS lock_timeout
) AS one
LEFT JOIN (
  SELECT c.oid,
         CASE WHEN n.nspname = pg_catalog.current_schema() THEN c.relname
              ELSE n.nspname || '.' || c.relname END AS name,
         c.relfilenode, COALESCE(s.seq_scan, 0) AS scans,
         ARRAY(SELECT l.mode FROM pg_catalog.pg_locks l
               WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation'
               AND l.relation = c.oid AND l.granted) AS modes
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_stat_xact_user_tables s ON s.relid = c.oid
  WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
) AS t ON true
"""

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

    lock_modes: ClassVar[dict[str, tuple[str, ...]]] = dict(_LOCK_MODES.values())

    @classmethod
    def lock_probe(cls, dbapi_connection: Any) -> LockProbe | None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_LOCK_PROBE)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        tables = {
            oid: TableState(
                name, frozenset(_LOCK_MODES[mode][0] for mode in modes if mode in _LOCK_MODES), storage, scans
            )
            for _, _, oid, name, storage, scans, modes in rows
            if oid is not None
        }
        return LockProbe(str(rows[0][0]), str(rows[0][1]), tables)

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
