"""The main job end to end, and each option of ``invoke makemigrations``.

The engine's API in this process on a private copy of the example project: the main job, the exit
statuses of ``--check`` and the lines shown (the invoke front end's own functions render the result),
what each option does, its refusals and the message's escaping. A real ``invoke`` subprocess where only
a process shows it: stdout of ``--dry-run`` and help.
"""

import ast
import os
from pathlib import Path

import pytest
from conftest import HEAD, ProjectCopy, Run, dry_run_script

from flask_makemigrations import Result
from flask_makemigrations.compat import FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS

TAG_MODEL = """

class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(40), nullable=False)
"""


def written(project: ProjectCopy, result: Run, before: list[str]) -> str:
    """The one revision a successful run wrote: its path is the first line of stdout."""
    assert result.returncode == 0, result.stderr
    (new,) = project.new_revisions(before)
    assert result.stdout.splitlines()[0] == os.path.join("migrations", "versions", new.name)
    return new.read_text()


def written_by_engine(project: ProjectCopy, result: Result, before: list[str]) -> str:
    """The one revision a successful engine call wrote, which its result names."""
    (new,) = project.new_revisions(before)
    assert result.path == new
    return new.read_text()


def test_no_changes(project: ProjectCopy) -> None:
    """Models and history agree: say so, write nothing."""
    before = project.snapshot()
    result = project.make_migrations("nothing")
    assert (result.operations, result.path, result.revision) == ([], None, None)
    assert project.snapshot() == before


def test_added_column_gives_one_revision_then_no_changes(project: ProjectCopy) -> None:
    before = project.revision_files()
    project.add_email_column()

    result = project.makemigrations_shown("add email")

    script = written(project, result, before)
    assert project.new_revisions(before)[0].name.endswith("_add_email.py")
    assert result.stdout.splitlines()[1:] == ["  + column user.email"]
    assert "add_column(sa.Column('email'" in script
    assert f"down_revision = {HEAD!r}" in script
    # library deprecation warnings do not flood the output (any other would fail the test: pyproject.toml)
    assert "Warning" not in result.stderr

    again = project.makemigrations_shown("again")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "No changes detected\n"
    assert len(project.revision_files()) == len(before) + 1


def test_added_table(project: ProjectCopy) -> None:
    before = project.revision_files()
    project.edit("app/models.py", "class Post(db.Model):", f"{TAG_MODEL.strip()}\n\n\nclass Post(db.Model):")

    result = project.make_migrations("add tag")

    script = written_by_engine(project, result, before)
    assert result.operations == ["+ table tag"]
    assert "op.create_table('tag'" in script


def test_dropped_column(project: ProjectCopy) -> None:
    before = project.revision_files()
    project.edit("app/models.py", "    body = db.Column(db.Text, nullable=False)\n", "")

    result = project.make_migrations("drop body")

    script = written_by_engine(project, result, before)
    assert result.operations == ["- column post.body"]
    assert "drop_column('body')" in script


def test_check_lists_pending_operations_and_exits_1(project: ProjectCopy) -> None:
    project.add_email_column()
    before = project.snapshot()

    result = project.makemigrations_shown(check=True)

    assert result.returncode == 1, result.stderr
    assert result.stdout == "+ column user.email\n"
    assert "Traceback" not in result.stderr
    assert project.snapshot() == before


def test_check_exits_0_when_models_match(project: ProjectCopy) -> None:
    before = project.snapshot()
    result = project.makemigrations_shown(check=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "No changes detected\n"
    assert project.snapshot() == before


def test_dry_run_prints_the_script_and_writes_nothing(project: ProjectCopy) -> None:
    """stdout is the script alone, so it can be piped: even what the app prints goes to stderr (the
    front end moves descriptor 1 at the start of the run: a process)."""
    project.add_email_column()
    project.edit("app/__init__.py", "    return app", '    print("factory says hello")\n    return app')
    before = project.snapshot()

    result = project.invoke("makemigrations", "--dry-run", "-m", "add email")

    assert result.returncode == 0, result.stderr
    ast.parse(result.stdout)
    assert "factory says hello" in result.stderr
    assert result.stdout.startswith('"""add email')
    assert f"down_revision = {HEAD!r}" in result.stdout
    assert "add_column(sa.Column('email'" in result.stdout
    assert "+ column user.email" in result.stderr
    assert project.snapshot() == before


def test_dry_run_without_changes(project: ProjectCopy) -> None:
    before = project.snapshot()
    result = project.make_migrations(dry_run=True)
    assert (result.operations, result.script, result.path) == ([], None, None)
    assert project.snapshot() == before


def test_dry_run_needs_no_message(project: ProjectCopy) -> None:
    project.add_email_column()
    before = project.snapshot()
    result = project.make_migrations(dry_run=True)
    assert "add_column(sa.Column('email'" in dry_run_script(result) and result.path is None
    assert project.snapshot() == before


def test_empty_writes_a_blank_revision_even_with_model_changes(project: ProjectCopy) -> None:
    before = project.revision_files()
    project.add_email_column()

    result = project.make_migrations("backfill emails", empty=True)

    script = written_by_engine(project, result, before)
    assert "op." not in script and result.operations == []
    assert f"down_revision = {HEAD!r}" in script
    # The model change is still pending, and builds on the blank revision.
    after_empty = project.revision_files()
    script = written_by_engine(project, project.make_migrations("add email"), after_empty)
    assert "add_column(sa.Column('email'" in script


def test_empty_when_nothing_changed(project: ProjectCopy) -> None:
    before = project.revision_files()
    script = written_by_engine(project, project.make_migrations("data fix", empty=True), before)
    assert "def upgrade():\n    pass" in script


def test_rev_id(project: ProjectCopy) -> None:
    project.add_email_column()
    result = project.make_migrations("add email", rev_id="0003_email")
    assert result.path == project.versions / "0003_email_add_email.py" and result.path.is_file()
    assert project.heads() == ["0003_email"]


@pytest.mark.parametrize(
    ("rev_id", "complaint"),
    [(HEAD, "already exists"), ("sub/0003", "cannot contain"), ("0003-email", "not allowed")],
    ids=["existing", "path", "alembic-illegal"],
)
def test_unusable_rev_id_is_refused(project: ProjectCopy, rev_id: str, complaint: str) -> None:
    project.add_email_column()
    error = project.engine_refuses(project.make_migrations, "add email", rev_id=rev_id)
    assert rev_id in error and complaint in error


@pytest.mark.version_independent  # the request's own checks, before Alembic's
@pytest.mark.parametrize(
    "rev_id", ["base", "head", "heads", "current", "a@b", "a:b", "a..b", ".hidden", "step-1"]
)
def test_rev_ids_alembic_would_misread_are_refused(project: ProjectCopy, rev_id: str) -> None:
    """Written without complaint, each would make every later run crash (or, '.x', hide the file)."""
    project.add_email_column()
    error = project.engine_refuses(project.make_migrations, "add email", rev_id=rev_id)
    assert error.startswith(f"--rev-id {rev_id!r}: ")
    assert "symbols" in error or "revision syntax" in error


def test_a_history_with_a_misreadable_rev_id_is_a_clear_error(project: ProjectCopy) -> None:
    project.add_revision("base", HEAD)

    for error in (
        project.engine_refuses(project.make_migrations, check=True),
        project.engine_refuses(project.verify_history),
    ):
        assert error.startswith("revision 'base' (migrations/versions/base.py) cannot be used: ")
        assert "rename it" in error


@pytest.mark.parametrize(
    "message", ['say """hi"""', "files in C:\\Users\\new", 'ends with a quote"', '""""'], ids=str
)
def test_any_message_gives_a_valid_revision_that_keeps_it(project: ProjectCopy, message: str) -> None:
    """The template puts the message in a docstring: quotes and backslashes must not break it."""
    before = project.revision_files()
    project.add_email_column()

    result = project.make_migrations(message)

    (new,) = project.new_revisions(before)
    assert result.path == new
    docstring = ast.get_docstring(ast.parse(new.read_text()))
    assert docstring is not None and docstring.splitlines()[0] == message


#: Flask-SQLAlchemy 2.x makes every SQLite name a file in the app's folder: no in-memory shadow database.
OLD_FLASK_SQLALCHEMY = pytest.mark.skipif(
    FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS is False, reason="Flask-SQLAlchemy 2.x cannot reach it"
)


@pytest.mark.parametrize(
    "database", [pytest.param(":memory:", marks=OLD_FLASK_SQLALCHEMY), "new-shadow.sqlite"]
)
def test_database_option(project: ProjectCopy, tmp_path: Path, database: str) -> None:
    """An in-memory shadow database, or a new file the tool creates and removes."""
    if database != ":memory:":
        database = str(tmp_path / database)
    before = project.revision_files()
    project.add_email_column()

    result = project.make_migrations("add email", where={"database": database})

    assert "add_column(sa.Column('email'" in written_by_engine(project, result, before)
    assert not (tmp_path / "new-shadow.sqlite").exists()


@pytest.mark.version_independent  # the request's own checks
@pytest.mark.parametrize(
    "message", [None, "", "   ", "\t \n"], ids=["missing", "empty", "blank", "whitespace"]
)
def test_message_is_required(project: ProjectCopy, message: str | None) -> None:
    project.add_email_column()
    assert "a message is required" in project.engine_refuses(project.make_migrations, message)


@pytest.mark.version_independent  # the front end's parsing and error line
def test_a_missing_message_is_one_error_line_of_the_task(project: ProjectCopy) -> None:
    assert "a message is required" in project.refuses("makemigrations")


@pytest.mark.version_independent  # the request's own checks
@pytest.mark.parametrize("flags", [{"check": True, "dry_run": True}, {"check": True, "empty": True}])
def test_contradictory_flags_are_refused(project: ProjectCopy, flags: dict[str, bool]) -> None:
    assert "cannot be combined" in project.engine_refuses(project.make_migrations, "x", **flags)


def test_every_option_has_help(project: ProjectCopy) -> None:
    result = project.invoke("--help", "makemigrations")
    assert result.returncode == 0, result.stderr
    options = [line[2:] for line in result.stdout.splitlines() if line.startswith("  -")]
    long_flags = {o.split("  ")[0].split("=")[0].split(", ")[-1] for o in options}
    assert long_flags == {
        "--against",
        "--app",
        "--bind-env",
        "--check",
        "--database",
        "--directory",
        "--dry-run",
        "--empty",
        "--format",
        "--message",
        "--no-cache",
        "--no-verify",
        "--rename",
        "--default",
        "--rev-id",
        "--safe",
        "--strict",
        "--url-env",
        "--verbose",
    }, result.stdout
    for option in options:
        flags, _, help_text = option.partition("  ")
        assert help_text.strip(), f"no help for {flags}"
    assert any(o.startswith("-m STRING, --message") for o in options)
    assert any(o.startswith("-d STRING, --directory") for o in options)


def test_verbose_shows_alembic_log(project: ProjectCopy, capfd: pytest.CaptureFixture[str]) -> None:
    from flask_makemigrations import Runtime

    project.add_email_column()
    result = project.make_migrations(check=True, runtime=Runtime(verbose=True))
    assert result.operations == ["+ column user.email"]  # what exits 1
    assert f"Running upgrade 0001_users -> {HEAD}" in capfd.readouterr().err
