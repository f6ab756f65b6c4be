"""``--safe``: the new revision rewritten into the forms that do not block production on PostgreSQL.

What the lock report (``checks/locks/``) finds, written the way that avoids it, on the tables there
were before the revision (a new table blocks nobody):

- an index is built ``CONCURRENTLY``, which cannot run in a transaction: inside
  ``op.get_context().autocommit_block()``, and a failed build (which leaves an invalid index behind)
  drops what it left before the error goes on;
- a foreign key or CHECK is added ``NOT VALID`` (a brief lock, no scan), then validated in an
  autocommit block, whose ``VALIDATE CONSTRAINT`` takes SHARE UPDATE EXCLUSIVE, blocking neither
  reads nor writes;
- ``SET NOT NULL`` (alone on its column) is preceded by a ``CHECK (column IS NOT NULL) NOT VALID``
  validated the same way, which PostgreSQL 12 and later take as proof instead of scanning the table;
  the CHECK is dropped after;
- ``SET lock_timeout`` comes first, so that a lock that must wait for a long transaction fails the
  migration instead of queueing every query on the table behind it.

An autocommit block commits what the revision did before it: a revision rewritten so is no longer
all or nothing. The operations are rewritten before Alembic renders the script (a ``Rewriter``,
``rewriter.py``); the lines they are listed by stay the operations' own, and each says its SQL
(``statements``) for the report to put it beside.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import render_op
from alembic.operations import ops
from sqlalchemy.engine import Dialect

from ..findings import Finding
from .operations import describe, flatten, offline_sql, table_of
from .rewriter import Rewriter

#: How long a statement of a rewritten revision waits for a lock before the migration fails.
LOCK_TIMEOUT = "5s"
#: PostgreSQL's longest identifier.
_MAX_NAME = 63


class LockTimeoutOp(ops.MigrateOperation):
    """``SET lock_timeout`` for the rest of the upgrade's connection (an autocommit block keeps it)."""

    def __init__(self, timeout: str = LOCK_TIMEOUT):
        self.timeout = timeout

    def statements(self) -> list[str]:
        return [f"SET lock_timeout = '{self.timeout}'"]

    def describe(self) -> Finding:
        """Its line among the operations (``operations.describe``)."""
        return Finding(f"~ lock_timeout {self.timeout}", "set_lock_timeout")


@dataclass(frozen=True)
class Sql:
    """A statement, run with ``op.execute``."""

    text: str


@dataclass(frozen=True)
class Run:
    """An Alembic operation, rendered as Alembic renders it."""

    operation: ops.MigrateOperation


@dataclass(frozen=True)
class CleanedUp:
    """An operation whose failure runs ``cleanup`` before the error goes on (a failed concurrent
    build leaves an invalid index behind, which a second attempt would trip over)."""

    operation: ops.MigrateOperation
    cleanup: str


@dataclass(frozen=True)
class Autocommit:
    """Steps outside the revision's transaction (``op.get_context().autocommit_block()``), which
    commits what came before them."""

    steps: tuple["Step", ...]


Step = Sql | Run | CleanedUp | Autocommit


class SafeOp(ops.MigrateOperation):
    """An operation in its safe form: listed by the operation's own line, run as its ``steps``."""

    def __init__(self, original: ops.MigrateOperation, dialect: Dialect, *steps: Step):
        self.original = original
        self.dialect = dialect
        self.line = describe(original, dialect)
        self.steps = steps

    def describe(self) -> Finding:
        """Its line among the operations (``operations.describe``): the operation's own."""
        return self.line

    def statements(self) -> list[str]:
        """The SQL it runs, for the lock report to put beside its line."""
        return _statements(self.steps, self.dialect)


def _statements(steps: tuple[Step, ...], dialect: Dialect) -> list[str]:
    found: list[str] = []
    for step in steps:
        if isinstance(step, Sql):
            found.append(step.text)
        elif isinstance(step, Autocommit):
            found += _statements(step.steps, dialect)
        else:
            found += offline_sql(step.operation, dialect)
    return found


@renderers.dispatch_for(LockTimeoutOp)
def _render_timeout(autogen_context: AutogenContext, op: LockTimeoutOp) -> str:
    alembic = autogen_context.opts.get("alembic_module_prefix") or ""
    return f"{alembic}execute({op.statements()[0]!r})"


@renderers.dispatch_for(SafeOp)
def _render_safe(autogen_context: AutogenContext, op: SafeOp) -> list[str]:
    return _rendered(autogen_context, op.steps)


def _rendered(autogen_context: AutogenContext, steps: tuple[Step, ...]) -> list[str]:
    """The lines of ``steps``; Alembic's printer indents after a line ending in ``:`` and comes back
    out at an empty one, as it does for its own blocks."""
    alembic = autogen_context.opts.get("alembic_module_prefix") or ""
    lines: list[str] = []
    for step in steps:
        if isinstance(step, Sql):
            lines.append(f"{alembic}execute({step.text!r})")
        elif isinstance(step, Run):
            lines += render_op(autogen_context, step.operation)
        elif isinstance(step, CleanedUp):
            lines += ["try:", *render_op(autogen_context, step.operation), "except Exception:"]
            lines += [f"{alembic}execute({step.cleanup!r})", "raise", ""]
        else:
            block = f"with {alembic}get_context().autocommit_block():"
            lines += [block, *_rendered(autogen_context, step.steps), ""]
    return lines


class SafeForms:
    """The rewrite of one engine's upgrade: the operations on tables there were before it in their
    safe forms (top level: a batch block's are taken out of it, after it), and the lock timeout first."""

    def __init__(self, dialect: Dialect, upgrade: ops.UpgradeOps):
        self.dialect = dialect
        self.new_tables = {op.table_name for op in flatten(upgrade.ops) if isinstance(op, ops.CreateTableOp)}
        self.rewriter = Rewriter()
        self.rewriter.rewrites(ops.ModifyTableOps)(self.table_block)
        self.rewriter.rewrites(ops.CreateIndexOp, ops.AddConstraintOp, ops.AlterColumnOp)(self.single)

    def rewrite(self, upgrade: ops.UpgradeOps) -> None:
        self.rewriter.rewrite(upgrade)
        if any(self._existing(op) for op in flatten(upgrade.ops)):
            upgrade.ops.insert(0, LockTimeoutOp())

    def table_block(self, block: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        """A table's block (batch mode) keeps what needs no rewrite; the rewritten follow it."""
        assert isinstance(block, ops.ModifyTableOps)
        kept: list[ops.MigrateOperation] = []
        taken: list[ops.MigrateOperation] = []
        for op in block.ops:
            written = self.single(op)
            if written == [op]:
                kept.append(op)
            else:
                taken += written
        block.ops[:] = kept
        return ([block] if kept else []) + taken

    def single(self, op: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        if not self._existing(op):
            return [op]
        if isinstance(op, ops.CreateIndexOp):
            return [self._concurrent_index(op)]
        if isinstance(op, ops.CreateForeignKeyOp | ops.CreateCheckConstraintOp) and op.constraint_name:
            return [self._not_valid(op)]
        if isinstance(op, ops.AlterColumnOp) and _only_not_null(op):
            return [self._not_null(op)]
        return [op]

    def _existing(self, op: ops.MigrateOperation) -> bool:
        return not isinstance(op, ops.CreateTableOp) and table_of(op) not in self.new_tables

    def _concurrent_index(self, op: ops.CreateIndexOp) -> SafeOp:
        concurrent = ops.CreateIndexOp(
            op.index_name, op.table_name, op.columns, schema=op.schema, unique=op.unique,
            **{**op.kw, "postgresql_concurrently": True},
        )  # fmt: skip
        name = self._qualified(str(op.index_name), op.schema)
        drop = f"DROP INDEX CONCURRENTLY IF EXISTS {name}"
        return SafeOp(op, self.dialect, Autocommit((CleanedUp(concurrent, drop),)))

    def _not_valid(self, op: ops.CreateForeignKeyOp | ops.CreateCheckConstraintOp) -> SafeOp:
        (add,) = offline_sql(op, self.dialect)
        table = self._qualified(table_of(op), getattr(op, "schema", None), table=True)
        validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {self._quoted(str(op.constraint_name))}"
        return SafeOp(op, self.dialect, Sql(f"{add} NOT VALID"), Autocommit((Sql(validate),)))

    def _not_null(self, op: ops.AlterColumnOp) -> SafeOp:
        table = self._qualified(op.table_name, op.schema, table=True)
        check = self._quoted(f"{op.table_name}_{op.column_name}_not_null"[:_MAX_NAME])
        column = self._quoted(op.column_name)
        return SafeOp(
            op,
            self.dialect,
            Sql(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"),
            Autocommit((Sql(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}"),)),
            Run(op),
            Sql(f"ALTER TABLE {table} DROP CONSTRAINT {check}"),
        )

    def _quoted(self, name: str) -> str:
        return str(self.dialect.identifier_preparer.quote(name))

    def _qualified(self, name: str, schema: str | None, table: bool = False) -> str:
        if table:
            return str(self.dialect.identifier_preparer.format_table(sa.table(name, schema=schema)))
        return ".".join(self._quoted(part) for part in ([schema] if schema else []) + [name])


def _only_not_null(op: ops.AlterColumnOp) -> bool:
    """Made NOT NULL and nothing else: with a type change the table is written anew anyway."""
    others = (op.modify_type, op.modify_name, op.modify_comment)
    return (
        op.modify_nullable is False
        and all(other in (None, False) for other in others)
        and (op.modify_server_default is False)
    )
