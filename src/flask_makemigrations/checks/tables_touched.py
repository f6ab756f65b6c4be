"""The tables a revision's upgrade changes, read from its source with ``ast``, without importing it.

``--against`` compares what this branch's revisions and the target branch's change: two revisions
that alter the same table merge cleanly in git (they are different files) and may still not apply one
after the other. Only what the source says outright counts: an ``op`` call whose table is a string
literal (or ``sa.table('name')``, as ``bulk_insert`` takes it) and a ``batch_alter_table('name')``
block; what only running the code could tell (``op.execute``, a table name in a variable) is skipped.
The target branch's files are never imported for this: they are read as text.
"""

import ast
from dataclasses import dataclass

#: Each ``op`` call that changes a table: where its table names are, (position, keyword) each.
TABLE_ARGUMENTS: dict[str, tuple[tuple[int, str], ...]] = {
    "create_table": ((0, "table_name"),),
    "drop_table": ((0, "table_name"),),
    "rename_table": ((0, "old_table_name"), (1, "new_table_name")),
    "add_column": ((0, "table_name"),),
    "drop_column": ((0, "table_name"),),
    "alter_column": ((0, "table_name"),),
    "create_table_comment": ((0, "table_name"),),
    "drop_table_comment": ((0, "table_name"),),
    "bulk_insert": ((0, "table"),),
    "batch_alter_table": ((0, "table_name"),),
    "create_index": ((1, "table_name"),),
    "drop_index": ((1, "table_name"),),
    "create_unique_constraint": ((1, "table_name"),),
    "create_check_constraint": ((1, "table_name"),),
    "create_primary_key": ((1, "table_name"),),
    "create_exclude_constraint": ((1, "table_name"),),
    "drop_constraint": ((1, "table_name"),),
    "create_foreign_key": ((1, "source_table"),),  # the table that gets the key, not the one it refers to
}
#: The upgrade functions: ``upgrade``, and a multi-database revision's ``upgrade_<bind>`` (``upgrade_``
#: for the main database).
UPGRADE = "upgrade"


@dataclass(frozen=True, order=True)
class Touched:
    """A table an upgrade changes, in its bind (``""``: the main database)."""

    bind: str
    table: str

    def __str__(self) -> str:
        return f"{self.bind}: {self.table}" if self.bind else self.table


def tables_touched(source: str | bytes) -> set[Touched]:
    """The tables the upgrade functions of a revision's ``source`` change (none if it does not parse)."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    op_names = _op_names(module)
    touched = set()
    for function in module.body:
        if isinstance(function, ast.FunctionDef) and _bind_of_upgrade(function.name) is not None:
            bind = _bind_of_upgrade(function.name) or ""
            touched |= {Touched(bind, table) for table in _tables_in(function, op_names)}
    return touched


def _bind_of_upgrade(name: str) -> str | None:
    """The bind an upgrade function migrates (``""``: the main database), or None if it is not one."""
    if name == UPGRADE:
        return ""
    prefix = f"{UPGRADE}_"
    return name.removeprefix(prefix) if name.startswith(prefix) else None


def _op_names(module: ast.Module) -> set[str]:
    """The names Alembic's ``op`` goes by in the module: ``op``, and what ``import ... as`` says."""
    names = {"op"}
    for statement in module.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "alembic":
            names |= {alias.asname or alias.name for alias in statement.names if alias.name == "op"}
    return names


def _tables_in(function: ast.FunctionDef, op_names: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in op_names
            and node.func.attr in TABLE_ARGUMENTS
        ):
            schema = _literal(_argument(node, None, "schema"))
            for position, keyword in TABLE_ARGUMENTS[node.func.attr]:
                table = _table_name(_argument(node, position, keyword))
                if table is not None:
                    found.add(f"{schema}.{table}" if schema else table)
    return found


def _argument(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for given in call.keywords:
        if given.arg == keyword:
            return given.value
    if position is not None and position < len(call.args):
        return call.args[position]
    return None


def _table_name(node: ast.expr | None) -> str | None:
    """A table's name as a literal, or as ``sa.table('name', ...)``/``Table('name', ...)`` gives it."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in ("table", "Table")
        and node.args
    ):
        return _literal(node.args[0])
    return _literal(node)


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
