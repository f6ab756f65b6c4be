"""Rewrites of generated operations, registered per operation type and chained, and the completion's
named steps that apply them."""

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from flask_makemigrations.revisions import completion
from flask_makemigrations.revisions.enum_types import EnumTypeOp, NewEnumTypes
from flask_makemigrations.revisions.rewriter import Rewriter


def add(table: str, name: str, type_: sa.types.TypeEngine[Any] | None = None) -> ops.AddColumnOp:
    return ops.AddColumnOp(table, sa.Column(name, type_ if type_ is not None else sa.Integer()))


def test_an_operation_is_replaced_by_what_the_rewrite_of_its_type_returns() -> None:
    rewriter = Rewriter()
    dropped = ops.DropColumnOp("user", "nick")
    kept = ops.DropTableOp("legacy")

    @rewriter.rewrites(ops.DropColumnOp)
    def renamed(op: ops.DropColumnOp) -> list[ops.MigrateOperation]:
        return [ops.AlterColumnOp(op.table_name, op.column_name, modify_name="nickname")]

    upgrade = ops.UpgradeOps([kept, dropped])
    rewriter.rewrite(upgrade)

    assert upgrade.ops[0] is kept
    (altered,) = upgrade.ops[1:]
    assert isinstance(altered, ops.AlterColumnOp) and altered.modify_name == "nickname"


def test_the_most_specific_registered_type_picks_the_rewrite() -> None:
    rewriter = Rewriter()
    rewriter.rewrites(ops.MigrateOperation)(lambda op: [])  # drops whatever nothing else handles
    rewriter.rewrites(ops.AddColumnOp)(lambda op: [op, op])
    column = add("user", "age")

    upgrade = ops.UpgradeOps([ops.DropTableOp("legacy"), column])
    rewriter.rewrite(upgrade)

    assert upgrade.ops == [column, column]


def test_a_chained_rewriter_rewrites_what_the_first_wrote() -> None:
    first, second = Rewriter(), Rewriter()
    first.rewrites(ops.DropTableOp)(lambda op: [ops.DropTableOp(f"{op.table_name}_1")])
    second.rewrites(ops.DropTableOp)(lambda op: [ops.DropTableOp(f"{op.table_name}_2")])
    third = Rewriter()
    third.rewrites(ops.DropTableOp)(lambda op: [ops.DropTableOp(f"{op.table_name}_3")])

    upgrade = ops.UpgradeOps([ops.DropTableOp("t")])
    first.chain(second).chain(third).rewrite(upgrade)

    (dropped,) = upgrade.ops
    assert isinstance(dropped, ops.DropTableOp) and dropped.table_name == "t_1_2_3"


def test_a_second_rewrite_for_one_type_is_refused_rather_than_silently_replacing_the_first() -> None:
    rewriter = Rewriter()
    rewriter.rewrites(ops.DropTableOp)(lambda op: [op])

    with pytest.raises(TypeError, match="DropTableOp already has a rewrite here"):
        rewriter.rewrites(ops.DropTableOp)(lambda op: [])


def test_an_enum_type_is_created_before_the_first_operation_that_needs_it_and_dropped_in_the_downgrade() -> (
    None
):
    context = MigrationContext.configure(dialect_name="postgresql", opts={"as_sql": True})
    schema = context.dialect.default_schema_name
    status = sa.Enum("draft", "published", name="status")
    kind = sa.Enum("a", "b", name="kind")  # the database has it already
    in_new_table = sa.Enum("x", name="color")  # create_table creates it
    first, second = add("post", "status", status), add("page", "status", status)
    new_table = ops.CreateTableOp("box", [sa.Column("color", in_new_table)])
    upgrade = ops.UpgradeOps(
        [
            ops.ModifyTableOps("post", [first]),
            new_table,
            ops.ModifyTableOps("page", [second]),
            add("t", "k", kind),
        ]
    )
    new_types = NewEnumTypes(context, {f"{schema}.kind": ["a", "b"]})

    new_types.rewriter.rewrite(upgrade)

    created = upgrade.ops[0]
    assert isinstance(created, EnumTypeOp) and created.create and created.enum is status
    assert [type(op) for op in upgrade.ops[1:]] == [
        ops.ModifyTableOps,
        ops.CreateTableOp,
        ops.ModifyTableOps,
        ops.AddColumnOp,
    ]
    dropped_types = new_types.drops()
    drops = [op for op in dropped_types if isinstance(op, EnumTypeOp)]
    assert drops == dropped_types
    assert [(op.enum.name, op.create) for op in drops] == [("color", False), ("status", False)]


def test_the_completion_is_its_named_steps_in_order() -> None:
    assert [step.__name__ for step in completion.STEPS] == [
        "with_answers",
        "with_drift",
        "in_stable_order",
        "with_custom_type_imports",
        "with_enum_types",
        "in_safe_forms",
    ]
    assert all(step.__doc__ for step in completion.STEPS)
