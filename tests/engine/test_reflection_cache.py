"""Autogenerate's reflection answered from the cache (``revisions.reflection_cache``): a warm run asks
SQLite nothing about the tables it knows, a table whose statements changed is asked about again, and
what the cache answers is what the database would: the same operations, the same file. Real runs of
the engine in this process, on the example project's SQLite shadow databases.
"""

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import EMAIL, HEAD, USERNAME, ProjectCopy
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from flask_makemigrations.cache.reflection import METHODS
from flask_makemigrations.compat import table_reflection_answered_by

#: The pragmas SQLite's dialect reads a table's columns, indexes and foreign keys with.
_TABLE_PRAGMA = re.compile(r'PRAGMA (?:main\.)?(?:table_x?info|index_list|foreign_key_list)\("?(\w+)"?\)')


@pytest.fixture
def asked() -> Iterator[list[str]]:
    """The tables SQLite was asked about (by pragma), in this process, while the test runs; not the
    version table, whose existence Alembic checks itself (``has_table``, which no cache answers)."""
    tables: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]  # conn, cursor, statement, parameters, context, executemany
        found = _TABLE_PRAGMA.search(statement)
        if found and found.group(1) != "alembic_version":
            tables.append(found.group(1))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield tables
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def pending(project: ProjectCopy, **options: Any) -> tuple[list[str], str]:
    """What a --dry-run --no-verify run finds: its operations, and its file without the date."""
    result = project.make_migrations(dry_run=True, verify=False, rev_id="0003_next", **options)
    script = "\n".join(line for line in (result.script or "").splitlines() if "Create Date" not in line)
    return result.operations, script


def answers_file(project: ProjectCopy) -> Path:
    (found,) = project.home.glob(".cache/flask-makemigrations/*/reflected.json")
    return found


def test_a_warm_run_asks_nothing_about_known_tables_and_finds_the_same(
    project: ProjectCopy, asked: list[str]
) -> None:
    project.add_email_column()
    cold = pending(project)
    assert {"user", "post"} <= set(asked)
    asked.clear()

    assert pending(project) == cold
    assert asked == []
    assert cold[0] == ["+ column user.email"]


def test_a_table_whose_statements_changed_is_asked_about_again(
    project: ProjectCopy, asked: list[str]
) -> None:
    """So are the tables whose foreign keys refer to it (post's, to user); the others are answered."""
    columns = "sa.Column('id', sa.Integer, primary_key=True)"
    project.add_revision(
        "0003_tag", HEAD, f"    op.create_table('tag', {columns})", imports="import sqlalchemy as sa"
    )
    pending(project)
    project.add_email_column()
    add_email = "    op.add_column('user', sa.Column('email', sa.String(120)))"
    project.add_revision("0004_email", "0003_tag", add_email, imports="import sqlalchemy as sa")
    asked.clear()

    operations, _ = pending(project)

    assert operations == ["- table tag"]  # user's new column is seen: nothing about it came from before
    assert set(asked) == {"user", "post"}


def test_answers_that_do_not_load_are_asked_again(project: ProjectCopy, asked: list[str]) -> None:
    project.add_email_column()
    cold = pending(project)
    path = answers_file(project)
    stored = json.loads(path.read_text())
    for key in stored["entries"]:
        if key.startswith("get_columns|"):
            stored["entries"][key] = [{"name": "id", "type": {"__type__": 5}}]  # no type has that name
    path.write_text(json.dumps(stored))
    asked.clear()
    assert pending(project) == cold
    assert {"user", "post"} <= set(asked)

    path.write_text("not JSON")
    asked.clear()
    assert pending(project) == cold
    assert {"user", "post"} <= set(asked)
    assert json.loads(path.read_text())["entries"]  # written again whole


def test_an_answer_json_cannot_hold_exactly_is_not_kept(project: ProjectCopy, asked: list[str]) -> None:
    """A column declared with no type reflects as NullType, which has no name to read back."""
    project.add_revision(
        "0003_legacy", HEAD, "    op.execute('CREATE TABLE legacy (id INTEGER PRIMARY KEY, anything)')"
    )
    cold = pending(project)
    keys = json.loads(answers_file(project).read_text())["entries"]
    assert not any(key.startswith("get_columns|legacy|") for key in keys)
    assert any(key.startswith("get_indexes|legacy|") for key in keys)
    asked.clear()

    assert pending(project) == cold
    assert cold[0] == ["- table legacy"]
    assert "legacy" in asked and "user" not in asked


def test_without_the_cache_nothing_is_read_or_kept(project: ProjectCopy, asked: list[str]) -> None:
    project.add_model_line(USERNAME, EMAIL)
    pending(project, use_cache=False)
    assert not list(project.home.glob(".cache/flask-makemigrations/*/reflected.json"))
    pending(project)
    asked.clear()
    pending(project, use_cache=False)
    assert {"user", "post"} <= set(asked)


@pytest.mark.parametrize("change", ["SQLAlchemy's version", "a type name a package adds"])
def test_answers_of_another_sqlalchemy_or_other_type_names_are_asked_again(
    project: ProjectCopy, asked: list[str], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    project.add_email_column()
    cold = pending(project)
    if change == "SQLAlchemy's version":
        monkeypatch.setattr(sa, "__version__", sa.__version__ + ".post1")
    else:  # as GeoAlchemy2 registers its types with SQLite's dialect when imported
        monkeypatch.setitem(SQLiteDialect.ischema_names, "GEOMETRY", sa.types.NullType)
    asked.clear()

    assert pending(project) == cold
    assert {"user", "post"} <= set(asked)


def test_the_dialects_own_methods_come_back_whatever_ends_the_block(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shadow.sqlite'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")

    def answer(method: str, ask: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
        return ask(*args, **kw)

    with pytest.raises(RuntimeError), table_reflection_answered_by([engine.dialect], METHODS, answer):
        with table_reflection_answered_by([engine.dialect], METHODS, answer):
            pass
        assert "get_columns" in vars(engine.dialect)  # the inner block left the outer's in place
        assert [c["name"] for c in sa.inspect(engine).get_columns("t")] == ["id"]
        raise RuntimeError
    assert not set(METHODS) & set(vars(engine.dialect))
    engine.dispose()
