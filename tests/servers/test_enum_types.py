"""PostgreSQL enum types (``revisions/enum_types.py``): on a real server, the revision creates and
drops the types it needs, adds the values the models add (other changes of values are
differences: verification compares values); with alembic-postgresql-enum imported in ``env.py``
its operations are written and verified instead.

Runs with alembic-postgresql-enum are real ``invoke`` processes: importing the library registers its
comparators in Alembic for the whole process.
"""

from typing import Any

import pytest
from conftest import ProjectCopy, Run, findings, written_text
from pg_cluster import Cluster
from server_runs import make

from flask_makemigrations.checks.locks.findings import SAFE_FORMS

ENUM = "db.Enum('draft', 'published', name='post_status')"
AUTHOR = 'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)'


def add_status(project: ProjectCopy, enum: str = ENUM) -> None:
    project.add_model_line(AUTHOR, f"status = db.Column({enum}, nullable=True)")


def enum_types(postgres: Cluster) -> list[tuple[Any, ...]]:
    """The enum types of the database the URL names."""
    return postgres.sql("SELECT typname FROM pg_type WHERE typtype = 'e' ORDER BY 1")


def test_an_enum_column_on_an_existing_table_creates_its_type(
    project: ProjectCopy, postgres: Cluster
) -> None:
    add_status(project)
    result = make(project, postgres, "post status")

    assert result.operations == ["+ enum type post_status", "+ column post.status"]
    assert result.differences == [] and [warning.kind for warning in findings(result.warnings)] == [
        "lock_timeout_missing"  # measured: tests/servers/test_locks.py
    ]
    text = written_text(result)
    created = "sa.Enum('draft', 'published', name='post_status').create(op.get_bind(), checkfirst=True)"
    dropped = "sa.Enum('draft', 'published', name='post_status').drop(op.get_bind(), checkfirst=True)"
    upgrade, downgrade = text.split("def downgrade")
    assert upgrade.index(created) < upgrade.index("add_column")
    assert downgrade.index("drop_column") < downgrade.index(dropped)

    assert make(project, postgres, check=True).operations == []
    assert project.verify_history(where={"database": postgres.url_string()}).revisions == 3


def test_a_new_table_with_an_enum_drops_its_type_on_downgrade(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """``create_table`` creates the type; the downgrade drops it after the table."""
    models = project.root / "app" / "models.py"
    models.write_text(
        models.read_text() + f"\n\nclass Tag(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        f"    status = db.Column({ENUM})\n"
    )
    result = make(project, postgres, "tags")
    assert result.operations == ["+ table tag"] and result.differences == []
    text = written_text(result)
    assert ".create(" not in text and "name='post_status').drop(op.get_bind(), checkfirst=True)" in text


def test_an_added_value_is_written_outside_a_transaction_and_verified(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """Autogenerate does not see it; the revision adds the values, and its downgrade rebuilds the
    type with the values it had (PostgreSQL cannot drop one), the column's default kept."""
    add_status(project, ENUM.replace(")", "), server_default='draft'"))
    make(project, postgres, "post status")
    project.edit("app/models.py", "'draft', 'published'", "'draft', 'review', 'published', 'archived'")

    checked = make(project, postgres, check=True)
    assert checked.operations == ["~ enum type post_status (values added: 'review', 'archived')"]
    assert (checked.warnings, checked.differences) == ([], [])  # reported once, as what is written

    result = make(project, postgres, "more statuses")
    upgrade, downgrade = written_text(result).split("def downgrade")
    assert (
        "    with op.get_context().autocommit_block():\n"
        "        op.execute(\"ALTER TYPE post_status ADD VALUE 'review' BEFORE 'published'\")\n"
        "        op.execute(\"ALTER TYPE post_status ADD VALUE 'archived'\")\n"
    ) in upgrade
    assert "op.execute('ALTER TYPE post_status RENAME TO post_status_old')" in downgrade
    assert "USING status::text::post_status" in downgrade and "SET DEFAULT" in downgrade
    assert make(project, postgres, check=True).operations == []
    assert project.verify_history(where={"database": postgres.url_string()}).revisions == 4


@pytest.mark.version_independent  # the difference's wording: this package's own
def test_a_removed_value_is_a_difference_reported_once(project: ProjectCopy, postgres: Cluster) -> None:
    add_status(project)
    make(project, postgres, "post status")
    project.edit("app/models.py", "'draft', 'published'", "'published'")
    checked = make(project, postgres, check=True)
    assert (checked.operations, checked.warnings) == ([], [])
    (difference,) = checked.differences
    assert difference.startswith(
        "column post.status: type POST_STATUS('published') in the models, "
        "type POST_STATUS('draft', 'published') in the migrations"
    ), difference


@pytest.mark.version_independent  # the statements' spelling: this package's own
def test_the_statements_quote_what_postgresql_would_misread() -> None:
    import sqlalchemy as sa

    from flask_makemigrations.revisions.enum_types import EnumValuesOp, UsingColumn

    added = EnumValuesOp(
        sa.Enum("draft", "it's", name="PostStatus"), ["draft"], [UsingColumn("t", "c", None)]
    )
    assert added.statements() == ["""ALTER TYPE "PostStatus" ADD VALUE 'it''s'"""]
    assert added.reverse().statements() == [
        'ALTER TYPE "PostStatus" RENAME TO "PostStatus_old"',
        """CREATE TYPE "PostStatus" AS ENUM ('draft')""",
        'ALTER TABLE t ALTER COLUMN c TYPE "PostStatus" USING c::text::"PostStatus"',
        'DROP TYPE "PostStatus_old"',
    ]


# -- with alembic-postgresql-enum ---------------------------------------------------------------


@pytest.fixture
def with_library(project: ProjectCopy) -> ProjectCopy:
    project.edit(
        "migrations/env.py",
        "import logging",
        "import logging\n\nimport alembic_postgresql_enum  # noqa: F401",
    )
    return project


def run(project: ProjectCopy, postgres: Cluster, *args: str) -> Run:
    """A real ``invoke makemigrations`` run: env.py imports the library, which registers its comparators
    with Alembic for the rest of the process, so it must not run in the test's own."""
    return project.invoke("makemigrations", *args, "--database", postgres.url_string())


def written(project: ProjectCopy, postgres: Cluster, message: str, warning: str | None = None) -> str:
    """The revision a real run wrote, with no warning but ``warning`` and what it locks (each lock
    finding ends with its safe form; tests/servers/test_locks.py has them)."""
    before = project.revision_files()
    done = run(project, postgres, "-m", message)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("Warning")]
    warnings = [line for line in lines if not line.endswith(SAFE_FORMS)]
    assert warnings == ([warning] if warning else []), done.stderr
    (new,) = project.new_revisions(before)
    return new.read_text()


def test_the_library_writes_every_enum_change_and_each_is_verified(
    with_library: ProjectCopy, postgres: Cluster
) -> None:
    project = with_library
    add_status(project)
    text = written(project, postgres, "post status")  # an existing table
    # The library's own spelling (no checkfirst): the tool's enum operations stay out of its way.
    assert "sa.Enum('draft', 'published', name='post_status').create(op.get_bind())\n" in text
    assert "create_type=False" in text and "checkfirst" not in text

    # One revision adds a value and removes another; the next renames one.
    project.edit("app/models.py", "'draft', 'published'", "'draft', 'archived'")
    assert "sync_enum_values" in written(project, postgres, "add and remove values")

    project.edit("app/models.py", "'draft', 'archived'", "'draft', 'retired'")
    assert "sync_enum_values" in written(project, postgres, "rename a value")

    status = f"\n    status = db.Column({ENUM.replace('published', 'retired')}, nullable=True)"
    project.edit("app/models.py", status, "")
    dropped = "Warning: column post.status is dropped: its data is lost when this revision runs."
    text = written(project, postgres, "drop the column", dropped)  # the last one using the type
    assert "drop_column" in text and "post_status" in text

    verified = project.invoke("verify", "--database", postgres.url_string())  # head matches the models too
    assert verified.returncode == 0, verified.stderr
    assert enum_types(postgres) == []  # the URL's database is never touched
