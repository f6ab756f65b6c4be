"""One line per operation that autogenerate detected, for people and for ``--check`` output.

``+`` adds, ``-`` removes, ``~`` changes: ``+ column user.email``, ``- table legacy``,
``~ column user.name (type VARCHAR(80) -> VARCHAR(120))``.
"""

from collections.abc import Iterable, Iterator

from alembic.operations import ops


def flatten(operations: Iterable[ops.MigrateOperation]) -> Iterator[ops.MigrateOperation]:
    """Alembic nests per-table operations (``ModifyTableOps``); list the leaves in order."""
    for op in operations:
        if isinstance(op, ops.OpContainer):
            yield from flatten(op.ops)
        else:
            yield op


def describe(op: ops.MigrateOperation) -> str:
    if isinstance(op, ops.CreateTableOp):
        return f"+ table {op.table_name}"
    if isinstance(op, ops.DropTableOp):
        return f"- table {op.table_name}"
    if isinstance(op, ops.AddColumnOp):
        return f"+ column {op.table_name}.{op.column.name}"
    if isinstance(op, ops.DropColumnOp):
        return f"- column {op.table_name}.{op.column_name}"
    if isinstance(op, ops.AlterColumnOp):
        return f"~ column {op.table_name}.{op.column_name} ({_alterations(op)})"
    if isinstance(op, ops.CreateIndexOp):
        return f"+ index {op.index_name} on {op.table_name}"
    if isinstance(op, ops.DropIndexOp):
        return f"- index {op.index_name} on {op.table_name}"
    if isinstance(op, ops.AddConstraintOp):
        return f"+ {_constraint_kind(op)} {getattr(op, 'constraint_name', None)} on {table_of(op)}"
    if isinstance(op, ops.DropConstraintOp):
        return f"- constraint {op.constraint_name} on {op.table_name}"
    return f"~ {type(op).__name__} on {table_of(op)}"


def table_of(op: ops.MigrateOperation) -> str:
    """The table an operation works on; a new foreign key names it ``source_table``."""
    return getattr(op, "table_name", None) or getattr(op, "source_table", None) or "?"


def _alterations(op: ops.AlterColumnOp) -> str:
    changes = []
    if op.modify_type is not None:
        changes.append(f"type {op.existing_type} -> {op.modify_type}")
    if op.modify_nullable is not None:
        changes.append("nullable" if op.modify_nullable else "not null")
    if op.modify_server_default is not False:
        changes.append("server default")
    if op.modify_comment is not False:
        changes.append("comment")
    if op.modify_name is not None:
        changes.append(f"renamed to {op.modify_name}")
    return ", ".join(changes) or "changed"


def _constraint_kind(op: ops.AddConstraintOp) -> str:
    kind = getattr(op, "constraint_type", None) or "constraint"
    return {"foreignkey": "foreign key", "unique": "unique constraint", "check": "check constraint"}.get(
        kind, kind
    )


def describe_all(upgrade_ops: ops.UpgradeOps) -> list[str]:
    return [describe(op) for op in flatten(upgrade_ops.ops)]
