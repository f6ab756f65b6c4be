"""The patterns of a revision that block production, found in what its statements did on the shadow
database (``report.py``), each a warning that names the operation, the lock measured and the safe form.

What decides is what was measured: a lock that blocks writes on a table there was before, a scan
while it was held, a table written anew; the statement's SQL only says which pattern it is. A new
table blocks nobody, and the statements of a revision that only adds tables are never a finding.
"""

import re

from ...findings import Finding
from .report import LockReport, Statement

#: ``CREATE [UNIQUE] INDEX`` built in the revision's transaction (``CONCURRENTLY`` cannot be).
_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY\b)", re.IGNORECASE)
#: A foreign key or CHECK added to a table, and validated there and then (no ``NOT VALID``).
_CONSTRAINT = re.compile(r"\bADD\b.*\b(FOREIGN\s+KEY|CHECK)\b", re.IGNORECASE | re.DOTALL)
_NOT_VALID = re.compile(r"\bNOT\s+VALID\b", re.IGNORECASE)
#: A new table blocks nobody, even where its foreign keys lock the tables they refer to for a moment.
_NEW_TABLE = re.compile(r"^\s*CREATE\s+TABLE\b", re.IGNORECASE)
_SET_NOT_NULL = re.compile(r"\bSET\s+NOT\s+NULL\b", re.IGNORECASE)

INDEX_SAFE_FORM = (
    "build it with CREATE INDEX CONCURRENTLY outside the transaction (op.create_index(..., "
    "postgresql_concurrently=True) inside op.get_context().autocommit_block()), which blocks neither "
    "reads nor writes"
)
CONSTRAINT_SAFE_FORM = (
    "add it NOT VALID (a brief lock, no scan), then VALIDATE CONSTRAINT after the commit, which takes "
    "SHARE UPDATE EXCLUSIVE (blocks neither reads nor writes) while it scans"
)
NOT_NULL_SAFE_FORM = (
    "add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it after the commit, then SET NOT NULL, which "
    "PostgreSQL 12 and later take from the valid CHECK without a scan, and drop the CHECK"
)
REWRITE_SAFE_FORM = (
    "change it in a way PostgreSQL does in place (a longer VARCHAR, VARCHAR to TEXT, a constant "
    "default), or add a new column, fill it in batches and switch to it"
)
TIMEOUT_SAFE_FORM = (
    "SET lock_timeout first in the upgrade (op.execute(\"SET lock_timeout = '5s'\")), so that a lock "
    "that must wait for a long transaction fails the migration instead of queueing every query on "
    "the table behind it"
)


#: Every safe form a finding ends with.
SAFE_FORMS = (INDEX_SAFE_FORM, CONSTRAINT_SAFE_FORM, NOT_NULL_SAFE_FORM, REWRITE_SAFE_FORM, TIMEOUT_SAFE_FORM)


#: The kinds of finding a revision's locks give (``--safe`` rewrites all but a table's rewrite).
KINDS = (
    "index_not_concurrent",
    "constraint_validated",
    "set_not_null_scan",
    "table_rewritten",
    "lock_timeout_missing",
)


def of_locks(warnings: list[str]) -> list[str]:
    """The warnings that are lock findings."""
    return [warning for warning in warnings if isinstance(warning, Finding) and warning.kind in KINDS]


def history_findings(reports: list[LockReport]) -> list[Finding]:
    """The findings of existing revisions, each naming its revision."""
    return [
        Finding(
            f"revision {report.revision} ({report.path}): {found.template}",
            found.kind,
            revision=report.revision,
            **found.fields,
        )
        for report in reports
        for found in lock_findings(report)
    ]


def lock_findings(report: LockReport | None) -> list[Finding]:
    """A warning per blocking pattern among the revision's statements, and one for the revision if a
    blocking lock was taken with no ``lock_timeout``."""
    if report is None:
        return []
    found = [finding for statement in report.statements for finding in _patterns(statement)]
    waiting = [
        s
        for s in report.statements
        if s.in_transaction and s.blocking and s.lock_timeout == "0" and not _NEW_TABLE.search(s.sql)
    ]
    if waiting:
        first = waiting[0]
        lock = first.blocking[0]
        text = (
            f"{_named(first)} waits for its {lock.mode} lock on {lock.table} with no lock_timeout "
            f"({len(waiting)} statement(s) of the revision take a lock that blocks writes): "
            + TIMEOUT_SAFE_FORM
        )
        found.append(_finding(text, "lock_timeout_missing", first, lock.table))
    return found


def _patterns(statement: Statement) -> list[Finding]:
    """The patterns of one statement: what it scanned or rewrote under a lock that blocks writes."""
    sql, found = statement.sql, []
    for table in statement.scanned:
        lock = statement.held_on(table)
        if lock is None or not lock.blocking:
            continue
        held = lock.describe(statement.held_until)
        if _INDEX.search(sql):
            text = f"{_named(statement)} is built under the {held}: {INDEX_SAFE_FORM}"
            found.append(_finding(text, "index_not_concurrent", statement, table))
        elif _CONSTRAINT.search(sql) and not _NOT_VALID.search(sql):
            text = f"{_named(statement)} is validated in the same step, scanning {table} under the {held}: "
            text += CONSTRAINT_SAFE_FORM
            found.append(_finding(text, "constraint_validated", statement, table))
        elif _SET_NOT_NULL.search(sql):
            text = f"{_named(statement)} scans {table} under the {held} to check it holds no NULL: "
            text += NOT_NULL_SAFE_FORM
            found.append(_finding(text, "set_not_null_scan", statement, table))
    for table in statement.rewrote:
        lock = statement.held_on(table)
        held = f" under the {lock.describe(statement.held_until)}" if lock else ""
        text = f"{_named(statement)} rewrites table {table}{held}: {REWRITE_SAFE_FORM}"
        found.append(_finding(text, "table_rewritten", statement, table))
    return found


#: An operation's sign (``+ index ...``), after its bind's name in a multi-database revision.
_SIGN = re.compile(r"^((?:[^:\s]+: )?)[+~-] ")


def _named(statement: Statement) -> str:
    """The operation that ran the statement, as a sentence names it (``index ix on user``), else its SQL."""
    if statement.operation is None:
        return " ".join(statement.sql.split())
    return _SIGN.sub(r"\1", statement.operation)


def _finding(text: str, kind: str, statement: Statement, table: str) -> Finding:
    """A warning about ``table``, with the lock held on it and what that blocks, for JSON."""
    lock = statement.held_on(table)
    return Finding(
        text,
        kind,
        table=table,
        operation=statement.operation,
        sql=statement.sql,
        lock=lock.mode if lock else None,
        blocks=list(lock.blocks) if lock else None,
        bind=statement.bind,
    )
