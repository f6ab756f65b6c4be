"""The operations autogenerate found, in the same order in every process.

Alembic's comparison iterates sets in places: the tables it drops, the columns it drops, the foreign
keys it drops and adds, unnamed unique constraints. A set of strings comes out in another order in
each process (string hashes are salted per process), so the same models and history gave the same
operations in other orders: in the revision file, on stdout and in JSON, which CI cannot diff or
cache. Before the script is rendered they are put in a stable order, keeping every order that
matters:

- Alembic's sequence of groups stays: tables created in dependency order (``sorted_tables``: a table
  after the tables it refers to, ties by name), each followed by its indexes; then the tables
  dropped; then each existing table's changes, by table name.
- Tables dropped: a table whose foreign key refers to another dropped table is dropped before it
  (Alembic drops them in set order, which a server refuses), ties by name; each with the drops of its
  indexes and constraints just before it, as Alembic groups them.
- Within a table, Alembic's sequence of kinds stays (columns added in the models' order, columns
  altered, indexes and unique constraints dropped and created, foreign keys dropped then created,
  columns dropped): only consecutive operations of one kind are sorted, by the code Alembic renders
  for them (columns dropped: the last in the table first, so that the downgrade adds them back in
  the table's order). Those commute: each adds or drops an object of its own.

The downgrade follows: autogenerate makes it the mirror of the upgrade (its i-th operation from the
end undoes the upgrade's i-th, within a table too), and operations added after it keep that (drift's
at the end of the upgrade and the start of the downgrade), so it is put in the mirrored order rather
than rebuilt from the upgrade, which would lose a downgrade given with its operation (Alembic cannot
reverse raw SQL). One that is not a mirror is left as it is.

One difference is not an order: since 1.16 Alembic marks every name it reflects as final
(``conv``, rendered through ``op.f()``), but with SQLAlchemy 1.4 it misses a dropped table that the
reflection of another one pulled in through a foreign key, which set order decides. The tables the
downgrade creates back get their constraints' names marked alike, as Alembic marks those it reflects
itself.
"""

import itertools
from dataclasses import dataclass, field

from alembic.autogenerate import render_python_code
from alembic.operations import ops
from sqlalchemy.schema import Constraint, conv

from ..compat import ALEMBIC_MARKS_REFLECTED_NAMES

#: (schema, name) of a table.
TableKey = tuple[str, str]

#: The operations within a table whose runs are sorted: Alembic emits each kind from a set or a
#: sorted list, and two of one kind commute. Columns added are not among them: their order is the
#: models' column order, which the database keeps.
_COMMUTING = (
    ops.DropColumnOp,
    ops.CreateIndexOp,
    ops.DropIndexOp,
    ops.AddConstraintOp,
    ops.DropConstraintOp,
)


def put_in_stable_order(upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps) -> None:
    """Order one engine's operations (see the module's docstring), and its downgrade with them."""
    if ALEMBIC_MARKS_REFLECTED_NAMES:
        _mark_names_of_recreated_tables(upgrade, downgrade)
    mirrored = len(upgrade.ops) == len(downgrade.ops)
    _reorder(upgrade, downgrade if mirrored else None, _top_level_order(upgrade.ops))
    for index, operation in enumerate(upgrade.ops):
        if isinstance(operation, ops.ModifyTableOps):
            partner = downgrade.ops[-1 - index] if mirrored else None
            if not isinstance(partner, ops.ModifyTableOps) or len(partner.ops) != len(operation.ops):
                partner = None
            _reorder(operation, partner, _table_order(operation.ops))


def _mark_names_of_recreated_tables(upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps) -> None:
    """Mark the constraints' names of each table the upgrade drops and the downgrade creates back as
    reflected (``conv``), as Alembic marks them in the tables it reflects itself: whether it missed
    one depends on the order of a set."""
    dropped = {_key(operation) for operation in upgrade.ops if isinstance(operation, ops.DropTableOp)}
    for operation in downgrade.ops:
        if isinstance(operation, ops.CreateTableOp) and _key(operation) in dropped:
            for constraint in operation.columns:
                if (
                    isinstance(constraint, Constraint)
                    and isinstance(constraint.name, str)
                    and not isinstance(constraint.name, conv)
                ):
                    constraint.name = conv(constraint.name)


def _reorder(container: ops.OpContainer, mirror: ops.OpContainer | None, order: list[int]) -> None:
    """Put the container's operations in ``order`` (their indices), and its mirror's (whose i-th from
    the end undoes the container's i-th) in the reverse of it."""
    last = len(order) - 1
    container.ops[:] = [container.ops[index] for index in order]
    if mirror is not None:
        mirror.ops[:] = [mirror.ops[last - index] for index in reversed(order)]


@dataclass
class _Group:
    """Top-level operations that move together (their indices): a table's ``drop_table`` with the
    operations Alembic puts just before it for that table (``dropped`` names it), or any one other."""

    indices: list[int]
    dropped: TableKey | None = None
    refers_to: set[TableKey] = field(default_factory=set)


def _top_level_order(operations: list[ops.MigrateOperation]) -> list[int]:
    """The top-level operations' order: each run of consecutive table drops in dependency order."""
    groups: list[_Group] = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, ops.DropTableOp):
            groups.append(_Group([index]))
            continue
        drop = _Group([index], _key(operation), _referred_tables(operation))
        before = operations[index - 1] if groups and groups[-1].dropped is None else None
        if isinstance(before, ops.ModifyTableOps) and _key(before) == drop.dropped:
            drop.indices.insert(0, groups.pop().indices[0])
        groups.append(drop)
    order: list[int] = []
    for dropping, grouped in itertools.groupby(groups, key=lambda group: group.dropped is not None):
        run = list(grouped)
        for group in _dropped_in_order(run) if dropping else run:
            order += group.indices
    return order


def _dropped_in_order(drops: list[_Group]) -> list[_Group]:
    """Each next, the first by name that no table still to be dropped refers to (in a cycle of
    foreign keys, which no order can drop, the first by name)."""
    remaining = sorted(drops, key=lambda drop: drop.dropped or ("", ""))
    ordered = []
    while remaining:
        referred = {table for drop in remaining for table in drop.refers_to - {drop.dropped}}
        ready = next((drop for drop in remaining if drop.dropped not in referred), remaining[0])
        ordered.append(ready)
        remaining.remove(ready)
    return ordered


def _referred_tables(drop: ops.DropTableOp) -> set[TableKey]:
    """The tables the dropped table's foreign keys refer to, as its downgrade would create it."""
    table = drop.to_table()
    return {
        (constraint.referred_table.schema or "", constraint.referred_table.name)
        for constraint in table.foreign_key_constraints
    }


def _key(operation: ops.DropTableOp | ops.CreateTableOp | ops.ModifyTableOps) -> TableKey:
    return (operation.schema or "", operation.table_name)


def _table_order(operations: list[ops.MigrateOperation]) -> list[int]:
    """A table's operations' order: each run of consecutive commuting ones of one kind sorted by
    the code Alembic renders for each."""
    order: list[int] = []
    for kind, grouped in itertools.groupby(
        range(len(operations)), key=lambda i: _commuting_kind(operations[i])
    ):
        run = list(grouped)
        order += _sorted_by_rendering(run, operations) if kind is not None and len(run) > 1 else run
    return order


def _sorted_by_rendering(run: list[int], operations: list[ops.MigrateOperation]) -> list[int]:
    """The run's indices sorted by the code Alembic renders for their operations (columns dropped:
    the last in the table first, so that the downgrade adds them back in their order); as they are
    if one cannot be rendered here (an extension's operation that needs its own context): then
    Alembic's error, if any, comes from the script's own rendering, which says what failed."""
    try:
        return sorted(run, key=lambda i: (-_place_in_table(operations[i]), _rendered(operations[i])))
    except Exception:
        return run


def _rendered(operation: ops.MigrateOperation) -> str:
    return render_python_code(ops.UpgradeOps(ops=[operation]))


def _place_in_table(operation: ops.MigrateOperation) -> int:
    """A dropped column's place in the table it was reflected in (0 for anything else)."""
    if not isinstance(operation, ops.DropColumnOp):
        return 0
    column = operation.to_column()
    table = getattr(column, "table", None)
    columns = list(table.columns) if table is not None else []
    return next((place for place, each in enumerate(columns) if each is column), 0)


def _commuting_kind(operation: ops.MigrateOperation) -> tuple[type, str | None] | None:
    """The kind of a commuting operation: its class, and for a dropped constraint its type (Alembic
    drops unique constraints and foreign keys in separate steps, in that order), else None."""
    if not isinstance(operation, _COMMUTING):
        return None
    return type(operation), getattr(operation, "constraint_type", None)
