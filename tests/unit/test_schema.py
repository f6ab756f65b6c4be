"""The schema comparison: the same schema written with different DDL is no difference; a real one is."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_makemigrations.checks.schema import Filters, Schema, differences, reflect
from flask_makemigrations.dialects import PostgreSQLImpl, SQLiteImpl


def schema_of(tmp_path: Path, name: str, *ddl: str) -> Schema:
    """Run DDL on a new SQLite file and reflect it."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / name}.sqlite")
    try:
        with engine.begin() as connection:
            for statement in ddl:
                connection.exec_driver_sql(statement)
            return reflect(connection, Filters())
    finally:
        engine.dispose()


def test_the_same_schema_through_different_ddl_is_no_difference(tmp_path: Path) -> None:
    models = schema_of(
        tmp_path,
        "models",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, code VARCHAR(10) DEFAULT '0', "
        "CONSTRAINT uq_item_code UNIQUE (code))",
    )
    migrated = schema_of(
        tmp_path,
        "migrated",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, code VARCHAR(10) DEFAULT (0))",
        "CREATE UNIQUE INDEX ix_code ON item (code)",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
    )

    assert differences(models, migrated, "the models", "the migrations") == []


def test_each_real_difference_names_its_object(tmp_path: Path) -> None:
    models = schema_of(
        tmp_path,
        "models",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL DEFAULT 'a', "
        "CONSTRAINT ck_item_code CHECK (length(code) > 0))",
    )
    migrated = schema_of(tmp_path, "migrated", "CREATE TABLE item (id INTEGER PRIMARY KEY, code VARCHAR(20))")

    assert differences(models, migrated, "the models", "the migrations") == [
        "column item.code: type VARCHAR(10) in the models, type VARCHAR(20) in the migrations",
        "column item.code: NOT NULL in the models, nullable in the migrations",
        "column item.code: server default 'a' in the models, no server default in the migrations",
        "check constraint ck_item_code on item (length(code) > 0): only in the models",
    ]


@pytest.mark.parametrize(
    "reflected",
    ["'active'::character varying", "('active')", "'active'", "active", "(('active'::text))"],
)
def test_server_default_quoting_and_casts_are_spelling(reflected: str) -> None:
    """How SQLite and PostgreSQL spell the same default; PostgreSQL is not needed to check that."""
    assert PostgreSQLImpl.normalized_default(reflected) == "active"
    if "::" not in reflected:  # only PostgreSQL writes casts
        assert SQLiteImpl.normalized_default(reflected) == "active"


def test_different_server_defaults_stay_different() -> None:
    assert PostgreSQLImpl.normalized_default(
        "nextval('item_id_seq'::regclass)"
    ) != PostgreSQLImpl.normalized_default("nextval('other_seq'::regclass)")
    assert SQLiteImpl.normalized_default("(1) + (2)") == "(1) + (2)"
    assert SQLiteImpl.normalized_default("'x'::text") == "'x'::text"  # a cast is SQLite's literal text


def test_a_schema_read_back_from_its_json_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the models' cache keeps (cache/schemas.py) compares exactly like the schema."""
    import sqlalchemy as sa

    from flask_makemigrations.cache.schemas import keep_models_schema, known_models_schema
    from flask_makemigrations.checks.schema import Filters, reflect

    metadata = sa.MetaData()
    sa.Table(
        "user",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20), unique=True),
    )
    sa.Table(
        "post",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(80), server_default="untitled", nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), index=True),
        sa.CheckConstraint("length(title) > 0", name="ck_title"),
        sa.UniqueConstraint("title", "user_id", name="uq_title_user"),
    )
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'models.sqlite'}")
    with engine.begin() as connection:
        metadata.create_all(connection)
        found = reflect(connection, Filters())
    engine.dispose()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    keep_models_schema("models-key", found)
    assert known_models_schema("models-key") == found
