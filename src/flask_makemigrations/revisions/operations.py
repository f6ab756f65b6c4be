"""One line per operation that autogenerate detected, for people and for ``--check`` output, which
also says what it is for ``--format json`` (``findings.Finding``).

``+`` adds, ``-`` removes, ``~`` changes: ``+ column user.email``, ``- table legacy``,
``~ column user.name (type VARCHAR(80) -> VARCHAR(120))``, each type as the database gets it.
"""

import io
from collections.abc import Iterable, Iterator
from typing import Any

from alembic.operations import Operations, ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.types import NullType, TypeEngine

from ..findings import Finding


def flatten(operations: Iterable[ops.MigrateOperation]) -> Iterator[ops.MigrateOperation]:
    """Alembic nests per-table operations (``ModifyTableOps``); list the leaves in order."""
    for op in operations:
        if isinstance(op, ops.OpContainer):
            yield from flatten(op.ops)
        else:
            yield op


#: How Alembic ends each statement it writes as SQL (``--sql``).
_TERMINATOR = ";\n\n"


def offline_sql(op: ops.MigrateOperation, dialect: Dialect) -> list[str]:
    """The statements an operation runs, as Alembic itself writes them for ``dialect`` in its offline
    mode (``--sql``); an operation of this tool's says its own (``statements()``). None, for one that
    Alembic cannot write as SQL (no implementation, or one that needs a database)."""
    own = getattr(op, "statements", None)
    if callable(own):
        return list(own())
    buffer = io.StringIO()
    context = MigrationContext.configure(dialect=dialect, opts={"as_sql": True, "output_buffer": buffer})
    try:
        Operations(context).invoke(op)
    except Exception:
        return []
    return [sql.strip() for sql in buffer.getvalue().split(_TERMINATOR) if sql.strip()]


def describe(op: ops.MigrateOperation, dialect: Dialect | None = None) -> Finding:
    """The operation's line, with its kind (Alembic's name for it) and the objects it names; types
    as ``dialect`` (the migration context's) spells them."""
    own = getattr(op, "describe", None)  # an operation of this tool's (enum_types.EnumTypeOp)
    if callable(own) and isinstance(line := own(), Finding):
        return line
    if isinstance(op, ops.CreateTableOp):
        return Finding(f"+ table {op.table_name}", "create_table", table=op.table_name)
    if isinstance(op, ops.DropTableOp):
        return Finding(f"- table {op.table_name}", "drop_table", table=op.table_name)
    if isinstance(op, ops.RenameTableOp):
        line = f"~ table {op.table_name} renamed to {op.new_table_name}"
        return Finding(line, "rename_table", table=op.table_name, new_table=op.new_table_name)
    if isinstance(op, ops.AddColumnOp):
        line = f"+ column {op.table_name}.{op.column.name}"
        return Finding(line, "add_column", table=op.table_name, column=op.column.name)
    if isinstance(op, ops.DropColumnOp):
        line = f"- column {op.table_name}.{op.column_name}"
        return Finding(line, "drop_column", table=op.table_name, column=op.column_name)
    if isinstance(op, ops.AlterColumnOp):
        changes = _alterations(op, dialect)
        line = f"~ column {op.table_name}.{op.column_name} ({changes})"
        return Finding(line, "alter_column", table=op.table_name, column=op.column_name, changes=changes)
    if isinstance(op, ops.CreateIndexOp):
        line = f"+ index {op.index_name} on {op.table_name}"
        return Finding(line, "create_index", table=op.table_name, index=op.index_name)
    if isinstance(op, ops.DropIndexOp):
        line = f"- index {op.index_name} on {op.table_name}"
        return Finding(line, "drop_index", table=op.table_name, index=op.index_name)
    if isinstance(op, ops.AddConstraintOp):
        return _constraint_line("+", op, "add_constraint")
    if isinstance(op, ops.DropConstraintOp):
        return _constraint_line("-", op, "drop_constraint")
    target = getattr(getattr(op, "target", None), "identity", None)  # alembic-utils' view, function...
    if isinstance(target, str):
        return Finding(f"~ {type(op).__name__} {target}", "other", objects=[target])
    return Finding(f"~ {type(op).__name__} on {table_of(op)}", "other", table=table_of(op))


def table_of(op: ops.MigrateOperation) -> str:
    """The table an operation works on; a new foreign key names it ``source_table``."""
    return getattr(op, "table_name", None) or getattr(op, "source_table", None) or "?"


def _alterations(op: ops.AlterColumnOp, dialect: Dialect | None) -> str:
    changes = []
    if op.modify_type is not None:
        before = rendered_type(op.existing_type, dialect) if op.existing_type is not None else "?"
        changes.append(f"type {before} -> {rendered_type(op.modify_type, dialect)}")
    if op.modify_nullable is not None:
        changes.append("nullable" if op.modify_nullable else "not null")
    if op.modify_server_default is not False:
        changes.append("server default")
    if op.modify_comment is not False:
        changes.append("comment")
    if op.modify_name is not None:
        changes.append(f"renamed to {op.modify_name}")
    return ", ".join(changes) or "changed"


def constraint_named(op: ops.AddConstraintOp | ops.DropConstraintOp) -> str:
    """``foreign key fk_post_author_id_user on post``; a constraint without a name (the database
    picks one) by its columns instead, so that two of them can be told apart:
    ``foreign key on post (editor_id -> user.id)``."""
    kind, name, table = _constraint_kind(op), constraint_name(op), table_of(op)
    if name:
        return f"{kind} {name} on {table}"
    shape = _constraint_shape(op)
    return f"{kind} on {table} ({shape})" if shape else f"{kind} on {table}"


def constraint_name(op: ops.AddConstraintOp | ops.DropConstraintOp) -> str | None:
    """The constraint's name, or None where the database will pick one."""
    name = getattr(op, "constraint_name", None)  # set by each of Alembic's AddConstraintOp classes
    return name if isinstance(name, str) and name else None


def _constraint_line(sign: str, op: ops.AddConstraintOp | ops.DropConstraintOp, kind: str) -> Finding:
    return Finding(
        f"{sign} {constraint_named(op)}",
        kind,
        table=table_of(op),
        constraint=constraint_name(op),
        type=_constraint_kind(op),
        **_constraint_parts(op),
    )


def _constraint_kind(op: ops.AddConstraintOp | ops.DropConstraintOp) -> str:
    kind = getattr(op, "constraint_type", None) or "constraint"
    return {
        "foreignkey": "foreign key",
        "unique": "unique constraint",
        "check": "check constraint",
        "primary": "primary key",  # a drop's name for it
        "primarykey": "primary key",  # an add's
    }.get(kind, kind)


def _constraint_parts(op: ops.AddConstraintOp | ops.DropConstraintOp) -> dict[str, Any]:
    """What the constraint is made of, as JSON fields: its ``columns``, a foreign key's
    ``referred_table`` and ``referred_columns``, a check constraint's ``condition``. A drop knows it
    when autogenerate found the constraint in the database (``reverse()``: the constraint as added)."""
    if isinstance(op, ops.DropConstraintOp):
        try:
            op = op.reverse()
        except ValueError:  # a hand-made drop that names the constraint only
            return {}
    if isinstance(op, ops.CreateForeignKeyOp):
        return {
            "columns": list(op.local_cols),
            "referred_table": op.referent_table,
            "referred_columns": list(op.remote_cols),
        }
    if isinstance(op, ops.CreateUniqueConstraintOp | ops.CreatePrimaryKeyOp):
        return {"columns": [getattr(column, "name", column) for column in op.columns]}
    if isinstance(op, ops.CreateCheckConstraintOp):
        return {"condition": str(op.condition)}
    return {}


def _constraint_shape(op: ops.AddConstraintOp | ops.DropConstraintOp) -> str:
    """The parts as the verification's differences show them (``editor_id -> user.id``)."""
    parts = _constraint_parts(op)
    if "condition" in parts:
        return str(parts["condition"])
    columns = ", ".join(parts.get("columns", []))
    if "referred_table" in parts:
        return f"{columns} -> {parts['referred_table']}.{', '.join(parts['referred_columns'])}"
    return columns


def describe_all(upgrade_ops: ops.UpgradeOps, dialect: Dialect | None = None) -> list[str]:
    """Each one's line (a ``Finding``: it says what it is, for ``--format json``)."""
    return [describe(op, dialect) for op in flatten(upgrade_ops.ops)]


def column_renames(
    operations: Iterable[ops.MigrateOperation], dialect: Dialect | None
) -> list[tuple[ops.DropColumnOp, ops.AddColumnOp, str]]:
    """The pairs that may be a rename: in one table, a column dropped and one added with the same
    type (as ``dialect`` spells it, the third item), each column in one pair at most."""
    leaves = list(operations)
    added = [op for op in leaves if isinstance(op, ops.AddColumnOp)]
    pairs = []
    for dropped in (op for op in leaves if isinstance(op, ops.DropColumnOp)):
        old_type = dropped.to_column().type
        type_ = rendered_type(old_type, dialect)
        match = next(
            (
                op
                for op in added
                if op.table_name == dropped.table_name and rendered_type(op.column.type, dialect) == type_
            ),
            None,
        )
        if match is not None and not isinstance(old_type, NullType):
            added.remove(match)
            pairs.append((dropped, match, type_))
    return pairs


def table_renames(
    operations: Iterable[ops.MigrateOperation], dialect: Dialect | None
) -> list[tuple[ops.DropTableOp, ops.CreateTableOp]]:
    """The pairs that may be a rename: a table dropped and one created with the same columns (names
    and types), each table in one pair at most."""
    leaves = list(operations)
    created = [op for op in leaves if isinstance(op, ops.CreateTableOp)]
    pairs = []
    for dropped in (op for op in leaves if isinstance(op, ops.DropTableOp)):
        shape = columns_shape(dropped.to_table().columns, dialect)
        match = next((op for op in created if columns_shape(op.to_table().columns, dialect) == shape), None)
        if shape and match is not None:
            created.remove(match)
            pairs.append((dropped, match))
    return pairs


def columns_shape(columns: Iterable["Column[Any]"], dialect: Dialect | None) -> frozenset[tuple[str, str]]:
    """A table's columns, by name and type: what two tables that are one renamed have alike."""
    return frozenset((c.name, rendered_type(c.type, dialect)) for c in columns)


def rendered_type(type_: TypeEngine[Any], dialect: Dialect | None) -> str:
    """A type as this database spells it: what it gets (a PostgreSQL enum type's name, not the
    VARCHAR of the generic ``Enum``), and a reflected VARCHAR(80) equals the models' String(80)."""
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # a type the dialect cannot render: its repr still tells types apart
        return repr(type_)
