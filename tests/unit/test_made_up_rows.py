"""The rows verification makes up (``checks/rows/filling.py``): in a real SQLite file, from the schema
reflected there, keeping its rules, the same in every run."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flask_makemigrations.checks.rows.filling import ROWS_PER_TABLE, fill
from flask_makemigrations.checks.rows.values import Hint, hints, value


def schema(metadata: sa.MetaData) -> None:
    """Parents and children, keys, lengths, an enum, CHECKs, a server default, a self-reference, and
    a table whose CHECK the tool cannot satisfy."""
    sa.Table(
        "author",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("initial", sa.String(1), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column(
            "status", sa.Enum("draft", "active", name="status", create_constraint=True), nullable=False
        ),
        sa.Column("mentor_id", sa.Integer, sa.ForeignKey("author.id")),
    )
    sa.Table(
        "book",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("author.id"), nullable=False),
        sa.Column("pages", sa.Integer, sa.CheckConstraint("pages > 10"), nullable=False),
        sa.Column("kind", sa.String(10), sa.CheckConstraint("kind IN ('novel', 'essay')"), nullable=False),
        sa.Column("price", sa.Numeric(6, 2), nullable=False),
        sa.Column("published", sa.Date, nullable=False),
        sa.Column("added", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
    )
    sa.Table(
        "stamp",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(8), sa.CheckConstraint("code LIKE 'S-%'"), nullable=False),
    )


def filled_rows(path: Path) -> tuple[dict[str, list[dict[str, Any]]], list[str], dict[str, int]]:
    """A new SQLite database with that schema, filled through ``book`` and ``stamp``: the rows ``fill``
    reports (but for the database's own clock), its notes, and the rows each table really holds."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    metadata = sa.MetaData()
    schema(metadata)
    metadata.create_all(engine)
    filled = fill(engine, ["book", "stamp"])
    with engine.connect() as connection:
        counts = {name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                  for name, table in metadata.tables.items()}  # fmt: skip
    engine.dispose()
    for book in filled.rows["book"]:
        assert book.pop("added") is not None  # the server default filled it, at the time it was run
    return filled.rows, filled.notes, counts


def test_made_up_rows_keep_the_schema_s_rules_and_are_the_same_every_time(tmp_path: Path) -> None:
    rows, notes, counts = filled_rows(tmp_path / "first.sqlite")
    again = filled_rows(tmp_path / "second.sqlite")

    assert (rows, notes, counts) == again
    assert list(rows) == ["author", "book"]  # parents first; the table the tool cannot fill is left out
    assert counts == {"author": ROWS_PER_TABLE, "book": ROWS_PER_TABLE, "stamp": 0}
    authors, books = rows["author"], rows["book"]
    for column in ("id", "initial", "name"):  # the primary key and unique columns: distinct values
        assert len({author[column] for author in authors}) == ROWS_PER_TABLE
    assert all(len(author["initial"]) == 1 and len(author["name"]) <= 80 for author in authors)
    assert {author["status"] for author in authors} <= {"draft", "active"}
    assert [author["mentor_id"] for author in authors] == [None] * ROWS_PER_TABLE  # refers to itself
    assert {book["author_id"] for book in books} == {author["id"] for author in authors}
    assert all(book["pages"] > 10 and book["kind"] in ("novel", "essay") for book in books)
    (note,) = notes
    assert note.startswith("verification with rows left table stamp empty: the database refused the rows")
    assert "CHECK constraint failed" in note


def test_what_checks_say_about_values_is_read_in_each_database_s_spelling() -> None:
    """SQLite, MariaDB and PostgreSQL give a CHECK back each in their own words; one the tool cannot
    read gives no hint (the database then says whether the rows satisfy it)."""
    found = hints(
        [
            "kind IN ('novel', 'essay')",
            "`shelf` in ('a','b''c')",
            "((genre)::text = ANY ((ARRAY['poem'::character varying, 'play'::character varying])::text[]))",
            "(pages > 10)",
            "`price` >= 2.5",
            "length(body) > 0",
        ]
    )

    assert found == {
        "kind": Hint(choices=("novel", "essay")),
        "shelf": Hint(choices=("a", "b'c")),
        "genre": Hint(choices=("poem", "play")),
        "pages": Hint(least=Decimal(11)),
        "price": Hint(least=Decimal("2.5")),
    }
    assert [value(sa.Integer(), number, found["price"]) for number in range(3)] == [3, 4, 5]
    assert [value(sa.Numeric(), number, found["price"]) for number in range(3)] == [
        Decimal("2.5"),
        Decimal("3.5"),
        Decimal("4.5"),
    ]
