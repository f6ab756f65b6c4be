"""PostgreSQL: its drivers' names for the database, the cast it writes after a default's literal, what
its table locks block, and the catalog's fingerprint of a database's schema."""

import hashlib
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

#: Per relation of the user's schemas (tables, views, sequences, ...), everything about it that the
#: catalog holds and SQLAlchemy's reflection or a dump reads, as text: its kind, persistence, options,
#: comment, partitioning and parents; each column's name, type (with an enum's values in order and a
#: domain's definition, its constraints by name), nullability, default, identity, generation,
#: collation and comment, in order; each constraint's and index's definition and comment; triggers, a
#: view's query, a sequence's parameters. Nothing in it is an oid or a position that a dump restored
#: elsewhere would change.
_RELATIONS = sa.text(
    r"""
SELECT n.nspname, c.relname, format('%L %L %L %L %L %L %L %L %L %L %L %L %L',
  c.relkind, c.relpersistence, c.reloptions, obj_description(c.oid, 'pg_class'),
  pg_get_expr(c.relpartbound, c.oid), CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
  (SELECT format('%L %L %L %L %L %L %L', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
                 s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
     FROM pg_catalog.pg_sequence s WHERE s.seqrelid = c.oid),
  (SELECT array_agg(p.oid::regclass::text ORDER BY i.inhseqno)
     FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
     WHERE i.inhrelid = c.oid),
  (SELECT array_agg(format('%L %L %L %L %L %L %L %L %L %L %L %L %L',
                           a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
                           CASE WHEN a.attcollation <> t.typcollation
                             THEN a.attcollation::regcollation::text END,
                           col_description(c.oid, a.attnum), t.typtype,
                           CASE WHEN t.typtype = 'd' THEN format('%L %L %L %L',
                             format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                             (SELECT array_agg(format('%L %L', dc.conname, pg_get_constraintdef(dc.oid))
                                               ORDER BY dc.conname)
                                FROM pg_catalog.pg_constraint dc WHERE dc.contypid = t.oid)) END,
                           (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                              FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
                           (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                              FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.typelem),
                           (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                              FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.typbasetype))
                    ORDER BY a.attnum)
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT array_agg(format('%L %L %L', k.conname, pg_get_constraintdef(k.oid),
                           obj_description(k.oid, 'pg_constraint')) ORDER BY k.conname)
     FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid),
  (SELECT array_agg(format('%L %L %L %L', pg_get_indexdef(x.indexrelid), x.indisprimary, x.indisclustered,
                           obj_description(x.indexrelid, 'pg_class')) ORDER BY xc.relname)
     FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class xc ON xc.oid = x.indexrelid
     WHERE x.indrelid = c.oid),
  (SELECT array_agg(pg_get_triggerdef(g.oid) ORDER BY g.tgname)
     FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal))
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
"""
)

#: What a schema holds besides its relations: schemas, extensions, types (enums, domains, range and
#: multirange types) and functions, each as its definition.
_OTHER_OBJECTS = sa.text(
    r"""
SELECT 'schema', nspname, format('%L', obj_description(oid, 'pg_namespace')) FROM pg_catalog.pg_namespace
  WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\_%'
UNION ALL SELECT 'extension', extname, format('%L %L', extversion, extnamespace::regnamespace::text)
  FROM pg_catalog.pg_extension
UNION ALL SELECT 'type', t.oid::regtype::text, format('%L %L %L %L %L %L', t.typtype,
    obj_description(t.oid, 'pg_type'),
    (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
       WHERE e.enumtypid = t.oid),
    format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault)
  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd', 'r', 'm') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
UNION ALL SELECT 'function', p.oid::regprocedure::text, format('%L', pg_get_functiondef(p.oid))
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE p.prokind IN ('f', 'p', 'w') AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
    AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""
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

    @classmethod
    def schema_fingerprint(cls, connection: Connection) -> str:
        """A digest of everything the user's schemas hold (``_RELATIONS``, ``_OTHER_OBJECTS``) and of
        the server's major version, which prints it: two databases with the same digest are the same
        schema for reflection and for a dump. Data is not in it."""
        major = str(connection.dialect.server_version_info[:1])  # type: ignore[index]
        relations = (f"{schema}.{name}|{text}" for schema, name, text in connection.execute(_RELATIONS))
        others = (f"{kind}|{name}|{text}" for kind, name, text in connection.execute(_OTHER_OBJECTS))
        return hashlib.sha256("\n".join([major, *sorted(relations), *sorted(others)]).encode()).hexdigest()
