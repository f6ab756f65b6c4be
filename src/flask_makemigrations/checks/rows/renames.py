"""An answered rename keeps its column's data: the values a renamed column holds over the made-up rows
are read before the revision goes up, under the new name after it, and under the old name again after
its downgrade. A rename that autogenerate writes as a drop and an add would lose them; one the
questions wrote (``revisions/answers.py``) must not, on any database (a batch rebuild, MySQL's
``CHANGE``).
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Engine

from ...revisions.operations import flatten


@dataclass(frozen=True)
class Renamed:
    """A column the revision renames, and the values it held before."""

    table: str
    old: str
    new: str
    values: Counter[str]

    def lost(self, engine: Engine, name: str, when: str) -> str | None:
        """What the column, under ``name``, no longer holds; None if it holds the same values."""
        now = column_values(engine, self.table, name)
        if now == self.values:
            return None
        return (
            f"the rename of {self.table}.{self.old} to {self.new} does not keep its values {when} "
            f"(held {sorted(self.values.elements())}, then {sorted(now.elements())})"
        )


def renamed_columns(upgrade_ops: ops.UpgradeOps) -> list[tuple[str, str, str]]:
    """``(table, old, new)`` for each column the operations rename."""
    return [
        (op.table_name, op.column_name, op.modify_name)
        for op in flatten(upgrade_ops.ops)
        if isinstance(op, ops.AlterColumnOp) and op.modify_name
    ]


def read_before(engine: Engine, upgrade_ops: ops.UpgradeOps, tables: set[str]) -> list[Renamed]:
    """The values each column the revision renames holds, in the tables with rows."""
    return [
        Renamed(table, old, new, column_values(engine, table, old))
        for table, old, new in renamed_columns(upgrade_ops)
        if table in tables
    ]


def column_values(engine: Engine, table: str, column: str) -> Counter[str]:
    """The values of one column, as text, counted (the order of rows is the database's own)."""
    selected: sa.Select[Any] = sa.select(sa.column(column)).select_from(sa.table(table))
    with engine.connect() as connection:
        return Counter(str(value) for value in connection.execute(selected).scalars())
