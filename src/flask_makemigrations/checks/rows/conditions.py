"""What a revision does that depends on the rows, read from its operations: the tables it touches,
the NOT NULL columns it adds without a default (which fail on any table with rows), the constraints
it adds that rows may break (a CHECK, a foreign key), and the conditions on the data it fails under
(NULLs in a column it makes NOT NULL, equal values in columns it makes unique, values beyond the type
it narrows a column to), with the rows that meet each.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Engine

from ...revisions.operations import flatten
from .filling import Row

#: The largest value of each integer type, the widest first (BIGINT and SMALLINT are INTEGERs).
_INTEGER_LIMITS = ((sa.BigInteger, 2**63 - 1), (sa.SmallInteger, 2**15 - 1), (sa.Integer, 2**31 - 1))


@dataclass(frozen=True)
class Condition:
    """A state of the data a revision fails under, and the rows that meet it: ``columns`` of a row
    (the second, for duplicates) set to ``values`` (None: the first row's own)."""

    table: str
    columns: tuple[str, ...]
    holds: str  # what the data holds then: "NULL values", "duplicate values", ...
    values: tuple[Any, ...] | None = None

    def __str__(self) -> str:
        shown = self.columns[0] if len(self.columns) == 1 else f"({', '.join(self.columns)})"
        return f"{self.table}.{shown} holds {self.holds}"


def touched_tables(upgrade_ops: ops.UpgradeOps) -> set[str]:
    """The tables the operations change or refer to (a table they create has no rows yet: the
    caller keeps the ones that exist)."""
    names = set()
    for operation in flatten(upgrade_ops.ops):
        for attribute in ("table_name", "source_table", "referent_table"):
            name = getattr(operation, attribute, None)
            if isinstance(name, str):
                names.add(name)
    return names


def required_columns(upgrade_ops: ops.UpgradeOps, tables: set[str]) -> list[str]:
    """``table.column`` of each NOT NULL column without a server default added to one of ``tables``
    (which hold rows): no database can fill it for the rows already there."""
    return [
        f"{operation.table_name}.{operation.column.name}"
        for operation in flatten(upgrade_ops.ops)
        if isinstance(operation, ops.AddColumnOp)
        and operation.table_name in tables
        and not operation.column.nullable
        and operation.column.server_default is None
    ]


def constraints_on_data(upgrade_ops: ops.UpgradeOps, tables: set[str]) -> list[str]:
    """What the data of ``tables`` (which hold rows) must meet for the constraints the operations add
    to them: made-up rows may break a CHECK or a foreign key that production data meets, so a failure
    over them depends on the data."""
    found = []
    for operation in flatten(upgrade_ops.ops):
        if isinstance(operation, ops.CreateCheckConstraintOp) and operation.table_name in tables:
            named = f"check constraint {operation.constraint_name}"
            found.append(f"{operation.table_name} holds rows its new {named} rejects")
        elif isinstance(operation, ops.CreateForeignKeyOp) and operation.source_table in tables:
            columns = ", ".join(operation.local_cols)
            referred = f"{operation.referent_table}.{', '.join(operation.remote_cols)}"
            found.append(f"{operation.source_table}.{columns} holds values {referred} lacks")
    return found


def conditions(upgrade_ops: ops.UpgradeOps) -> list[Condition]:
    """The conditions on the data the operations fail under, in the operations' order."""
    found = []
    for operation in flatten(upgrade_ops.ops):
        if isinstance(operation, ops.AlterColumnOp):
            found += _altered(operation)
        elif isinstance(operation, ops.CreateUniqueConstraintOp):
            found.append(Condition(operation.table_name, tuple(operation.columns), "duplicate values"))
        elif isinstance(operation, ops.CreateIndexOp) and operation.unique:
            named = [column for column in operation.columns if isinstance(column, str)]
            if named and len(named) == len(operation.columns):  # not over expressions
                found.append(Condition(operation.table_name, tuple(named), "duplicate values"))
    return found


def _altered(operation: ops.AlterColumnOp) -> list[Condition]:
    table, column = operation.table_name, operation.column_name
    found = []
    if operation.modify_nullable is False and operation.existing_nullable is not False:
        found.append(Condition(table, (column,), "NULL values", (None,)))
    old, new = operation.existing_type, operation.modify_type
    if isinstance(old, sa.String) and isinstance(new, sa.String) and new.length is not None:
        if old.length is None or old.length > new.length:
            longest = "x" * (old.length or new.length + 1)
            found.append(
                Condition(table, (column,), f"values longer than {new.length} characters", (longest,))
            )
    elif isinstance(old, sa.Integer) and isinstance(new, sa.Integer) and _limit(new) < _limit(old):
        found.append(Condition(table, (column,), f"values above {_limit(new)}", (_limit(old),)))
    return found


def _limit(type_: sa.Integer) -> int:
    return next(limit for kind, limit in _INTEGER_LIMITS if isinstance(type_, kind))


def meet(engine: Engine, condition: Condition, rows: Mapping[str, list[Row]]) -> bool:
    """Give one row of the table the condition's values (the second row the first one's, for
    duplicates); False where it cannot (the table has too few rows, or the database refuses: its
    own constraints rule that data out, so no production database holds it either)."""
    table_rows = rows.get(condition.table, [])
    if len(table_rows) < 2 or any(column not in table_rows[0] for column in condition.columns):
        return False
    first, target = table_rows[0], table_rows[1] if condition.values is None else table_rows[0]
    values = condition.values or tuple(first[column] for column in condition.columns)
    table = sa.table(condition.table, *[sa.column(column) for column in condition.columns])
    matched = [table.c[column] == target[column] for column in condition.columns]
    try:
        with engine.begin() as connection:
            changed = connection.execute(
                table.update().where(*matched).values(dict(zip(condition.columns, values, strict=True)))
            )
            return bool(changed.rowcount)
    except sa.exc.DBAPIError:
        return False
