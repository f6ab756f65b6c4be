"""What differs between the library versions of the Nox matrix: held the same on every one of them,
or, where an old line cannot do something, said in one line."""

import pytest
from conftest import USERNAME, ProjectCopy, Run

from flask_makemigrations.compat import FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS

SECOND_HEAD = '''"""a second branch from the first revision"""

revision = "0003_branch"
down_revision = "0001_users"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


def _mentions_staging(result: Run) -> bool:
    output = result.stdout + result.stderr
    return "Generating" in output or "flask-makemigrations-" in output


def test_no_word_about_the_staging_copy_when_writing_a_revision(project: ProjectCopy) -> None:
    """Alembic before 1.11 has no quiet option and announces "Generating <staging path> ... done":
    a temporary path, gone when the run ends, that users would take for the file written."""
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.invoke("makemigrations", "-m", "add email")

    assert result.returncode == 0, result.stderr
    assert not _mentions_staging(result), result.stderr


def test_no_word_about_the_staging_copy_when_merging(project: ProjectCopy) -> None:
    (project.versions / "0003_branch.py").write_text(SECOND_HEAD)

    result = project.invoke("merge")

    assert result.returncode == 0, result.stderr
    assert not _mentions_staging(result), result.stderr
    assert result.stdout.strip().endswith("_merge_heads.py")


@pytest.mark.skipif(FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS, reason="Flask-SQLAlchemy 3.0 and later reach it")
def test_an_in_memory_shadow_database_is_refused_where_flask_sqlalchemy_would_make_it_a_file(
    project: ProjectCopy,
) -> None:
    """Flask-SQLAlchemy 2.x joins the in-memory database's ``file:`` name to the app's folder: the app
    would make a file there. Said before anything is made."""
    project.add_email_column()

    error = project.engine_refuses(project.make_migrations, "add email", where={"database": ":memory:"})

    assert error == (
        "--database :memory: needs Flask-SQLAlchemy 3.0 or later (2.x would make the in-memory "
        "database a file in the app's folder): give a file path, or leave --database out"
    )
