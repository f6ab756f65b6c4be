"""A CHECK constraint's SQL as SQLite's reflection reads it, cut to the constraint
(``DefaultImpl.reflected_check``): SQLAlchemy 1.4 reads up to the last parenthesis of the line, past
the constraint's end when a clause follows it on that line."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_makemigrations.dialects import DefaultImpl, SQLiteImpl


@pytest.mark.parametrize(
    ("read", "check"),
    [
        ("length(body) > 0), CONSTRAINT pk_note PRIMARY KEY (id", "length(body) > 0"),
        ("length(title) > 1)", "length(title) > 1"),
        ("length(title) > 1", "length(title) > 1"),
        ("(a > 0) OR (b > 0)", "(a > 0) OR (b > 0)"),
        ("status IN ('a)', 'it''s')), UNIQUE (x", "status IN ('a)', 'it''s')"),
        ('"odd)name" > 0), PRIMARY KEY (id', '"odd)name" > 0'),
    ],
)
def test_sqlite_cuts_a_check_at_the_first_parenthesis_that_closes_nothing(read: str, check: str) -> None:
    assert SQLiteImpl.reflected_check(read) == check
    assert SQLiteImpl.normalized_sql(read) == SQLiteImpl.normalized_sql(check)


def test_an_unnamed_check_followed_by_a_primary_key_clause_is_reflected_as_written(tmp_path: Path) -> None:
    """On one line, as ``op.execute`` writes it: the text SQLAlchemy 1.4 misreads."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE note (id INTEGER NOT NULL, body TEXT, "
            "CHECK (length(body) > 0), CONSTRAINT pk_note PRIMARY KEY (id))"
        )
        (found,) = sa.inspect(connection).get_check_constraints("note")
    engine.dispose()

    assert SQLiteImpl.reflected_check(str(found["sqltext"])) == "length(body) > 0"


def test_other_dialects_keep_what_they_reflect() -> None:
    assert DefaultImpl.reflected_check("a > 0), b") == "a > 0), b"
