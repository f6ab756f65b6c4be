"""Django's questions: a column or table renamed, a NOT NULL column added without a default. Answered
up front (``--rename``, ``--default``), on a terminal, or not at all; the revisions written keep the
rows' values when ``flask db upgrade`` applies them to a database that holds rows.

Through the engine in this process where the answers are given as values, the exit status 3 and the
JSON object as the invoke front end's own functions render them; real processes for the terminal (a
pseudo-terminal on stdin and stderr), for answers the command line cannot read, and for ``flask db``.
"""

import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HEAD, USERNAME, ProjectCopy

from flask_makemigrations import Mode, Project, Request, make_migrations
from flask_makemigrations.api import Result
from flask_makemigrations.questioner import Answers
from flask_makemigrations.run.session import Runtime

HANDLE = "handle = db.Column(db.String(80), unique=True, nullable=False)"
AGE = "age = db.Column(db.Integer, nullable=False)"


def rename_username(project: ProjectCopy) -> None:
    project.edit("app/models.py", USERNAME, HANDLE)


def add_age(project: ProjectCopy) -> None:
    project.add_model_line(USERNAME, AGE)


def answered(
    project: ProjectCopy, renames: tuple[str, ...] = (), defaults: tuple[str, ...] = (), **options: object
) -> Result:
    """``make_migrations`` with answers given up front (``message`` writes, else ``--check``)."""
    message = options.pop("message", None)
    mode = Mode.WRITE if message else Mode.CHECK
    runtime = Runtime(questioner=Answers.parse(renames, defaults))
    with project.inside():
        return make_migrations(Project(), Request(mode=mode, message=message, **options), runtime)  # type: ignore[arg-type]


def database_with_rows(project: ProjectCopy, path: Path) -> dict[str, str]:
    """A database at the previous head that holds two users, as a developer's does; the environment
    that points ``flask db`` at it."""
    env = {"DATABASE_URL": f"sqlite:///{path}", "FLASK_APP": "app"}
    upgraded = project.run([sys.executable, "-m", "flask", "db", "upgrade", HEAD], env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO user (username) VALUES (?)", [("alice",), ("bob",)])
    connection.close()
    return env


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        found = connection.execute(query).fetchall()
    connection.close()
    return found


# --- renames --------------------------------------------------------------------------------------


def test_a_rename_answered_up_front_keeps_the_rows_values_both_ways(
    project: ProjectCopy, tmp_path: Path
) -> None:
    rename_username(project)
    real = tmp_path / "dev.sqlite"
    env = database_with_rows(project, real)

    checked = answered(project, ("user.username=handle",))
    written = answered(project, ("user.username=handle",), message="handle")

    assert checked.operations[0] == "~ column user.username (renamed to handle)"
    assert not any("- column" in line or "+ column" in line for line in checked.operations)
    assert written.path is not None and written.differences == []
    assert project.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env).returncode == 0
    assert rows(real, "SELECT handle FROM user ORDER BY id") == [("alice",), ("bob",)]
    assert project.run([sys.executable, "-m", "flask", "db", "downgrade"], env=env).returncode == 0
    assert rows(real, "SELECT username FROM user ORDER BY id") == [("alice",), ("bob",)]


def test_an_unanswered_rename_is_assumed_no_with_the_option_that_answers_it(project: ProjectCopy) -> None:
    rename_username(project)

    checked = answered(project)

    assert "- column user.username" in checked.operations and "+ column user.handle" in checked.operations
    (warning,) = [str(w) for w in checked.warnings if "is dropped and" in str(w)]
    assert "Answer it with --rename user.username=handle" in warning
    asked = [(q.kind, q.option) for q in checked.questions]
    assert asked[0] == ("rename_column", "--rename user.username=handle")
    assert asked[1:] == [("not_null_default", "--default user.handle=VALUE")]  # Django asks this too


def test_a_rename_answered_no_up_front_is_a_drop_and_an_add(project: ProjectCopy) -> None:
    """``--rename user.username=other`` answers this pair: not that rename."""
    rename_username(project)
    checked = answered(project, ("user.username=other",))
    assert "- column user.username" in checked.operations
    assert [q.kind for q in checked.questions] == ["not_null_default"]  # for user.handle, added


NOTE_TABLE = (
    "    op.create_table('note', sa.Column('id', sa.Integer(), nullable=False), "
    "sa.Column('body', sa.Text(), nullable=True), sa.PrimaryKeyConstraint('id', name='pk_note'))"
)
MEMO_MODEL = """

class Memo(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
"""


def test_a_table_rename_answered_up_front_keeps_its_rows(project: ProjectCopy, tmp_path: Path) -> None:
    project.add_revision("0003_note", HEAD, NOTE_TABLE, downgrade="    op.drop_table('note')")
    project.write("app/models.py", (project.root / "app/models.py").read_text() + MEMO_MODEL)
    real = tmp_path / "dev.sqlite"
    env = {"DATABASE_URL": f"sqlite:///{real}", "FLASK_APP": "app"}
    assert project.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env).returncode == 0
    with sqlite3.connect(real) as connection:
        connection.execute("INSERT INTO note (body) VALUES ('kept')")
    connection.close()

    written = answered(project, ("note=memo",), message="memo")

    assert written.operations == ["~ table note renamed to memo"]
    assert written.differences == [] and written.path is not None
    assert project.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env).returncode == 0
    assert rows(real, "SELECT body FROM memo") == [("kept",)]


# --- a NOT NULL column added without a default -----------------------------------------------------


def test_a_one_off_default_fills_the_rows_and_leaves_no_default(project: ProjectCopy, tmp_path: Path) -> None:
    add_age(project)
    real = tmp_path / "dev.sqlite"
    env = database_with_rows(project, real)

    written = answered(project, defaults=("user.age=7",), message="age")

    assert written.path is not None and written.differences == []
    assert project.run([sys.executable, "-m", "flask", "db", "upgrade"], env=env).returncode == 0
    assert rows(real, "SELECT username, age FROM user ORDER BY id") == [("alice", 7), ("bob", 7)]
    (schema,) = rows(real, "SELECT sql FROM sqlite_master WHERE name = 'user'")
    assert "DEFAULT" not in str(schema[0])  # the models have none: the schema matches them


def test_an_unanswered_not_null_column_stops_a_writing_run_with_status_3(project: ProjectCopy) -> None:
    add_age(project)
    before = project.snapshot()

    result = project.makemigrations_shown("age")

    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert result.error.startswith("Error: It is impossible to add the NOT NULL column user.age (INTEGER)")
    assert "--default user.age=VALUE" in result.error and "nothing was written" in result.error
    assert project.snapshot() == before and project.leftovers() == []


def test_check_lists_the_question_and_json_names_the_option(project: ProjectCopy) -> None:
    add_age(project)
    checked = project.makemigrations_shown(check=True, format="json")
    assert checked.returncode == 1, checked.stderr
    shown = json.loads(checked.stdout)
    assert shown["questions"] == [
        {
            "kind": "not_null_default",
            "question": "It is impossible to add the NOT NULL column user.age (INTEGER) without a default: "
            "the rows user has need a value",
            "option": "--default user.age=VALUE",
        }
    ]


def test_json_of_a_run_stopped_by_a_question(project: ProjectCopy) -> None:
    add_age(project)
    stopped = project.makemigrations_shown("age", format="json")
    assert stopped.returncode == 3, stopped.stderr
    shown = json.loads(stopped.stdout)
    assert shown["status"] == "unanswered" and shown["exit_status"] == 3
    assert [q["option"] for q in shown["questions"]] == ["--default user.age=VALUE"]
    assert shown["error"]["kind"] == "UnansweredQuestionError"


RENAME_FORM = "give user.name=full_name (a column) or old_table=new_table"
DEFAULT_FORM = "give table.column=VALUE, e.g. user.age=0"


@pytest.mark.parametrize(
    ("given", "error"),
    [
        (["--rename", "username"], f"Error: --rename username: {RENAME_FORM}"),
        (
            ["--rename", "user.username=user.handle"],
            f"Error: --rename user.username=user.handle: {RENAME_FORM}",
        ),
        (["--default", "age=3"], f"Error: --default age=3: {DEFAULT_FORM}"),
        (["--default", "user.age="], f"Error: --default user.age=: {DEFAULT_FORM}"),
    ],
)
@pytest.mark.version_independent
def test_answers_that_cannot_be_read_are_refused(project: ProjectCopy, given: list[str], error: str) -> None:
    assert project.refuses("makemigrations", "--check", *given) == error


# --- on a terminal ------------------------------------------------------------------------------


def on_terminal(project: ProjectCopy, typed: str, *args: str) -> tuple[int, str]:
    """A run with stdin and stderr on one pseudo-terminal, as at a shell, ``typed`` typed ahead."""
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        project.invoke_command(*args),
        cwd=project.root,
        env=project.environment(),
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
    ) as process:
        os.close(terminal)
        os.write(controller, typed.encode())
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the last writer is gone
                break
            if not chunk:
                break
            shown += chunk
        process.wait(timeout=120)
    os.close(controller)
    return process.returncode, shown.decode().replace("\r\n", "\n")


def test_on_a_terminal_a_rename_is_asked_and_yes_writes_it(project: ProjectCopy) -> None:
    rename_username(project)
    status, shown = on_terminal(project, "y\n", "makemigrations", "-m", "handle")
    assert status == 0, shown
    assert "Did you rename user.username to user.handle (VARCHAR(80))? [y/N]" in shown
    (written,) = project.versions.glob("*_handle.py")
    assert "new_column_name='handle'" in written.read_text()


def test_on_a_terminal_a_one_off_default_is_asked_for(project: ProjectCopy) -> None:
    add_age(project)
    status, shown = on_terminal(project, "1\n0\n", "makemigrations", "-m", "age")
    assert status == 0, shown
    assert " 1) Provide a one-off default now (used for existing rows only)" in shown
    (written,) = project.versions.glob("*_age.py")
    assert "server_default='0'" in written.read_text()


def test_on_a_terminal_quitting_is_status_3(project: ProjectCopy) -> None:
    add_age(project)
    status, shown = on_terminal(project, "2\n", "makemigrations", "-m", "age")
    assert status == 3, shown
    assert list(project.versions.glob("*_age.py")) == []


def test_check_never_asks_even_on_a_terminal(project: ProjectCopy) -> None:
    add_age(project)
    status, shown = on_terminal(project, "", "makemigrations", "--check")
    assert status == 1, shown
    assert "Select an option" not in shown and "--default user.age=VALUE" in shown
