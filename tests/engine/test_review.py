"""Warnings about destructive and risky operations, printed before the revision is written.

Each test changes the models of a private copy of the example project and runs the engine through
its API in this process; the last one shows how warnings are printed, as the invoke front end's own
functions render the result.
"""

import pytest
import sqlalchemy as sa
from alembic.operations import ops
from conftest import BODY, USERNAME, ProjectCopy, Run
from sqlalchemy.dialects import mysql

from flask_makemigrations import Result
from flask_makemigrations.checks.review import review
from flask_makemigrations.findings import Finding

TITLE = "title = db.Column(db.String(120), nullable=False)"
AUTHOR = 'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)'


def warnings_of(result: Run) -> list[str]:
    """The warning blocks on stderr: each starts with ``Warning:`` and may go on for a few lines."""
    blocks: list[str] = []
    for line in result.stderr.splitlines():
        if line.startswith("Warning: "):
            blocks.append(line[len("Warning: ") :])
        elif blocks and line.startswith(" "):
            blocks[-1] += "\n" + line
    return blocks


def shown(result: Result) -> list[str]:
    """What a run shows as warnings: the review's, then verification's differences."""
    return result.warnings + result.differences


def new_files(project: ProjectCopy, before: list[str]) -> list[str]:
    return sorted(set(project.revision_files()) - set(before))


def test_a_likely_rename_shows_the_alter_column_to_write(project: ProjectCopy) -> None:
    project.edit("app/models.py", TITLE, TITLE.replace("title", "headline"))

    result = project.make_migrations(check=True)  # a writing run asks for post.headline's value too

    warning = shown(result)[0]
    assert warning.startswith("column post.title is dropped and post.headline added with the same type")
    assert "batch_op.alter_column('title', new_column_name='headline')" in warning
    assert "with op.batch_alter_table('post') as batch_op:" in warning


def test_a_likely_table_rename_shows_the_rename_table_to_write(project: ProjectCopy) -> None:
    project.edit(
        "app/models.py", "class Post(db.Model):", 'class Post(db.Model):\n    __tablename__ = "article"'
    )

    result = project.make_migrations("posts are articles")

    (warning,) = shown(result)
    assert warning.startswith("table post is dropped and table article created with the same columns")
    assert "    op.rename_table('post', 'article')" in warning


def test_a_dropped_column_warns_of_data_loss(project: ProjectCopy) -> None:
    project.edit("app/models.py", f"\n    {BODY}", "")

    result = project.make_migrations("drop body")

    assert shown(result) == ["column post.body is dropped: its data is lost when this revision runs."]


def test_a_dropped_table_warns_of_data_loss(project: ProjectCopy) -> None:
    models = (project.root / "app/models.py").read_text()
    project.edit("app/models.py", models[models.index("\n\nclass Post") :], "\n")

    result = project.make_migrations("drop posts")

    assert "table post is dropped: every row in it is lost when this revision runs." in shown(result)


def test_a_not_null_column_without_default_warns_and_one_with_default_does_not(project: ProjectCopy) -> None:
    project.add_model_line(USERNAME, "email = db.Column(db.String(120), nullable=False)")
    project.add_model_line(USERNAME, 'role = db.Column(db.String(20), nullable=False, server_default="user")')

    result = project.make_migrations(check=True)  # a writing run stops on the question (test_questions)

    warnings = [warning for warning in shown(result) if warning.startswith("column user.")]
    assert len(warnings) == 1 and warnings[0].startswith("column user.email is added as NOT NULL without a")


def test_a_narrowed_type_warns(project: ProjectCopy) -> None:
    project.edit("app/models.py", USERNAME, USERNAME.replace("String(80)", "String(40)"))

    result = project.make_migrations("shorter names")

    assert shown(result) == [
        "column user.username changes type VARCHAR(80) -> VARCHAR(40), a narrower type: "
        "longer or larger existing values are truncated or refused."
    ]


def test_a_unique_constraint_added_and_a_foreign_key_dropped_warn(project: ProjectCopy) -> None:
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, unique=True"))
    project.edit("app/models.py", AUTHOR, AUTHOR.replace(', db.ForeignKey("user.id")', ""))
    project.edit(
        "app/models.py", 'author = db.relationship("User", backref=db.backref("posts", lazy=True))', ""
    )

    result = project.make_migrations("unique titles, no fk")

    found = shown(result)
    assert any(w.startswith("unique constraint uq_post_title on post (title) is added") for w in found)
    assert any(w.startswith("foreign key fk_post_author_id_user on post is dropped") for w in found)


def test_a_harmless_change_has_no_warning(project: ProjectCopy) -> None:
    """A new nullable column may be unique: all its rows hold NULL, never duplicates."""
    project.add_model_line(USERNAME, "email = db.Column(db.String(120), unique=True)")

    result = project.make_migrations("add email")

    assert shown(result) == []


def test_a_foreign_key_created_again_with_on_delete_is_not_a_drop(project: ProjectCopy) -> None:
    project.edit("app/models.py", 'db.ForeignKey("user.id")', 'db.ForeignKey("user.id", ondelete="CASCADE")')

    result = project.make_migrations("cascade")

    assert "+ foreign key fk_post_author_id_user on post" in result.operations
    assert shown(result) == []


def test_strict_refuses_with_the_warnings_and_writes_nothing(project: ProjectCopy) -> None:
    before = project.revision_files()
    project.edit("app/models.py", USERNAME, USERNAME.replace("String(80)", "String(40)"))

    result = project.makemigrations_shown("shorter names", strict=True)

    assert result.returncode == 2
    assert project.revision_files() == before
    assert "Warning: column user.username changes type" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: --strict: 1 warning(s), so nothing was written"


# --- integer sizes, as MySQL and MariaDB have them ----------------------------------------------------

#: Each as MySQL spells it, and as reflection (or the models) give it.
MYSQL_INTEGERS = {
    "TINYINT(1)": mysql.TINYINT(display_width=1),
    "SMALLINT": sa.SmallInteger(),
    "MEDIUMINT": mysql.MEDIUMINT(),
    "INTEGER": sa.Integer(),
    "INTEGER UNSIGNED": mysql.INTEGER(unsigned=True),
    "BIGINT": sa.BigInteger(),
}


def integer_change(before: str, after: str) -> list[Finding]:
    """The review of one column changing between two of MySQL's integer types."""
    change = ops.AlterColumnOp(
        "part", "count", existing_type=MYSQL_INTEGERS[before], modify_type=MYSQL_INTEGERS[after]
    )
    return review(ops.UpgradeOps([change]), mysql.dialect())


@pytest.mark.parametrize(
    ("before", "after", "range_"),
    [
        ("SMALLINT", "TINYINT(1)", "-128..127"),
        ("INTEGER", "MEDIUMINT", "-8388608..8388607"),
        ("MEDIUMINT", "SMALLINT", "-32768..32767"),
        ("BIGINT", "INTEGER UNSIGNED", "0..4294967295"),
        ("INTEGER UNSIGNED", "INTEGER", "-2147483648..2147483647"),  # values above 2**31 - 1 no longer fit
        ("INTEGER", "INTEGER UNSIGNED", "0..4294967295"),  # negative values no longer fit
        ("SMALLINT", "INTEGER UNSIGNED", "0..4294967295"),
    ],
)
def test_a_smaller_mysql_integer_is_narrower(before: str, after: str, range_: str) -> None:
    (warning,) = integer_change(before, after)
    assert warning == (
        f"column part.count changes type {before} -> {after}, a narrower type: existing values outside "
        f"{range_} are truncated or refused."
    )
    assert warning.kind == "type_narrowed"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("TINYINT(1)", "SMALLINT"),
        ("SMALLINT", "MEDIUMINT"),
        ("MEDIUMINT", "INTEGER"),
        ("INTEGER UNSIGNED", "BIGINT"),
        ("MEDIUMINT", "BIGINT"),
    ],
)
def test_a_larger_mysql_integer_is_not_warned(before: str, after: str) -> None:
    assert integer_change(before, after) == []
