"""Measure what each statement of a revision does on the shadow database, as Alembic runs it there.

Recorded on the shadow engines for one upgrade only (``capture``): after every statement, the
database is asked (``DefaultImpl.lock_probe``, on the driver's connection: no event fires for it)
which locks the transaction holds on each table, each table's file and its scans. The difference with
the answer before the statement is what the statement did: the locks it took first (PostgreSQL keeps
them to the end of the transaction, so a later statement does not take them again), the tables it
wrote anew (another file) and those it read through (a validation, an index build). Tables the
revision made itself block nobody and are left out, as are the catalogs and Alembic's version
table. Each statement is put beside the operation whose SQL it is (``operation_statements``: a batch
block runs its operations' statements when it ends, so the moment a statement runs cannot say).
Where the database cannot say (SQLite, MariaDB, MySQL), nothing is attached: it costs nothing there.
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine

from ...dialects import impl_for
from ...dialects.default import DefaultImpl, LockProbe, TableState
from ...revisions.generation import EngineChanges
from ...revisions.operations import describe, flatten, offline_sql
from ...run.binds import BindKey
from .report import (
    UNTIL_THE_NEXT_AUTOCOMMIT_BLOCK,
    UNTIL_THE_REVISION_COMMITS,
    WHILE_IT_RUNS,
    Lock,
    LockReport,
    Statement,
)

#: Statements that read the catalogs or the version table for SQLAlchemy and Alembic: not the revision's.
_READS = ("select", "show")
#: Each operation's line by the SQL it runs, as ``sql_key`` writes it.
OperationStatements = dict[str, str]


def sql_key(sql: str) -> str:
    """A statement as it compares: its words, without the layout."""
    return " ".join(sql.split()).rstrip(";")


def operation_statements(engines: list[EngineChanges]) -> OperationStatements:
    """Each generated operation's statements, written as SQL by Alembic itself (``offline_sql``, on
    the engine's dialect), mapped to the operation's line: what the report puts a statement beside.
    An engine whose database cannot say what it locks needs none."""
    found: OperationStatements = {}
    for engine in engines:
        if not measures_locks(engine.dialect):
            continue
        for operation in flatten(engine.upgrade_ops.ops):
            line = engine.prefixed(describe(operation, engine.dialect))
            for sql in offline_sql(operation, engine.dialect):
                found.setdefault(sql_key(sql), line)
    return found


def measures_locks(dialect: Dialect) -> bool:
    """Whether the dialect's database can say what a statement locked (PostgreSQL)."""
    return bool(impl_for(dialect.name).lock_modes)


@contextmanager
def capture(
    engines: Mapping[BindKey, Engine], version_table: str, lines: OperationStatements, into: LockReport
) -> Iterator[None]:
    """Record ``into`` each statement run on ``engines`` during the block, with what it did and the
    operation it is of (by its SQL, ``lines``)."""
    measured = {bind: engine for bind, engine in engines.items() if measures_locks(engine.dialect)}
    if not measured:
        yield
        return
    into.measured = True
    recorders = {
        _database(engine): _Recorder(engine, bind, version_table, lines, into)
        for bind, engine in measured.items()
    }

    token = _measuring.set(recorders)
    try:
        yield
    finally:
        _measuring.reset(token)


#: The recorders of the upgrade being measured, by the database each records (``capture``), in the
#: thread that runs it: a statement another thread runs meanwhile (the models' build) is not its.
_measuring: ContextVar[dict[tuple[str | None, int | None, str | None], "_Recorder"] | None] = ContextVar(
    "measuring", default=None
)


def _before(conn: Connection, *args: Any) -> None:
    if (recorder := _recorder_of(conn)) is not None:
        recorder.before(conn, *args)


def _after(conn: Connection, *args: Any) -> None:
    if (recorder := _recorder_of(conn)) is not None:
        recorder.after(conn, *args)


def _recorder_of(conn: Connection) -> "_Recorder | None":
    recorders = _measuring.get()
    return None if recorders is None else recorders.get(_database(conn.engine))


# Every engine, not only the app's: an env.py of Flask-Migrate 2.x makes one of its own from the URL
# (engine_from_config), and it runs the revision on the same database. Listening once, as this module
# is imported, and never again: SQLAlchemy's dispatch iterates its listeners unlocked, so adding or
# removing one while another thread runs a statement (the models' build, ``models_ahead``) can fail
# that statement ("deque mutated during iteration"). Outside ``capture`` each is a lookup that
# finds nothing.
event.listen(Engine, "before_cursor_execute", _before)
event.listen(Engine, "after_cursor_execute", _after)


def _database(engine: Engine) -> tuple[str | None, int | None, str | None]:
    """Which database an engine reaches: the app's engine and one env.py made from its URL alike."""
    return engine.url.host, engine.url.port, engine.url.database


class _Recorder:
    """One engine's statements: the tables there were before the first, and the last answer."""

    def __init__(
        self,
        engine: Engine,
        bind: BindKey,
        version_table: str,
        lines: OperationStatements,
        into: LockReport,
    ):
        self.impl: type[DefaultImpl] = impl_for(engine.dialect.name)
        self.bind, self.version_table, self.lines, self.into = bind, version_table, lines, into
        self.existing: set[int] | None = None  # the tables there were before the revision, by id
        self.last: LockProbe | None = None
        self.started = 0.0
        self.first_uncommitted = 0  # the statements from there on hold their locks to the next commit

    def before(self, conn: Connection, *args: Any) -> None:
        if self.existing is None:
            self.last = self._probe(conn)
            tables = self.last.tables.items()
            self.existing = {oid for oid, table in tables if table.name != self.version_table}
        self.started = time.perf_counter()

    def after(self, conn: Connection, cursor: Any, sql: str, *args: Any) -> None:
        elapsed = time.perf_counter() - self.started
        before, after = self.last, self._probe(conn)
        self.last = after
        if before is None or not self._of_the_revision(sql):
            return
        in_transaction = not getattr(conn.connection.dbapi_connection, "autocommit", False)
        if not in_transaction:  # an autocommit block committed the statements before it
            self._committed_early()
        self.into.statements.append(self._statement(sql, before, after, in_transaction, elapsed))

    def _committed_early(self) -> None:
        """The statements of this database's transaction so far held their locks until now, not to the
        end of the revision."""
        statements = self.into.statements
        for index in range(self.first_uncommitted, len(statements)):
            if statements[index].bind == self.bind and statements[index].in_transaction:
                statements[index] = replace(statements[index], held_until=UNTIL_THE_NEXT_AUTOCOMMIT_BLOCK)
        self.first_uncommitted = len(statements) + 1

    def _probe(self, conn: Connection) -> LockProbe:
        probe = self.impl.lock_probe(conn.connection.dbapi_connection)
        assert probe is not None  # measured engines only (``measures_locks``)
        return probe

    def _of_the_revision(self, sql: str) -> bool:
        words = sql.lstrip().lower()
        return not words.startswith(_READS) and self.version_table not in sql

    def _tables(self, before: LockProbe, after: LockProbe) -> list[tuple[TableState, TableState]]:
        """Each table there was before the revision, as before and after the statement, by name (a
        table the statement dropped is not listed by name any more, nor its locks)."""
        pairs = [(after.tables.get(oid), before.tables.get(oid)) for oid in self.existing or ()]
        found = [(now, then) for now, then in pairs if now is not None and then is not None]
        return sorted(found, key=lambda pair: pair[0].name)

    def _stronger(self, now: frozenset[str], then: frozenset[str]) -> frozenset[str]:
        """The modes held now that are stronger than any held before: a weaker one, taken while a
        stronger one was held, blocks nothing more (each mode is listed apart)."""
        order = list(self.impl.lock_modes)
        strongest = max((order.index(mode) for mode in then), default=-1)
        return frozenset(mode for mode in now - then if order.index(mode) > strongest)

    def _lock(self, table: str, modes: frozenset[str]) -> Lock:
        """The strongest of ``modes``, on ``table``, with what it blocks."""
        mode = max(modes, key=list(self.impl.lock_modes).index)
        return Lock(table, mode, self.impl.lock_modes[mode])

    def _statement(
        self, sql: str, before: LockProbe, after: LockProbe, in_transaction: bool, elapsed: float
    ) -> Statement:
        same = in_transaction and before.transaction == after.transaction  # else the locks before ended
        locks, rewrote, scanned, held = [], [], [], []
        for now, then in self._tables(before, after):
            taken = self._stronger(now.locks, then.locks if same else frozenset())
            if taken:
                locks.append(self._lock(now.name, taken))
            if now.storage != then.storage:
                rewrote.append(now.name)
            if same and now.scans > then.scans:
                scanned.append(now.name)
            if now.locks and (taken or now.name in rewrote or now.name in scanned):
                held.append(self._lock(now.name, now.locks))
        return Statement(
            sql=sql.strip(),
            operation=self.lines.get(sql_key(sql)),
            in_transaction=in_transaction,
            held_until=UNTIL_THE_REVISION_COMMITS if in_transaction else WHILE_IT_RUNS,
            lock_timeout=after.lock_timeout,
            elapsed=elapsed,
            locks=tuple(locks),
            rewrote=tuple(rewrote),
            scanned=tuple(scanned),
            held=tuple(held),
            bind=self.bind,
        )
