"""The rows verification makes up (``checks/rows/filling.py``): in a real SQLite file, from the schema
reflected there, keeping its rules, the same in every run."""

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flask_makemigrations.checks.rows.filling import ROWS_PER_TABLE, fill


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
    reports, its notes, and the rows each table really holds."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    metadata = sa.MetaData()
    schema(metadata)
    metadata.create_all(engine)
    filled = fill(engine, ["book", "stamp"])
    with engine.connect() as connection:
        counts = {name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                  for name, table in metadata.tables.items()}  # fmt: skip
    engine.dispose()
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
    assert all(book["added"] is not None for book in books)  # the server default filled it
    (note,) = notes
    assert note.startswith("verification with rows left table stamp empty: the database refused the rows")
    assert "CHECK constraint failed" in note
