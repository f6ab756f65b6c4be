"""Each review rule on hand-built Alembic operations: what it warns about, and what it leaves alone."""

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from flask_makemigrations.checks.review import (
    EXPLAINING_RULES,
    RULES,
    Revision,
    column_dropped,
    foreign_key_dropped,
    foreign_key_recreated,
    likely_column_rename,
    likely_table_rename,
    made_not_null,
    not_null_column_added,
    review,
    table_dropped,
    type_changed,
    unique_constraint_added,
    unique_index_added,
)
from flask_makemigrations.findings import Finding

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect class is untyped


def revision(*operations: ops.MigrateOperation, batch: bool = False) -> Revision:
    return Revision(operations, DIALECT, batch)


def kinds(found: list[Finding]) -> list[str]:
    return [finding.kind for finding in found]


def add_column(table: str, column: sa.Column[Any]) -> ops.AddColumnOp:
    return ops.AddColumnOp(table, column)


def drop_column(table: str, name: str) -> ops.DropColumnOp:
    return ops.DropColumnOp.from_column_and_tablename(None, table, sa.Column(name, sa.String(80)))


def create_table(name: str, *columns: sa.Column[Any]) -> ops.CreateTableOp:
    return ops.CreateTableOp(name, list(columns))


def drop_table(name: str, *columns: sa.Column[Any]) -> ops.DropTableOp:
    return ops.DropTableOp.from_table(sa.Table(name, sa.MetaData(), *columns))


def drop_foreign_key(table: str, name: str | None) -> ops.DropConstraintOp:
    return ops.DropConstraintOp(name, table, type_="foreignkey")


@pytest.mark.version_independent  # the rules' own docstrings
@pytest.mark.parametrize("rule", [*EXPLAINING_RULES, *RULES], ids=lambda rule: rule.__name__)
def test_every_rule_says_why_it_exists(rule: Callable[..., object]) -> None:
    assert rule.__doc__ and len(rule.__doc__.split()) >= 8


def test_a_dropped_table_and_column_lose_data_and_other_operations_do_not() -> None:
    dropped_table, dropped_column = (
        drop_table("legacy", sa.Column("id", sa.Integer)),
        drop_column("user", "nick"),
    )
    harmless = add_column("user", sa.Column("email", sa.String(80), nullable=True))
    every = revision(dropped_table, dropped_column, harmless)

    assert table_dropped(dropped_table, every) == [
        "table legacy is dropped: every row in it is lost when this revision runs."
    ]
    assert column_dropped(dropped_column, every) == [
        "column user.nick is dropped: its data is lost when this revision runs."
    ]
    assert [rule(harmless, every) for rule in RULES] == [[] for _ in RULES]


def test_a_dropped_foreign_key_is_named_or_told_by_its_table() -> None:
    named, unnamed = drop_foreign_key("post", "fk_post_user"), drop_foreign_key("post", None)

    (warning,) = foreign_key_dropped(named, revision(named))
    assert warning.startswith("foreign key fk_post_user on post is dropped: the database no longer checks")
    assert warning.fields == {"objects": ["post", "fk_post_user"]}
    assert foreign_key_dropped(unnamed, revision(unnamed))[0].fields == {"objects": ["post"]}
    assert foreign_key_dropped(ops.DropConstraintOp("uq_x", "post", type_="unique"), revision()) == []


def test_a_foreign_key_dropped_and_created_again_under_its_name_is_explained_without_a_warning() -> None:
    dropped = drop_foreign_key("post", "fk_post_user")
    created = ops.CreateForeignKeyOp("fk_post_user", "post", "user", ["user_id"], ["id"], ondelete="CASCADE")
    unnamed = drop_foreign_key("post", None)

    (explanation,) = foreign_key_recreated(revision(dropped, created, unnamed))

    assert explanation.finding is None and explanation.operations == (dropped,)
    assert review(ops.UpgradeOps([dropped, created])) == []


def test_a_not_null_column_without_a_server_default_fails_only_on_a_table_with_rows() -> None:
    needed = add_column("user", sa.Column("age", sa.Integer, nullable=False))
    defaulted = add_column("user", sa.Column("age", sa.Integer, nullable=False, server_default="0"))
    in_new_table = add_column("team", sa.Column("age", sa.Integer, nullable=False))
    new_table = create_table("team", sa.Column("id", sa.Integer, primary_key=True))

    assert kinds(not_null_column_added(needed, revision(needed))) == ["not_null_without_default"]
    assert not_null_column_added(defaulted, revision(defaulted)) == []
    assert not_null_column_added(in_new_table, revision(new_table, in_new_table)) == []


def test_a_column_made_not_null_needs_its_null_rows_filled_unless_it_has_a_server_default() -> None:
    made = ops.AlterColumnOp("user", "age", modify_nullable=False)
    with_default = ops.AlterColumnOp("user", "age", modify_nullable=False, existing_server_default="0")

    (warning,) = made_not_null(made, revision(made))
    assert warning.startswith("column user.age is made NOT NULL without a server default")
    assert made_not_null(with_default, revision(with_default)) == []
    assert made_not_null(ops.AlterColumnOp("user", "age", modify_nullable=True), revision()) == []


def test_a_type_of_another_kind_or_narrower_may_lose_values_and_a_wider_one_does_not() -> None:
    other_kind = ops.AlterColumnOp("user", "age", existing_type=sa.String(10), modify_type=sa.Integer())
    narrower = ops.AlterColumnOp("user", "nick", existing_type=sa.String(80), modify_type=sa.String(20))
    wider = ops.AlterColumnOp("user", "nick", existing_type=sa.String(20), modify_type=sa.String(80))

    assert kinds(type_changed(other_kind, revision(other_kind))) == ["type_changed"]
    assert type_changed(narrower, revision(narrower)) == [
        "column user.nick changes type VARCHAR(80) -> VARCHAR(20), a narrower type: longer or larger "
        "existing values are truncated or refused."
    ]
    assert type_changed(wider, revision(wider)) == []


def test_something_unique_fails_on_duplicates_but_not_on_new_empty_columns() -> None:
    index = ops.CreateIndexOp("ix_user_email", "user", ["email"], unique=True)
    constraint = ops.CreateUniqueConstraintOp("uq_user_email", "user", ["email"])
    new_column = add_column("user", sa.Column("email", sa.String(80), nullable=True))

    (warning,) = unique_index_added(index, revision(index))
    assert warning.endswith("SELECT email, COUNT(*) FROM user GROUP BY email HAVING COUNT(*) > 1")
    assert kinds(unique_constraint_added(constraint, revision(constraint))) == ["unique_added"]
    assert unique_index_added(index, revision(new_column, index)) == []
    plain = ops.CreateIndexOp("ix_user_email", "user", ["email"])
    assert unique_index_added(plain, revision(plain)) == []


def test_a_column_dropped_and_one_added_with_its_type_is_a_likely_rename_written_for_batch_mode() -> None:
    dropped, added = drop_column("post", "title"), add_column("post", sa.Column("headline", sa.String(80)))

    (plain,) = likely_column_rename(revision(dropped, added))
    (batch,) = likely_column_rename(revision(dropped, added, batch=True))

    assert plain.operations == (dropped, added)
    assert plain.finding is not None and batch.finding is not None
    assert "    op.alter_column('post', 'title', new_column_name='headline')" in plain.finding
    assert "batch_op.alter_column('title', new_column_name='headline')" in batch.finding
    other_type = add_column("post", sa.Column("headline", sa.Integer))
    assert likely_column_rename(revision(dropped, other_type)) == []


def test_a_table_dropped_and_one_created_with_its_columns_is_a_likely_rename() -> None:
    dropped = drop_table("post", sa.Column("id", sa.Integer), sa.Column("title", sa.String(80)))
    created = create_table("article", sa.Column("id", sa.Integer), sa.Column("title", sa.String(80)))

    (explanation,) = likely_table_rename(revision(dropped, created))

    assert explanation.finding is not None and explanation.finding.kind == "likely_table_rename"
    assert "op.rename_table('post', 'article')" in explanation.finding
    assert likely_table_rename(revision(dropped, create_table("article", sa.Column("id", sa.Integer)))) == []


def test_the_review_warns_once_for_what_a_rename_explains_then_per_operation_in_order() -> None:
    dropped, added = drop_column("post", "title"), add_column("post", sa.Column("headline", sa.String(80)))
    retyped = ops.AlterColumnOp(
        "post", "body", existing_type=sa.Text(), modify_type=sa.Integer(), modify_nullable=False
    )
    gone = drop_table("legacy", sa.Column("id", sa.Integer))

    found = review(ops.UpgradeOps([gone, ops.ModifyTableOps("post", [dropped, added, retyped])]), DIALECT)

    assert kinds(found) == [
        "likely_column_rename",
        "table_dropped",
        "not_null_without_default",
        "type_changed",
    ]
