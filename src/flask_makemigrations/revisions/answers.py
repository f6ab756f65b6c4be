"""The questions Django asks about a new migration, asked of the ``Questioner``, and the revision
rewritten by the answers: a completion step (``completion.py``).

- A column dropped and one added to the same table with the same type may be a rename; answered yes,
  the pair becomes ``alter_column(..., new_column_name=...)``, which keeps the data, and its reverse
  in the downgrade. A table dropped and one created with the same columns, the same with
  ``rename_table``.
- A NOT NULL column added without a server default to a table that may have rows needs a value for
  them. Answered with a one-off default, the column is added with it and the default dropped right
  after, as Django applies one: the rows get the value, and the schema still matches the models.

Alembic renders the operations in batch mode where ``env.py`` asks for it. What no one answered is a
``Question`` the report lists, with the option that answers it up front.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from sqlalchemy import Column, DefaultClause
from sqlalchemy.engine import Dialect

from ..compat import (
    ALEMBIC_RENDERS_COLUMN_RENAME,
    column_copy,
    rendered_column_rename,
    rendered_table_rename,
)
from ..questioner import (
    NOT_NULL_DEFAULT,
    RENAME_COLUMN,
    RENAME_TABLE,
    Question,
    Questioner,
    column_rename_question,
    default_option,
    not_null_question,
    rename_option,
    table_rename_question,
)
from .operations import column_renames, flatten, rendered_type, table_of, table_renames

_Op = TypeVar("_Op", bound=ops.MigrateOperation)


class ColumnRename(ops.AlterColumnOp):
    """``alter_column(..., new_column_name=...)``: Alembic renders the new name where it can, this
    package where it cannot (``ALEMBIC_RENDERS_COLUMN_RENAME``)."""


if not ALEMBIC_RENDERS_COLUMN_RENAME:

    @renderers.dispatch_for(ColumnRename)
    def _render_column_rename(autogen_context: AutogenContext, op: ColumnRename) -> str:
        return rendered_column_rename(autogen_context, op)


class TableRename(ops.RenameTableOp):
    """``rename_table``, rendered by this package: Alembic's autogenerate has no renderer for it."""


@renderers.dispatch_for(TableRename)
def _render_table_rename(autogen_context: AutogenContext, op: TableRename) -> str:
    return rendered_table_rename(autogen_context, op)


def ask_and_rewrite(
    questioner: Questioner, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps, dialect: Dialect
) -> list[Question]:
    """Ask about this engine's operations, rewrite them by the answers; the questions left."""
    questions = _renamed_tables(questioner, upgrade, downgrade, dialect)
    questions += _renamed_columns(questioner, upgrade, downgrade, dialect)
    questions += _one_off_defaults(questioner, upgrade, dialect)
    return questions


def _renamed_columns(
    questioner: Questioner, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps, dialect: Dialect
) -> list[Question]:
    questions = []
    for dropped, added, type_ in column_renames(flatten(upgrade.ops), dialect):
        table, old, new = dropped.table_name, dropped.column_name, added.column.name
        answer = questioner.ask_rename_column(table, old, new, type_)
        if answer is None:
            text = column_rename_question(table, old, new, type_)
            questions.append(Question(RENAME_COLUMN, text, rename_option(f"{table}.{old}", new)))
        if not answer:
            continue
        column = dropped.to_column()
        _on_its_own(upgrade, added, _renaming(table, old, new, column, dropped.schema), before=True)
        _remove(upgrade, added)
        _remove(upgrade, dropped)
        _replace_column_ops(downgrade, table, new, old, column, dropped.schema)
    return questions


def _renaming(table: str, old: str, new: str, column: "Column[Any]", schema: str | None) -> ColumnRename:
    """``alter_column(table, old, new_column_name=new)``, with what it needs to know of the column
    where the database rebuilds it (batch mode, MySQL's ``CHANGE``)."""
    return ColumnRename(
        table,
        old,
        schema=schema,
        modify_name=new,
        existing_type=column.type,
        existing_nullable=column.nullable,
        existing_server_default=column.server_default or False,
    )


def _replace_column_ops(
    downgrade: ops.DowngradeOps, table: str, new: str, old: str, column: "Column[Any]", schema: str | None
) -> None:
    """In the downgrade, the reverse: the old column added back and the new one dropped become one
    rename back."""
    leaves = list(flatten(downgrade.ops))
    add_back = _first(leaves, ops.AddColumnOp, lambda op: (op.table_name, op.column.name) == (table, old))
    drop_new = _first(leaves, ops.DropColumnOp, lambda op: (op.table_name, op.column_name) == (table, new))
    if add_back is None or drop_new is None:  # a downgrade env.py shaped otherwise: leave it be
        return
    _on_its_own(downgrade, add_back, _renaming(table, new, old, column, schema), before=True)
    _remove(downgrade, add_back)
    _remove(downgrade, drop_new)


def _renamed_tables(
    questioner: Questioner, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps, dialect: Dialect
) -> list[Question]:
    questions = []
    for dropped, created in table_renames(flatten(upgrade.ops), dialect):
        old, new = dropped.table_name, created.table_name
        answer = questioner.ask_rename_table(old, new)
        if answer is None:
            questions.append(Question(RENAME_TABLE, table_rename_question(old, new), rename_option(old, new)))
        if not answer:
            continue
        _rename_table_in(upgrade, dropped, created)
        back_created = _first(downgrade.ops, ops.CreateTableOp, _on_table(old))
        back_dropped = _first(downgrade.ops, ops.DropTableOp, _on_table(new))
        if back_created is not None and back_dropped is not None:
            _rename_table_in(downgrade, back_dropped, back_created)
    return questions


def _rename_table_in(
    container: ops.OpContainer, dropped: ops.DropTableOp, created: ops.CreateTableOp
) -> None:
    """The rename where the new table was created (its indexes follow it); the old table's index
    drops, which came before its drop, move before the rename."""
    old = dropped.table_name
    moved = [op for op in container.ops if isinstance(op, ops.DropIndexOp) and op.table_name == old]
    for op in moved:
        container.ops.remove(op)
    rename = TableRename(old, created.table_name, schema=dropped.schema)
    _replace(container, created, rename)
    at = _position(container, rename)
    container.ops[at:at] = moved
    _remove(container, dropped)


def _first(
    operations: Iterable[ops.MigrateOperation], kind: type[_Op], matches: Callable[[_Op], bool]
) -> _Op | None:
    """The first operation of ``kind`` that ``matches``, if any."""
    return next((op for op in operations if isinstance(op, kind) and matches(op)), None)


def _on_table(table: str) -> Callable[[ops.MigrateOperation], bool]:
    return lambda op: table_of(op) == table


def _one_off_defaults(questioner: Questioner, upgrade: ops.UpgradeOps, dialect: Dialect) -> list[Question]:
    """Each NOT NULL column added without a server default (to a table this revision does not
    create: ``add_column`` never does), asked for a one-off default."""
    questions = []
    for op in list(flatten(upgrade.ops)):
        if not isinstance(op, ops.AddColumnOp):
            continue
        column = op.column
        if column.nullable or column.primary_key or column.server_default is not None:
            continue
        type_ = rendered_type(column.type, dialect)
        value = questioner.ask_not_null_addition(op.table_name, column.name, type_)
        if value is None:
            text = not_null_question(op.table_name, column.name, type_)
            questions.append(Question(NOT_NULL_DEFAULT, text, default_option(op.table_name, column.name)))
            continue
        with_default = column_copy(column)
        with_default.server_default = DefaultClause(value)
        added = ops.AddColumnOp(op.table_name, with_default, schema=op.schema)
        _replace(upgrade, op, added)
        drop_default = ops.AlterColumnOp(
            op.table_name,
            column.name,
            schema=op.schema,
            modify_server_default=None,
            existing_type=column.type,
            existing_nullable=False,
            existing_server_default=with_default.server_default,
        )
        _on_its_own(upgrade, added, drop_default, before=False)
    return questions


def _container_of(root: ops.OpContainer, op: ops.MigrateOperation) -> ops.OpContainer:
    """The container (``ModifyTableOps`` or the root) that holds ``op``."""
    if any(child is op for child in root.ops):
        return root
    for child in root.ops:
        if isinstance(child, ops.OpContainer):
            try:
                return _container_of(child, op)
            except LookupError:
                continue
    raise LookupError(op)


def _replace(root: ops.OpContainer, op: ops.MigrateOperation, by: ops.MigrateOperation) -> None:
    container = _container_of(root, op)
    container.ops[_position(container, op)] = by


def _position(container: ops.OpContainer, op: ops.MigrateOperation) -> int:
    """Where ``op`` itself is in ``container`` (operations compare as the same object only)."""
    return next(i for i, child in enumerate(container.ops) if child is op)


def _on_its_own(
    root: ops.OpContainer, beside: ops.MigrateOperation, op: ops.MigrateOperation, before: bool
) -> None:
    """``op`` before (or after) the per-table operations that hold ``beside``, in a container of its
    own: in batch mode each container is one rebuild of the table, and a rename must be done before
    the constraints on the new name are made (a rebuild drops those on a column it renames), a
    one-off default must fill the rows before another rebuild drops it."""
    container = _container_of(root, beside)
    if container is root:
        at = _position(root, beside)
    else:
        at = _position(root, container)
        table = getattr(container, "table_name", None) or table_of(op)
        op = ops.ModifyTableOps(table, [op], schema=getattr(container, "schema", None))
    root.ops.insert(at if before else at + 1, op)


def _remove(root: ops.OpContainer, op: ops.MigrateOperation) -> None:
    """Take ``op`` out; a per-table container it leaves empty goes too (nothing to render)."""
    container = _container_of(root, op)
    container.ops[:] = [child for child in container.ops if child is not op]
    if container is not root and not container.ops:
        _remove(root, container)
