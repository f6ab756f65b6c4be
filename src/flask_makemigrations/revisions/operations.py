"""One line per operation that autogenerate detected, for people and for ``--check`` output, which
also says what it is for ``--format json`` (``described.Described``).

``+`` adds, ``-`` removes, ``~`` changes: ``+ column user.email``, ``- table legacy``,
``~ column user.name (type VARCHAR(80) -> VARCHAR(120))``.
"""

from collections.abc import Iterable, Iterator

from alembic.operations import ops

from ..described import Described


def flatten(operations: Iterable[ops.MigrateOperation]) -> Iterator[ops.MigrateOperation]:
    """Alembic nests per-table operations (``ModifyTableOps``); list the leaves in order."""
    for op in operations:
        if isinstance(op, ops.OpContainer):
            yield from flatten(op.ops)
        else:
            yield op


def describe(op: ops.MigrateOperation) -> Described:
    """The operation's line, with its kind (Alembic's name for it) and the objects it names."""
    own = getattr(op, "describe", None)  # an operation of this tool's (enum_types.EnumTypeOp)
    if callable(own) and isinstance(line := own(), Described):
        return line
    if isinstance(op, ops.CreateTableOp):
        return Described(f"+ table {op.table_name}", "create_table", table=op.table_name)
    if isinstance(op, ops.DropTableOp):
        return Described(f"- table {op.table_name}", "drop_table", table=op.table_name)
    if isinstance(op, ops.AddColumnOp):
        line = f"+ column {op.table_name}.{op.column.name}"
        return Described(line, "add_column", table=op.table_name, column=op.column.name)
    if isinstance(op, ops.DropColumnOp):
        line = f"- column {op.table_name}.{op.column_name}"
        return Described(line, "drop_column", table=op.table_name, column=op.column_name)
    if isinstance(op, ops.AlterColumnOp):
        changes = _alterations(op)
        line = f"~ column {op.table_name}.{op.column_name} ({changes})"
        return Described(line, "alter_column", table=op.table_name, column=op.column_name, changes=changes)
    if isinstance(op, ops.CreateIndexOp):
        line = f"+ index {op.index_name} on {op.table_name}"
        return Described(line, "create_index", table=op.table_name, index=op.index_name)
    if isinstance(op, ops.DropIndexOp):
        line = f"- index {op.index_name} on {op.table_name}"
        return Described(line, "drop_index", table=op.table_name, index=op.index_name)
    if isinstance(op, ops.AddConstraintOp):
        kind, name, table = _constraint_kind(op), getattr(op, "constraint_name", None), table_of(op)
        return Described(
            f"+ {kind} {name} on {table}", "add_constraint", table=table, constraint=name, type=kind
        )
    if isinstance(op, ops.DropConstraintOp):
        line = f"- constraint {op.constraint_name} on {op.table_name}"
        return Described(line, "drop_constraint", table=op.table_name, constraint=op.constraint_name)
    target = getattr(getattr(op, "target", None), "identity", None)  # alembic-utils' view, function...
    if isinstance(target, str):
        return Described(f"~ {type(op).__name__} {target}", "other", objects=[target])
    return Described(f"~ {type(op).__name__} on {table_of(op)}", "other", table=table_of(op))


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
    """Each one's line (a ``Described``: it says what it is, for ``--format json``)."""
    return [describe(op) for op in flatten(upgrade_ops.ops)]
