"""What each statement of a revision did to the tables that were there before it, as measured on the
shadow database (``capture.py``), and how a report shows it: beside the operation that ran it, and
one entry per statement for ``--format json``.

PostgreSQL holds a lock a statement takes until the transaction ends, and Flask-Migrate's ``env.py``
runs a revision in one transaction: a lock is shown once, beside the statement that first took it,
and holds until the revision commits. Standard library only, like ``frontends/report.py``.
"""

from dataclasses import dataclass, field
from typing import Any

#: What a lock keeps other sessions from doing to its table; a lock that blocks writes blocks production.
READS, WRITES = "reads", "writes"
#: How long a statement's locks are held: to the end of the revision's transaction, to the autocommit
#: block that commits it earlier, or (outside a transaction) while the statement runs.
UNTIL_THE_REVISION_COMMITS = "until the revision commits"
UNTIL_THE_NEXT_AUTOCOMMIT_BLOCK = "until the autocommit block after it commits them"
WHILE_IT_RUNS = "while it runs"


@dataclass(frozen=True)
class Lock:
    """The strongest lock a statement took on one table that existed before the revision."""

    table: str
    mode: str  # as PostgreSQL's documentation names it: SHARE, ACCESS EXCLUSIVE, ...
    blocks: tuple[str, ...]  # READS, WRITES: what other sessions wait for while it is held

    @property
    def blocking(self) -> bool:
        return WRITES in self.blocks

    def describe(self, held: str) -> str:
        """``SHARE lock on user (blocks writes) until the revision commits``."""
        return f"{self.mode} lock on {self.table} (blocks {' and '.join(self.blocks)}) {held}"


@dataclass(frozen=True)
class Statement:
    """One statement a revision ran, and what it did to the tables there were before it."""

    sql: str
    operation: str | None  # the line of the operation that ran it (as the report lists it), if any
    in_transaction: bool  # False: it ran in an autocommit block, its locks ended with it
    lock_timeout: str  # the connection's lock_timeout when it ran ("0": it waits for a lock forever)
    elapsed: float  # seconds on the shadow database
    locks: tuple[Lock, ...] = ()  # those it took first, per table
    rewrote: tuple[str, ...] = ()  # tables it wrote anew (their file changed)
    scanned: tuple[str, ...] = ()  # tables it read through (a validation, an index build)
    #: The strongest lock the transaction held, after it, on each table it locked, rewrote or scanned
    #: (taken by it or by a statement before it).
    held: tuple[Lock, ...] = ()
    bind: str | None = None  # the database's bind key (None: the main database)
    held_until: str = UNTIL_THE_REVISION_COMMITS  # how long its locks are held

    @property
    def blocking(self) -> list[Lock]:
        """The locks it took first that block writes: those it may wait for."""
        return [lock for lock in self.locks if lock.blocking]

    def held_on(self, table: str) -> Lock | None:
        return next((lock for lock in self.held if lock.table == table), None)

    def summary(self) -> str:
        """What it did that blocks production: its blocking locks, then rewrites and scans (under a
        blocking lock an earlier statement took, if so)."""
        parts = [", ".join(lock.describe(self.held_until) for lock in self.blocking)]
        parts += [f"rewrote {self._under(self.rewrote)}"] if self.rewrote else []
        parts += [f"scanned {self._under(self.scanned)}"] if self.scanned else []
        return "; ".join(part for part in parts if part)

    def _under(self, tables: tuple[str, ...]) -> str:
        taken = {lock.table for lock in self.blocking}
        shown = []
        for table in tables:
            held = self.held_on(table)
            earlier = held is not None and held.blocking and table not in taken
            shown.append(f"{table} (under the {held.mode} lock taken before)" if earlier and held else table)
        return ", ".join(shown)


@dataclass
class LockReport:
    """Every statement the new revision (or each revision, for ``verify --locks``) ran, in order."""

    statements: list[Statement] = field(default_factory=list)
    revision: str | None = None  # the revision it is of
    measured: bool = False  # whether the database could say (PostgreSQL's can; else nothing is listed)
    path: str | None = None  # its file, for an existing revision (``locks``, ``verify --locks``)

    def listed(self) -> list[str]:
        """An existing revision's report: a line naming it, then each statement's SQL and what it
        did that blocks production (``sqlmigrate``'s listing, measured)."""
        lines = [f"{self.revision} ({self.path}):" if self.path else f"{self.revision}:"]
        for statement in self.statements:
            summary = statement.summary()
            lines.append(f"  {' '.join(statement.sql.split())}" + (f": {summary}" if summary else ""))
        return lines if self.statements else [*lines, "  (no statement)"]

    def beside(self, operation: str) -> str:
        """What ``operation``'s statements did, to follow its line (``: SHARE lock on user ...``)."""
        shown = [s.summary() for s in self.statements if s.operation == str(operation) and s.summary()]
        return f": {'; '.join(shown)}" if shown else ""

    def unattributed(self) -> list[str]:
        """The statements no operation of the list ran that did something worth a line (a
        hand-written ``op.execute``): ``SQL: what it did``."""
        return [
            f"{' '.join(s.sql.split())}: {s.summary()}"
            for s in self.statements
            if s.summary() and s.operation is None
        ]


def revision_entries(reports: list[LockReport] | None) -> list[dict[str, Any]] | None:
    """Each existing revision's report as a JSON entry: its id, its file and its statements."""
    if reports is None:
        return None
    return [{"revision": r.revision, "path": r.path, "statements": as_entries(r) or []} for r in reports]


def as_entries(report: LockReport | None) -> list[dict[str, Any]] | None:
    """One JSON entry per statement: its SQL, the operation, the locks and what they block, the
    tables rewritten and scanned, whether it ran in the revision's transaction, its seconds; None
    where nothing was measured."""
    if report is None or not report.measured:
        return None
    return [
        {
            "sql": statement.sql,
            "operation": statement.operation,
            **({"bind": statement.bind} if statement.bind else {}),
            "locks": [
                {"relation": lock.table, "mode": lock.mode, "blocks": list(lock.blocks)}
                for lock in statement.locks
            ],
            "rewrote": list(statement.rewrote),
            "scanned": list(statement.scanned),
            "in_transaction": statement.in_transaction,
            "lock_timeout": statement.lock_timeout,
            "elapsed": round(statement.elapsed, 6),
        }
        for statement in report.statements
    ]
