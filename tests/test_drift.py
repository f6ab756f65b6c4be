"""Drift: every difference verification finds between the models and the migrated schema counts.

``--check`` exits 1 for an operation or a difference and lists both on stdout; "No changes detected"
only when there is neither. Where Alembic has an operation for a difference (a server default, a
CHECK constraint, PostgreSQL enum values added), the revision writes it and verification proves it;
what has none is listed. Real ``invoke`` runs where the output and the exit status are the
behaviour, the engine's API in this process where the result is; SQLite, and PostgreSQL where it
differs.
"""

import json

from conftest import HEAD, USERNAME

#: A table the migrations create with an unnamed CHECK that the models lack: no operation can drop
#: a constraint without a name, so it stays a difference on every database.
NOTE_MODEL = """

class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
"""
NOTE_TABLE = (
    '    op.execute("CREATE TABLE note (id INTEGER NOT NULL, body TEXT CHECK (length(body) > 0), '
    'CONSTRAINT pk_note PRIMARY KEY (id))")'
)
UNFIXABLE = "! check constraint on note (length(body) > 0): only in the migrations"


def add_unnamed_check(project) -> None:
    """Migrations whose ``note`` table has a CHECK constraint the models do not have."""
    models = project.root / "app" / "models.py"
    models.write_text(models.read_text() + NOTE_MODEL)
    project.add_revision("0003_note", HEAD, NOTE_TABLE, downgrade='    op.execute("DROP TABLE note")')


def stdout_lines(run) -> list[str]:
    return run.stdout.strip().splitlines()


# --- differences are drift --------------------------------------------------------------------


def test_check_exits_1_for_a_difference_alone_and_lists_it_on_stdout(project):
    add_unnamed_check(project)

    checked = project.invoke("makemigrations", "--check")

    assert checked.returncode == 1, checked.stderr
    (line,) = stdout_lines(checked)
    assert line.startswith(UNFIXABLE), line
    assert "No changes detected" not in checked.stdout + checked.stderr
    assert "Warning: check constraint" not in checked.stderr  # listed once, on stdout
    assert checked.stderr.strip().splitlines()[-1].startswith("Models and migrations differ")


def test_differences_come_after_the_operations(project):
    add_unnamed_check(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    checked = project.invoke("makemigrations", "--check")

    assert checked.returncode == 1, checked.stderr
    operation, difference = stdout_lines(checked)
    assert operation == "+ column user.email"
    assert difference.startswith(UNFIXABLE)


def test_json_carries_the_difference_with_exit_1(project):
    add_unnamed_check(project)

    run = project.invoke("makemigrations", "--check", "--format", "json")

    shown = json.loads(run.stdout)
    assert (run.returncode, shown["status"], shown["exit_status"]) == (1, "changes-pending", 1)
    assert shown["operations"] == []
    (difference,) = shown["differences"]
    assert (difference["kind"], difference["only_in"], difference["objects"]) == (
        "check_constraint",
        "the migrations",
        ["note"],
    )


def test_a_writing_run_that_cannot_write_the_difference_lists_it_and_exits_1(project):
    """Nothing to write, but the models and the migrations differ: not "No changes detected"."""
    add_unnamed_check(project)
    before = project.snapshot()

    run = project.invoke("makemigrations", "-m", "nothing to write")

    assert run.returncode == 1, run.stderr
    assert project.snapshot() == before
    (line,) = stdout_lines(run)
    assert line.startswith(UNFIXABLE) and "by hand" in line
    assert "No changes detected" not in run.stdout + run.stderr


def test_strict_still_turns_a_difference_into_exit_2(project):
    add_unnamed_check(project)

    strict = project.invoke("makemigrations", "--check", "--strict")

    assert strict.returncode == 2
    assert strict.stderr.strip().splitlines()[-1] == "Error: --strict: 1 warning(s), so nothing was written"


def test_no_changes_detected_only_when_there_is_nothing(project):
    checked = project.invoke("makemigrations", "--check")
    assert (checked.returncode, checked.stdout) == (0, "No changes detected\n"), checked.stderr
