"""Verification with rows in the tables: made-up rows (``checks/rows/``) in the tables a new revision
touches, on real SQLite shadow databases (the rows themselves: ``unit/test_made_up_rows.py``); the
engine's API in this process, rendered by the invoke front end's own functions where the exit status
and the one ``Error:`` line are the behaviour, ``flask db upgrade`` to show the same revision applies
to empty tables.
"""

import json
import sqlite3
import sys
from pathlib import Path

from conftest import HEAD, USERNAME, ProjectCopy, Run, dry_run_script

from flask_makemigrations.findings import Finding

TITLE = "title = db.Column(db.String(120), nullable=False)"
AGE = "age = db.Column(db.Integer, nullable=False)"
NOT_NULL_AGE = (
    "revision would fail on a table with rows: user.age is NOT NULL with no default for existing rows; "
    "give it a server default in the model, or a one-off default for the rows there are "
    "(--default user.age=VALUE)"
)
#: A CHECK the made-up rows never satisfy (their text values are ``r1``, ``r2``, ...).
MEMO = """

class Memo(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text, nullable=False)
    __table_args__ = (db.CheckConstraint("body LIKE 'memo:%'", name="body_is_a_memo"),)
"""


def flask_upgrade(project: ProjectCopy, database: Path, revision: str = "head") -> Run:
    """``flask db upgrade`` of the project, on a SQLite file of the test's."""
    command = [sys.executable, "-m", "flask", "db", "upgrade", revision]  # FLASK_APP: no --app before 2.2
    return project.run(command, env={"DATABASE_URL": f"sqlite:///{database}", "FLASK_APP": "app"})


def rows_findings(lines: list[str]) -> list[str]:
    """The lines verification with rows adds (the review's own warnings left out)."""
    return [line for line in lines if line.startswith(("revision would fail on a table", "fails if"))]


def test_a_not_null_column_without_a_default_fails_on_rows_but_applies_to_empty_tables(
    project: ProjectCopy,
) -> None:
    project.add_model_line(USERNAME, AGE)

    checked = project.make_migrations(check=True)
    script = dry_run_script(project.make_migrations(dry_run=True))

    assert checked.operations == ["+ column user.age"]
    (finding,) = rows_findings(checked.warnings)
    assert finding.startswith(NOT_NULL_AGE)
    assert not any(line.startswith("verification failed at") for line in checked.warnings)
    # The same revision, with `flask db upgrade`: it applies to empty tables, not to a table with rows.
    revision = script.split("revision = ", 1)[1].split("\n", 1)[0].strip("'\"")
    (project.versions / f"{revision}_age.py").write_text(script)
    empty, with_rows = project.root / "empty.sqlite", project.root / "rows.sqlite"
    assert flask_upgrade(project, empty).returncode == 0
    assert flask_upgrade(project, with_rows, HEAD).returncode == 0
    with sqlite3.connect(with_rows) as connection:  # commits, but does not close
        connection.execute("INSERT INTO user (username) VALUES ('ann')")
    connection.close()
    failed = flask_upgrade(project, with_rows)
    assert failed.returncode != 0 and "Cannot add a NOT NULL column with default value NULL" in failed.stderr


def test_a_writing_run_refuses_a_revision_that_fails_on_any_table_with_rows(project: ProjectCopy) -> None:
    """A revision (here: its template) that no table with rows takes is refused before it is written,
    with exit status 2 and one ``Error:`` line; the same revision on empty tables passes."""
    project.edit(
        "migrations/script.py.mako",
        "def upgrade():\n",
        "def upgrade():\n    op.execute('UPDATE post SET title = NULL')\n",
    )
    project.add_model_line(TITLE, "subtitle = db.Column(db.String(120))")
    before = project.revision_files()

    error = project.refused_shown(project.makemigrations_shown, "subtitle")
    written = project.make_migrations("subtitle", verify=False)

    assert error == (
        "Error: revision would fail on a table with rows: NOT NULL constraint failed: post.title; "
        "nothing was written; --no-verify writes the revision anyway, for a hand edit"
    )
    assert written.path is not None and flask_upgrade(project, project.root / "empty.sqlite").returncode == 0
    assert project.new_revisions(before) == [written.path]


def test_a_unique_constraint_over_duplicate_values_is_a_warning_and_strict_refuses_it(
    project: ProjectCopy,
) -> None:
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, unique=True"))

    strict = project.engine_refuses(project.make_migrations, "unique titles", strict=True)
    written = project.make_migrations("unique titles")

    (warning,) = rows_findings(written.warnings)
    assert warning == (
        "fails if post.title holds duplicate values: UNIQUE constraint failed: _alembic_tmp_post.title; "
        "check the production data before it is deployed"
    )
    assert isinstance(warning, Finding) and warning.kind == "fails_with_rows"
    assert written.path is not None
    assert strict.startswith("--strict: ")


def test_a_table_whose_check_the_rows_cannot_satisfy_is_left_empty_with_a_note(project: ProjectCopy) -> None:
    (project.root / "app" / "models.py").write_text((project.root / "app" / "models.py").read_text() + MEMO)
    assert project.make_migrations("memos").path is not None
    body = "    body = db.Column(db.Text, nullable=False)\n    __table_args__"
    project.edit("app/models.py", body, body.replace("\n", "\n    title = db.Column(db.String(40))\n", 1))

    result = project.make_migrations("memo titles")

    assert result.operations == ["+ column memo.title"]
    assert rows_findings(result.warnings) == []
    (note,) = [str(note) for note in result.notes if "verification with rows" in str(note)]
    assert note.startswith("verification with rows left table memo empty: the database refused the rows")
    assert "CHECK constraint failed" in note


def test_a_downgrade_that_fails_on_rows_is_a_note(project: ProjectCopy) -> None:
    """The downgrade autogenerate writes for a dropped NOT NULL column adds it back NOT NULL: no table
    with rows takes it, but no deploy runs it either, so it is no warning."""
    project.edit("app/models.py", "\n    body = db.Column(db.Text, nullable=False)", "")

    result = project.make_migrations("drop body")

    assert result.path is not None
    assert result.warnings == ["column post.body is dropped: its data is lost when this revision runs."]
    (note,) = [str(note) for note in result.notes if "with rows" in str(note)]
    assert note == (
        "the downgrade would fail on a table with rows: Cannot add a NOT NULL column with default value "
        "NULL; edit it to take it back on data"
    )


def test_identical_runs_report_identically(project: ProjectCopy) -> None:
    """Without a revision id given, each run's pending revision has another: the report names none."""
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, unique=True"))

    first = project.makemigrations_shown(check=True, format="json")
    second = project.makemigrations_shown(check=True, format="json")

    assert (first.returncode, second.returncode) == (1, 1), first.stderr + second.stderr
    reports = [json.loads(run.stdout) for run in (first, second)]
    (warning,) = [entry for entry in reports[0]["warnings"] if entry["kind"] == "fails_with_rows"]
    assert warning["conditions"] == ["post.title holds duplicate values"]
    assert warning["message"].startswith("fails if post.title holds duplicate values: UNIQUE constraint")
    for report in reports:
        report.pop("shadow")  # built by the first run, restored from the cache by the second
    assert reports[0] == reports[1]


def test_a_column_made_not_null_warns_that_it_fails_if_it_holds_nulls(project: ProjectCopy) -> None:
    nickname = "nickname = db.Column(db.String(30))"
    project.add_model_line(USERNAME, nickname)
    assert project.make_migrations("nicknames").path is not None
    project.edit("app/models.py", nickname, nickname.replace("))", "), nullable=False)"))

    result = project.make_migrations(check=True)

    assert result.operations == ["~ column user.nickname (not null)"]
    (warning,) = rows_findings(result.warnings)
    assert warning.startswith(
        "fails if user.nickname holds NULL values: NOT NULL constraint failed: _alembic_tmp_user.nickname;"
    )


def test_rows_a_data_migration_put_in_a_table_are_left_alone(project: ProjectCopy) -> None:
    """The history's own row (named as the first made-up one would be) is what the revision meets in
    its table: no rows are added there, so none collides with it."""
    project.add_revision("0003_seed", HEAD, "    op.execute(\"INSERT INTO user (username) VALUES ('r1')\")")
    project.add_model_line(USERNAME, "nickname = db.Column(db.String(30))")

    result = project.make_migrations(check=True)

    assert (result.operations, result.warnings) == (["+ column user.nickname"], [])
    assert [str(note) for note in result.notes if "with rows" in str(note)] == []


def test_verify_goes_up_the_history_again_over_rows_and_notes_where_it_stops(project: ProjectCopy) -> None:
    """The users the first revision's table got are there when the third adds a NOT NULL column: on
    empty tables every revision passes, so ``verify`` passes, with a note naming where rows stop."""
    project.add_model_line(USERNAME, AGE)
    batch = "    with op.batch_alter_table('user') as batch_op:\n        batch_op."
    project.add_revision(
        "0003_age",
        HEAD,
        f"{batch}add_column(sa.Column('age', sa.Integer(), nullable=False))",
        downgrade=f"{batch}drop_column('age')",
    )

    verified = project.verify_history()
    clean = project.verify_shown()

    assert verified.revisions == 3
    (note,) = [str(note) for note in verified.notes if "with rows" in str(note)]
    assert note.startswith(
        "verification with rows stopped where a database with rows would: "
        "revision 0003_age (migrations/versions/0003_age.py) failed to apply: "
    )
    assert "Cannot add a NOT NULL column with default value NULL" in note
    assert clean.returncode == 0 and clean.stdout.startswith("Verified 3 revision(s) in "), clean.stderr
    assert f"Note: {note}" in clean.stderr


def test_a_check_constraint_the_made_up_rows_break_is_a_warning_not_a_refusal(project: ProjectCopy) -> None:
    """Whether rows satisfy a CHECK the revision adds depends on the data (``r1`` is shorter than the
    titles this one asks for): a warning naming the constraint, and the revision is written."""
    project.add_model_line(
        "body = db.Column(db.Text, nullable=False)",
        '__table_args__ = (db.CheckConstraint("length(title) > 5", name="title_long"),)',
    )

    result = project.make_migrations("long titles")

    assert result.operations == ["+ check constraint ck_post_title_long on post"]
    assert result.path is not None
    (warning,) = rows_findings(result.warnings)
    assert warning == (
        "fails if post holds rows its new check constraint ck_post_title_long rejects: "
        "CHECK constraint failed: ck_post_title_long; check the production data before it is deployed"
    )
