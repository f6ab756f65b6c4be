"""The check that an answered rename keeps its column's values, on a real SQLite database: values read
before the revision, then under the new name after it."""

from pathlib import Path

import sqlalchemy as sa
from alembic.operations import ops

from flask_makemigrations.checks.rows.renames import read_before, renamed_columns


def database(path: Path) -> sa.engine.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE user (id INTEGER PRIMARY KEY, name VARCHAR(20))"))
        connection.execute(sa.text("INSERT INTO user (name) VALUES ('alice'), ('bob')"))
    return engine


RENAME = ops.UpgradeOps(
    [ops.ModifyTableOps("user", [ops.AlterColumnOp("user", "name", modify_name="full_name")])]
)


def test_the_renames_are_read_from_the_operations() -> None:
    assert renamed_columns(RENAME) == [("user", "name", "full_name")]


def test_values_kept_under_the_new_name_pass_and_lost_ones_are_named(tmp_path: Path) -> None:
    engine = database(tmp_path / "rows.sqlite")
    (renamed,) = read_before(engine, RENAME, {"user"})
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE user RENAME COLUMN name TO full_name"))

    assert renamed.lost(engine, "full_name", "after the upgrade") is None

    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE user SET full_name = NULL WHERE full_name = 'bob'"))
    lost = renamed.lost(engine, "full_name", "after the upgrade")
    assert lost == (
        "the rename of user.name to full_name does not keep its values after the upgrade "
        "(held ['alice', 'bob'], then ['None', 'alice'])"
    )
    engine.dispose()


def test_a_table_without_rows_is_not_read(tmp_path: Path) -> None:
    engine = database(tmp_path / "rows.sqlite")
    assert read_before(engine, RENAME, set()) == []
    engine.dispose()
