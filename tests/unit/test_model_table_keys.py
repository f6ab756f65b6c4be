"""The models' keys table by table (``cache/schemas.models_keys``) and what a run then builds of them
(``checks/models_plan.py``): each table's key follows its own statements and the named types it uses,
and anything that belongs to no table leaves the whole schema to be built, as before.

The statements are recorded for the dialect of each URL, as a run records them; no database is needed.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from flask_makemigrations.cache.schemas import ModelsKeys, models_keys
from flask_makemigrations.checks.models_plan import ModelsPlan
from flask_makemigrations.checks.schema import Filters, TableShape

URLS = ["sqlite://", "postgresql://user@localhost/db"]  # the default driver of each SQLAlchemy


def models(status: tuple[str, ...] = ("draft", "live"), user_columns: int = 1) -> sa.MetaData:
    """``user``, with an enum type of its own, and ``post``, whose foreign key refers to it."""
    metadata = sa.MetaData()
    sa.Table(
        "user",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.Enum(*status, name="user_status")),
        *[sa.Column(f"extra{number}", sa.Integer) for number in range(user_columns - 1)],
    )
    sa.Table(
        "post",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id"), index=True),
    )
    return metadata


def keys_of(metadata: sa.MetaData, url: str) -> ModelsKeys:
    return models_keys(Filters(metadatas=(metadata,)), sa.create_engine(url))


@pytest.mark.parametrize("url", URLS, ids=["sqlite", "postgresql"])
def test_a_tables_key_follows_its_own_statements_and_types_and_nothing_else(url: str) -> None:
    before = keys_of(models(), url)
    with_a_column = keys_of(models(user_columns=2), url)
    with_a_value = keys_of(models(status=("draft", "live", "archived")), url)

    assert before.tables is not None and with_a_column.tables is not None and with_a_value.tables is not None
    assert before.references == {"user": frozenset(), "post": frozenset({"user"})}
    assert with_a_column.whole != before.whole and with_a_value.whole != before.whole
    # post's shape does not change with user's: it refers to it by name, as its own statement says
    assert with_a_column.tables["user"] != before.tables["user"]
    assert with_a_column.tables["post"] == before.tables["post"]
    # the enum's values are in its CREATE TYPE (PostgreSQL), its longest one in the table's own
    # statement (SQLite: VARCHAR(8))
    assert with_a_value.tables["user"] != before.tables["user"]
    assert with_a_value.tables["post"] == before.tables["post"]
    assert keys_of(models(), url) == before  # the same models, the same keys


@pytest.mark.parametrize(
    "odd",
    [
        lambda metadata: sa.event.listen(metadata, "after_create", sa.DDL("CREATE VIEW v AS SELECT 1")),  # type: ignore[no-untyped-call]
        lambda metadata: sa.Table("elsewhere", metadata, sa.Column("id", sa.Integer), schema="other"),
    ],
    ids=["DDL against the metadata", "a table in another schema"],
)
def test_what_belongs_to_no_table_of_the_default_schema_leaves_the_whole_schema_to_build(odd: object) -> None:
    metadata = models()
    odd(metadata)  # type: ignore[operator]

    keys = keys_of(metadata, "sqlite://")

    assert keys.whole is not None and keys.tables is None
    assert ModelsPlan.of(keys).build is None  # everything is built


def test_the_plan_builds_the_tables_the_cache_lacks_and_those_they_refer_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    metadata = models()
    sa.Table("comment", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("post_id", sa.Integer, sa.ForeignKey("post.id")))  # fmt: skip
    keys = keys_of(metadata, "sqlite://")
    assert keys.tables is not None
    shape = TableShape(columns={}, primary_key=(), uniques={}, indexes={}, foreign_keys={}, checks={})

    first = ModelsPlan.of(keys)
    assert first.known == {} and first.build == frozenset({"user", "post", "comment"})
    # What a build of every table found is kept by each table's key.
    assert list(first.schema({"user": shape, "post": shape, "comment": shape})) == ["comment", "post", "user"]

    assert ModelsPlan.of(keys).build == frozenset() and not ModelsPlan.of(keys).builds
    edited = ModelsKeys(keys.whole, {**keys.tables, "comment": "another key"}, keys.references)
    plan = ModelsPlan.of(edited)
    assert plan.build == frozenset({"comment", "post", "user"})  # comment needs post, post needs user
    assert set(plan.known) == {"user", "post"}


class StatusOnPostgreSQL(sa.types.TypeDecorator[str]):
    """A column type that is user_status on PostgreSQL, picked when the statement is compiled: nothing
    in the column's type object says so."""

    impl = sa.String(20)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.engine.Dialect) -> sa.types.TypeEngine[str]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ENUM(name="user_status", create_type=False))
        return dialect.type_descriptor(sa.String(20))


def test_a_type_a_tables_statement_names_is_in_its_key_however_its_column_holds_it() -> None:
    def keys(status: tuple[str, ...]) -> dict[str, str]:
        metadata = models(status)
        sa.Table("audit", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("status", StatusOnPostgreSQL()))  # fmt: skip
        found = keys_of(metadata, URLS[1]).tables
        assert found is not None
        return found

    before, after = keys(("draft", "live")), keys(("draft", "live", "archived"))

    assert after["audit"] != before["audit"] and after["user"] != before["user"]
    assert after["post"] == before["post"]
