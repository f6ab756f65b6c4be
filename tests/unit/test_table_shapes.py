"""Tables reflected once (``schema.TableShapes``, kept by ``cache.schemas.kept_table_shapes``): a table
is reflected again exactly when what reflecting it reads has changed, and a reused shape is the one a
fresh reflection gives. On real SQLite files; PostgreSQL and MariaDB have no fingerprints, so every
reflection there is fresh (``test_verify`` covers them).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ProjectCopy, shadow_build
from sqlalchemy.engine import Engine
from sqlalchemy.engine.reflection import Inspector

from flask_makemigrations.cache.schemas import kept_table_shapes, tables_file
from flask_makemigrations.checks import schema
from flask_makemigrations.checks.schema import Filters, Schema, TableShapes, reflect


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shadow.sqlite'}")
    run(
        engine,
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent)",
        "CREATE TABLE other (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "CREATE INDEX ix_other_name ON other (name)",
    )
    yield engine
    engine.dispose()


@pytest.fixture
def reflected(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The tables each reflection really asked the database about."""
    asked: list[list[str]] = []
    original = schema._reflected_tables

    def recording(inspector: Inspector, names: list[str]) -> Any:
        asked.append(sorted(names))
        return original(inspector, names)

    monkeypatch.setattr(schema, "_reflected_tables", recording)
    return asked


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project's migrations folder, whose kept shapes go to a user cache of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "migrations"


def run(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def shapes_of(engine: Engine, shapes: TableShapes | None, filters: Filters | None = None) -> Schema:
    with engine.connect() as connection:
        return reflect(connection, filters or Filters(), shapes=shapes)


def test_only_what_changed_is_reflected_again(database: Engine, reflected: list[list[str]]) -> None:
    shapes = TableShapes()
    assert shapes_of(database, shapes) == shapes_of(database, None)
    assert shapes_of(database, shapes) == shapes_of(database, None)
    assert reflected[0] == ["child", "other", "parent"] and reflected[2] == []

    run(database, "DROP INDEX ix_other_name")  # an index is the table's, in what is read
    reflected.clear()
    assert shapes_of(database, shapes) == shapes_of(database, None)
    assert reflected[0] == ["other"]


@pytest.mark.parametrize("spelling", ["parent", "Parent"])
def test_a_referred_tables_primary_key_is_part_of_a_foreign_keys_shape(
    database: Engine, reflected: list[list[str]], spelling: str
) -> None:
    """``REFERENCES parent`` names no column: SQLite's reflection reads it from parent's primary key,
    found whatever the case the foreign key spells its name in."""
    if spelling != "parent":
        run(
            database,
            "DROP TABLE child",
            f"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES {spelling})",
        )
    shapes = TableShapes()
    shapes_of(database, shapes)
    run(database, "DROP TABLE parent", "CREATE TABLE parent (code VARCHAR(5) PRIMARY KEY)")
    reflected.clear()
    again = shapes_of(database, shapes)
    assert again == shapes_of(database, None)
    assert reflected[0] == ["child", "parent"]
    if spelling == "parent":  # (for another spelling SQLAlchemy finds no columns: the same, fresh or not)
        assert [key[2] for key in again["child"].foreign_keys] == [("code",)]


def test_shapes_filtered_by_code_are_reused_in_the_run_only(database: Engine, migrations: Path) -> None:
    keeps_all = Filters(include_object=lambda obj, name, type_, reflected, compare_to: True)
    with kept_table_shapes(migrations) as shapes:
        shapes_of(database, shapes, keeps_all)
        assert len(shapes.shapes) == 3 and shapes.kept == {}
    assert not tables_file(migrations).exists()


def test_a_project_keeps_its_shapes_for_the_next_run(
    database: Engine, migrations: Path, reflected: list[list[str]]
) -> None:
    with kept_table_shapes(migrations) as shapes:
        first = shapes_of(database, shapes)
    with kept_table_shapes(migrations) as shapes:
        assert shapes_of(database, shapes) == first
    assert reflected == [["child", "other", "parent"], []]

    stored = json.loads(tables_file(migrations).read_text())
    stored["salt"] = "another SQLAlchemy"
    tables_file(migrations).write_text(json.dumps(stored))
    with kept_table_shapes(migrations) as shapes:
        assert shapes_of(database, shapes) == first
    tables_file(migrations).write_text("not JSON")
    with kept_table_shapes(migrations) as shapes:
        assert shapes_of(database, shapes) == first
    assert reflected[2:] == [["child", "other", "parent"]] * 2


def test_without_the_cache_nothing_is_read_or_kept(
    database: Engine, migrations: Path, reflected: list[list[str]]
) -> None:
    with kept_table_shapes(migrations) as shapes:
        shapes_of(database, shapes)
    with kept_table_shapes(migrations, enabled=False) as shapes:
        shapes_of(database, shapes)
        shapes_of(database, shapes)  # within the run, still reused
    assert reflected == [["child", "other", "parent"], ["child", "other", "parent"], []]


def test_a_warm_verification_still_finds_a_difference_autogenerate_misses(project: ProjectCopy) -> None:
    """End to end: the shadow database's tables come from the kept shapes, the models' from theirs;
    a server default that only verification sees is still found (and written: drift.py)."""
    project.add_email_column()
    project.make_migrations("add email")
    assert list(project.home.glob(".cache/flask-makemigrations/*/tables.json"))
    email = "email = db.Column(db.String(120))"
    project.edit("app/models.py", email, email[:-1] + ', server_default="x")')
    warm = project.make_migrations(dry_run=True)
    assert shadow_build(warm).restored is not None
    assert (warm.operations, warm.differences) == (["~ column user.email (server default)"], [])
