"""Warnings about destructive and risky operations in a generated revision, before it is written.

Autogenerate writes what the models say, not what the data needs: a renamed column becomes a drop and
an add (its data is gone), a NOT NULL column without a default fails on a table that has rows, a
narrower type truncates or refuses values. Each warning is one block of text: what happens, and what to
write instead. Warnings never stop a run; ``--strict`` makes them errors.

The review is two lists of small rules, each saying in its docstring why it exists (pytest-alembic's
checks are the model): ``EXPLAINING_RULES`` read the operations together and explain some of them at
once (a drop and an add that are a rename: one warning for both, and no other); ``RULES`` judge each
operation left, in order. A new rule is a function added to one list.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Dialect

from ..compat import type_affinity
from ..findings import Finding
from ..questioner import default_option, rename_option
from ..revisions.operations import (
    column_renames,
    constraint_name,
    constraint_named,
    flatten,
    rendered_type,
    table_of,
    table_renames,
)


@dataclass(frozen=True)
class Revision:
    """What every rule sees: the revision's operations (the leaves, in order), the database's dialect
    (how it spells types) and whether ``env.py`` renders in batch mode (how a fix is written)."""

    operations: tuple[ops.MigrateOperation, ...]
    dialect: Dialect | None = None
    batch: bool = False

    @cached_property
    def empty(self) -> frozenset[str | tuple[str, str]]:
        """Tables and columns that hold no data yet: created here, or added here without a server
        default. What happens to them risks no existing row."""
        tables = {op.table_name for op in self.operations if isinstance(op, ops.CreateTableOp)}
        columns = {
            (op.table_name, op.column.name)
            for op in self.operations
            if isinstance(op, ops.AddColumnOp) and op.column.server_default is None
        }
        return frozenset({*tables, *columns})

    def holds_rows(self, op: ops.MigrateOperation) -> bool:
        """Whether ``op``'s table may have rows (it is not created by this revision)."""
        return table_of(op) not in self.empty


@dataclass(frozen=True)
class Explanation:
    """Operations an explaining rule accounts for together, and its warning about them (None: they
    are harmless together)."""

    finding: Finding | None
    operations: tuple[ops.MigrateOperation, ...] = field(default=())


#: A rule over the whole revision: the operations it explains get no other warning.
ExplainingRule = Callable[[Revision], list[Explanation]]
#: A rule over one operation: its warnings (usually none or one).
Rule = Callable[[ops.MigrateOperation, Revision], list[Finding]]


def review(
    upgrade_ops: ops.UpgradeOps | None, dialect: Dialect | None = None, batch: bool = False
) -> list[Finding]:
    """One warning per risky operation: the explaining rules' first (a rename explains a drop and an
    add together), then each rule's on each operation left, in the revision's order."""
    revision = Revision(tuple(flatten(upgrade_ops.ops)) if upgrade_ops is not None else (), dialect, batch)
    warnings: list[Finding] = []
    explained: set[int] = set()
    for explaining_rule in EXPLAINING_RULES:
        for explanation in explaining_rule(revision):
            warnings += [explanation.finding] if explanation.finding is not None else []
            explained.update(id(op) for op in explanation.operations)
    for op in revision.operations:
        if id(op) not in explained:
            for rule in RULES:
                warnings += rule(op, revision)
    return warnings


def likely_table_rename(revision: Revision) -> list[Explanation]:
    """A table dropped and another created with the same columns is most likely a rename, which
    autogenerate cannot see: as generated, every row of the old table is lost (unless the question
    was answered: then the revision renames it, and there is no pair left to warn about)."""
    found: list[Explanation] = []
    for dropped, match in table_renames(revision.operations, revision.dialect):
        old, new = dropped.table_name, match.table_name
        text = (
            f"table {old} is dropped and table {new} created with the same columns: if this is a rename, "
            f"every row in {old} is lost as generated. Answer it with {rename_option(old, new)}, or "
            f"replace the drop_table/create_table pair with:\n    op.rename_table('{old}', '{new}')\n"
            "and the reverse rename_table in downgrade()."
        )
        found.append(Explanation(Finding(text, "likely_table_rename", objects=[old, new]), (dropped, match)))
    return found


def likely_column_rename(revision: Revision) -> list[Explanation]:
    """In one table, a column dropped and another added with the same type is most likely a rename,
    which autogenerate cannot see: as generated, the column's data is lost."""
    return [
        Explanation(_column_rename_warning(dropped, added, type_, revision.batch), (dropped, added))
        for dropped, added, type_ in column_renames(revision.operations, revision.dialect)
    ]


def foreign_key_recreated(revision: Revision) -> list[Explanation]:
    """A foreign key dropped and created again under its name (a new ON DELETE, say) is not lost:
    its drop is no warning. Unnamed, nothing says the one added is this one."""
    added = {
        (table_of(op), op.constraint_name)
        for op in revision.operations
        if isinstance(op, ops.CreateForeignKeyOp)
    }
    return [
        Explanation(None, (op,))
        for op in revision.operations
        if isinstance(op, ops.DropConstraintOp)
        and op.constraint_type == "foreignkey"
        and constraint_name(op)
        and (op.table_name, op.constraint_name) in added
    ]


def table_dropped(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A dropped table takes every row with it, and no downgrade brings them back."""
    if not isinstance(op, ops.DropTableOp):
        return []
    text = f"table {op.table_name} is dropped: every row in it is lost when this revision runs."
    return [Finding(text, "table_dropped", objects=[op.table_name])]


def column_dropped(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A dropped column takes its data with it, and no downgrade brings it back."""
    if not isinstance(op, ops.DropColumnOp):
        return []
    column = f"{op.table_name}.{op.column_name}"
    text = f"column {column} is dropped: its data is lost when this revision runs."
    return [Finding(text, "column_dropped", objects=[column])]


def foreign_key_dropped(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """Without its foreign key, the database stops checking that rows point to existing rows:
    orphans can appear silently."""
    if not (isinstance(op, ops.DropConstraintOp) and op.constraint_type == "foreignkey"):
        return []
    text = (
        f"{constraint_named(op)} is dropped: the database no longer checks that these rows point "
        "to existing rows."
    )
    objects = [op.table_name, *filter(None, [constraint_name(op)])]
    return [Finding(text, "foreign_key_dropped", objects=objects)]


def not_null_column_added(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A NOT NULL column added without a server default fails on a table that has rows: the
    database has nothing to put in them. Fine on a table this revision creates."""
    if not isinstance(op, ops.AddColumnOp) or not revision.holds_rows(op):
        return []
    column = op.column
    if column.nullable or column.primary_key or column.server_default is not None:
        return []
    risk = (
        "added as NOT NULL without a server default: this fails on a table that has rows. Answer it with "
        f"{default_option(op.table_name, column.name)} (a one-off default for those rows), or give it a "
        "server_default=..., or add it nullable, fill it, then make it NOT NULL."
    )
    return _not_null_without_default(f"{op.table_name}.{column.name}", risk)


def made_not_null(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A column made NOT NULL fails if any row holds NULL in it: those rows need a value first."""
    if not isinstance(op, ops.AlterColumnOp) or not revision.holds_rows(op):
        return []
    if op.modify_nullable is not False or op.existing_server_default or op.modify_server_default:
        return []
    risk = (
        "made NOT NULL without a server default: this fails if any row holds NULL. Fill those rows "
        "first (op.execute('UPDATE ...')) or give it a server default."
    )
    return _not_null_without_default(f"{op.table_name}.{op.column_name}", risk)


def _not_null_without_default(column: str, risk: str) -> list[Finding]:
    """The one finding of both ways a column becomes NOT NULL: ``column`` is ``table.column``."""
    return [Finding(f"column {column} is {risk}", "not_null_without_default", objects=[column])]


def type_changed(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A column's new type may not hold its values: another kind of type may not convert them, a
    narrower one truncates or refuses those that no longer fit."""
    if not isinstance(op, ops.AlterColumnOp) or not revision.holds_rows(op):
        return []
    old, new = op.existing_type, op.modify_type
    if new is None or old is None:
        return []
    column = f"{op.table_name}.{op.column_name}"
    dialect = revision.dialect
    change = f"column {column} changes type {rendered_type(old, dialect)} -> {rendered_type(new, dialect)}"
    if type_affinity(old) is not type_affinity(new):
        text = f"{change}, another kind of type: existing values may not convert, or convert with loss."
        return [Finding(text, "type_changed", objects=[column])]
    if _narrower(old, new):
        text = f"{change}, a narrower type: {_not_fitting(new)} are truncated or refused."
        return [Finding(text, "type_narrowed", objects=[column])]
    return []


def unique_index_added(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A unique index fails to build if existing rows hold duplicates: check them first."""
    if not (isinstance(op, ops.CreateIndexOp) and op.unique) or not revision.holds_rows(op):
        return []
    return _unique_added(f"unique index {op.index_name}", op.table_name, op.columns, revision)


def unique_constraint_added(op: ops.MigrateOperation, revision: Revision) -> list[Finding]:
    """A unique constraint fails to add if existing rows hold duplicates: check them first."""
    if not isinstance(op, ops.CreateUniqueConstraintOp) or not revision.holds_rows(op):
        return []
    named = " ".join(filter(None, ["unique constraint", constraint_name(op)]))
    return _unique_added(named, op.table_name, op.columns, revision)


#: Run first, in this order: what they explain is warned about once, by them.
EXPLAINING_RULES: tuple[ExplainingRule, ...] = (
    likely_table_rename,
    likely_column_rename,
    foreign_key_recreated,
)
#: Run on each operation left, in this order (a column made NOT NULL and retyped: NOT NULL first).
RULES: tuple[Rule, ...] = (
    table_dropped,
    column_dropped,
    foreign_key_dropped,
    not_null_column_added,
    made_not_null,
    type_changed,
    unique_index_added,
    unique_constraint_added,
)


def _not_fitting(new: sa.types.TypeEngine[Any]) -> str:
    """Which existing values a narrower type loses: an integer's range says it exactly (an UNSIGNED
    one loses the negative values, which are not larger)."""
    if isinstance(new, sa.Integer):
        low, high = _integer_range(new)
        return f"existing values outside {low}..{high}"
    return "longer or larger existing values"


def _narrower(old: sa.types.TypeEngine[Any], new: sa.types.TypeEngine[Any]) -> bool:
    """A shorter string, a smaller integer, fewer digits: some existing values no longer fit."""
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        return _size(new.length) < _size(old.length)
    if isinstance(old, sa.Integer) and isinstance(new, sa.Integer):
        (old_low, old_high), (new_low, new_high) = _integer_range(old), _integer_range(new)
        return new_low > old_low or new_high < old_high
    if isinstance(old, sa.Numeric) and isinstance(new, sa.Numeric):
        return _size(new.precision) < _size(old.precision) or _size(new.scale) < _size(old.scale)
    return False


def _size(value: int | None) -> float:
    return float("inf") if value is None else value


#: MySQL's integer types that SQLAlchemy has no generic type for, by their name, and their size in
#: bytes (by name: importing MySQL's dialect would cost every run its import time).
_MYSQL_INTEGER_BYTES = {"TINYINT": 1, "MEDIUMINT": 3}


def _integer_range(type_: sa.Integer) -> tuple[int, int]:
    """The values a column of this type holds: by its size in bytes (TINYINT 1, SMALLINT 2,
    MEDIUMINT 3, BIGINT 8, any other integer 4) and MySQL's UNSIGNED, which moves the range above
    zero, so that INTEGER -> INTEGER UNSIGNED loses the negative values."""
    if isinstance(type_, sa.SmallInteger):
        size = 2
    elif isinstance(type_, sa.BigInteger):
        size = 8
    else:
        size = _MYSQL_INTEGER_BYTES.get(type_.__visit_name__, 4)
    bits = 8 * size
    if getattr(type_, "unsigned", False):
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _unique_added(what: str, table: str, columns: Iterable[object], revision: Revision) -> list[Finding]:
    names = [getattr(c, "name", None) or str(c) for c in columns]
    if all((table, name) in revision.empty for name in names):
        return []  # only new, empty columns: every row holds NULL, and NULLs are never duplicates
    listed = ", ".join(names)
    text = (
        f"{what} on {table} ({listed}) is added: this fails if existing rows hold duplicates. Check first: "
        f"SELECT {listed}, COUNT(*) FROM {table} GROUP BY {listed} HAVING COUNT(*) > 1"
    )
    return [Finding(text, "unique_added", objects=[f"{table}.{name}" for name in names])]


def _column_rename_warning(
    dropped: ops.DropColumnOp, added: ops.AddColumnOp, type_: str, batch: bool
) -> Finding:
    table, old, new = dropped.table_name, dropped.column_name, added.column.name
    if batch:
        replacement = (
            f"    with op.batch_alter_table('{table}') as batch_op:\n"
            f"        batch_op.alter_column('{old}', new_column_name='{new}')"
        )
    else:
        replacement = f"    op.alter_column('{table}', '{old}', new_column_name='{new}')"
    text = (
        f"column {table}.{old} is dropped and {table}.{new} added with the same type ({type_}): if this "
        f"is a rename, the data in {table}.{old} is lost as generated. Answer it with "
        f"{rename_option(f'{table}.{old}', new)}, or replace the drop_column/add_column pair with:\n"
        f"{replacement}\nand the reverse rename in downgrade()."
    )
    return Finding(text, "likely_column_rename", objects=[f"{table}.{old}", f"{table}.{new}"])
