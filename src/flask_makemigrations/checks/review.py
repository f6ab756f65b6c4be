"""Warnings about destructive and risky operations in a generated revision, before it is written.

Autogenerate writes what the models say, not what the data needs: a renamed column becomes a drop and
an add (its data is gone), a NOT NULL column without a default fails on a table that has rows, a
narrower type truncates or refuses values. Each warning is one block of text: what happens, and what to
write instead. Warnings never stop a run; ``--strict`` makes them errors.
"""

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Dialect

from ..compat import type_affinity
from ..findings import Finding
from ..revisions.operations import constraint_name, constraint_named, flatten, rendered_type, table_of


def review(
    upgrade_ops: ops.UpgradeOps | None, dialect: Dialect | None = None, batch: bool = False
) -> list[str]:
    """One warning per risky operation, renames first (they explain a drop and an add together)."""
    leaves = list(flatten(upgrade_ops.ops)) if upgrade_ops is not None else []
    # Tables and columns with no data yet: created here, or added here without a server default.
    created: set[str | tuple[str, str]] = {
        op.table_name for op in leaves if isinstance(op, ops.CreateTableOp)
    }
    created |= {
        (op.table_name, op.column.name)
        for op in leaves
        if isinstance(op, ops.AddColumnOp) and op.column.server_default is None
    }
    warnings: list[str] = []
    explained: set[int] = set()
    for warning, pair in [*_table_renames(leaves, dialect), *_column_renames(leaves, dialect, batch)]:
        warnings.append(warning)
        explained.update(id(op) for op in pair)
    explained.update(id(op) for op in _recreated_foreign_keys(leaves))
    for op in leaves:
        if id(op) not in explained:
            warnings.extend(_risks(op, created, dialect))
    return warnings


def _recreated_foreign_keys(leaves: list[ops.MigrateOperation]) -> list[ops.DropConstraintOp]:
    """A foreign key dropped and created again under its name (new ON DELETE, say) is not lost."""
    added = {(table_of(op), op.constraint_name) for op in leaves if isinstance(op, ops.CreateForeignKeyOp)}
    return [
        op
        for op in leaves
        if isinstance(op, ops.DropConstraintOp)
        and op.constraint_type == "foreignkey"
        and constraint_name(op)  # unnamed: nothing says the one added is this one
        and (op.table_name, op.constraint_name) in added
    ]


def _risks(
    op: ops.MigrateOperation, created: set[str | tuple[str, str]], dialect: Dialect | None
) -> list[str]:
    """What one operation may do to existing rows; what this revision creates holds none yet."""
    if isinstance(op, ops.DropTableOp):
        text = f"table {op.table_name} is dropped: every row in it is lost when this revision runs."
        return [Finding(text, "table_dropped", objects=[op.table_name])]
    if isinstance(op, ops.DropColumnOp):
        column = f"{op.table_name}.{op.column_name}"
        text = f"column {column} is dropped: its data is lost when this revision runs."
        return [Finding(text, "column_dropped", objects=[column])]
    if isinstance(op, ops.DropConstraintOp) and op.constraint_type == "foreignkey":
        text = (
            f"{constraint_named(op)} is dropped: the database no longer checks that these rows point "
            "to existing rows."
        )
        objects = [op.table_name, *filter(None, [constraint_name(op)])]
        return [Finding(text, "foreign_key_dropped", objects=objects)]
    if table_of(op) in created:
        return []
    if isinstance(op, ops.AddColumnOp):
        return _not_null_added(op)
    if isinstance(op, ops.AlterColumnOp):
        return _not_null_altered(op) + _type_changed(op, dialect)
    if isinstance(op, ops.CreateIndexOp) and op.unique:
        return _unique_added(f"unique index {op.index_name}", op.table_name, op.columns, created)
    if isinstance(op, ops.CreateUniqueConstraintOp):
        named = " ".join(filter(None, ["unique constraint", constraint_name(op)]))
        return _unique_added(named, op.table_name, op.columns, created)
    return []


def _not_null_added(op: ops.AddColumnOp) -> list[str]:
    column = op.column
    if column.nullable or column.primary_key or column.server_default is not None:
        return []
    text = (
        f"column {op.table_name}.{column.name} is added as NOT NULL without a server default: this "
        "fails on a table that has rows. Give it a server_default=..., or add it nullable, fill it, "
        "then make it NOT NULL."
    )
    return [Finding(text, "not_null_without_default", objects=[f"{op.table_name}.{column.name}"])]


def _not_null_altered(op: ops.AlterColumnOp) -> list[str]:
    if op.modify_nullable is not False or op.existing_server_default or op.modify_server_default:
        return []
    text = (
        f"column {op.table_name}.{op.column_name} is made NOT NULL without a server default: this "
        "fails if any row holds NULL. Fill those rows first (op.execute('UPDATE ...')) or give it a "
        "server default."
    )
    return [Finding(text, "not_null_without_default", objects=[f"{op.table_name}.{op.column_name}"])]


def _type_changed(op: ops.AlterColumnOp, dialect: Dialect | None) -> list[str]:
    old, new = op.existing_type, op.modify_type
    if new is None or old is None:
        return []
    column = f"{op.table_name}.{op.column_name}"
    change = f"column {column} changes type {rendered_type(old, dialect)} -> {rendered_type(new, dialect)}"
    if type_affinity(old) is not type_affinity(new):
        text = f"{change}, another kind of type: existing values may not convert, or convert with loss."
        return [Finding(text, "type_changed", objects=[column])]
    if _narrower(old, new):
        text = f"{change}, a narrower type: {_not_fitting(new)} are truncated or refused."
        return [Finding(text, "type_narrowed", objects=[column])]
    return []


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


def _unique_added(
    what: str, table: str, columns: Iterable[object], created: set[str | tuple[str, str]]
) -> list[str]:
    names = [getattr(c, "name", None) or str(c) for c in columns]
    if all((table, name) in created for name in names):
        return []  # only new, empty columns: every row holds NULL, and NULLs are never duplicates
    listed = ", ".join(names)
    text = (
        f"{what} on {table} ({listed}) is added: this fails if existing rows hold duplicates. Check first: "
        f"SELECT {listed}, COUNT(*) FROM {table} GROUP BY {listed} HAVING COUNT(*) > 1"
    )
    return [Finding(text, "unique_added", objects=[f"{table}.{name}" for name in names])]


def _table_renames(
    leaves: list[ops.MigrateOperation], dialect: Dialect | None
) -> list[tuple[str, tuple[ops.DropTableOp, ops.CreateTableOp]]]:
    """A table dropped and another created with the same columns is most likely a rename."""
    found: list[tuple[str, tuple[ops.DropTableOp, ops.CreateTableOp]]] = []
    created = [op for op in leaves if isinstance(op, ops.CreateTableOp)]
    for dropped in (op for op in leaves if isinstance(op, ops.DropTableOp)):
        shape = _columns_shape(dropped.to_table().columns, dialect)
        match = next((op for op in created if _columns_shape(op.to_table().columns, dialect) == shape), None)
        if shape and match is not None:
            created.remove(match)
            text = (
                f"table {dropped.table_name} is dropped and table {match.table_name} created with the "
                f"same columns: if this is a rename, every row in {dropped.table_name} is lost as "
                "generated. Replace the drop_table/create_table pair with:\n"
                f"    op.rename_table('{dropped.table_name}', '{match.table_name}')\n"
                "and the reverse rename_table in downgrade()."
            )
            objects = [dropped.table_name, match.table_name]
            found.append((Finding(text, "likely_table_rename", objects=objects), (dropped, match)))
    return found


def _column_renames(
    leaves: list[ops.MigrateOperation], dialect: Dialect | None, batch: bool
) -> list[tuple[str, tuple[ops.DropColumnOp, ops.AddColumnOp]]]:
    """In one table, a column dropped and another added with the same type is most likely a rename."""
    found: list[tuple[str, tuple[ops.DropColumnOp, ops.AddColumnOp]]] = []
    added = [op for op in leaves if isinstance(op, ops.AddColumnOp)]
    for dropped in (op for op in leaves if isinstance(op, ops.DropColumnOp)):
        type_ = rendered_type(dropped.to_column().type, dialect)
        match = next(
            (
                op
                for op in added
                if op.table_name == dropped.table_name and rendered_type(op.column.type, dialect) == type_
            ),
            None,
        )
        if match is not None and not isinstance(dropped.to_column().type, sa.types.NullType):
            added.remove(match)
            found.append((_column_rename_warning(dropped, match, type_, batch), (dropped, match)))
    return found


def _column_rename_warning(dropped: ops.DropColumnOp, added: ops.AddColumnOp, type_: str, batch: bool) -> str:
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
        f"is a rename, the data in {table}.{old} is lost as generated. Replace the drop_column/add_column "
        f"pair with:\n{replacement}\nand the reverse rename in downgrade()."
    )
    return Finding(text, "likely_column_rename", objects=[f"{table}.{old}", f"{table}.{new}"])


def _columns_shape(columns: Iterable[sa.Column[Any]], dialect: Dialect | None) -> frozenset[tuple[str, str]]:
    return frozenset((c.name, rendered_type(c.type, dialect)) for c in columns)
