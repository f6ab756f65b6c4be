"""Drift: every difference verification finds between the models and the migrated schema counts.

``--check`` exits 1 for an operation or a difference and lists both on stdout; "No changes detected"
only when there is neither. Where Alembic has an operation for a difference (a server default, a
CHECK constraint, PostgreSQL enum values added), the revision writes it and verification proves it;
what has none is listed. The engine's API in this process, with the output and the exit status
the invoke front end's own functions make of its result where they are the behaviour; SQLite, and
PostgreSQL where it differs.
"""

import json

from conftest import BODY, HEAD, USERNAME, ProjectCopy, Run, written_text
from pg_cluster import Cluster
from project_edits import add_unnamed_check
from server_runs import make

UNFIXABLE = "! check constraint on note (length(body) > 0): only in the migrations"


def stdout_lines(run: Run) -> list[str]:
    return run.stdout.strip().splitlines()


# --- differences are drift --------------------------------------------------------------------


def test_check_exits_1_for_a_difference_alone_and_lists_it_on_stdout(project: ProjectCopy) -> None:
    add_unnamed_check(project)

    checked = project.makemigrations_shown(check=True)

    assert checked.returncode == 1, checked.stderr
    (line,) = stdout_lines(checked)
    assert line.startswith(UNFIXABLE), line
    assert "No changes detected" not in checked.stdout + checked.stderr
    assert "Warning: check constraint" not in checked.stderr  # listed once, on stdout
    assert checked.stderr.strip().splitlines()[-1].startswith("Models and migrations differ")


def test_differences_come_after_the_operations(project: ProjectCopy) -> None:
    add_unnamed_check(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    checked = project.makemigrations_shown(check=True)

    assert checked.returncode == 1, checked.stderr
    operation, difference = stdout_lines(checked)
    assert operation == "+ column user.email"
    assert difference.startswith(UNFIXABLE)


def test_json_carries_the_difference_with_exit_1(project: ProjectCopy) -> None:
    add_unnamed_check(project)

    run = project.makemigrations_shown(check=True, format="json")

    shown = json.loads(run.stdout)
    assert (run.returncode, shown["status"], shown["exit_status"]) == (1, "changes-pending", 1)
    assert shown["operations"] == []
    (difference,) = shown["differences"]
    assert (difference["kind"], difference["only_in"], difference["objects"]) == (
        "check_constraint",
        "the migrations",
        ["note"],
    )


def test_a_writing_run_that_cannot_write_the_difference_lists_it_and_exits_1(project: ProjectCopy) -> None:
    """Nothing to write, but the models and the migrations differ: not "No changes detected"."""
    add_unnamed_check(project)
    before = project.snapshot()

    run = project.makemigrations_shown("nothing to write")

    assert run.returncode == 1, run.stderr
    assert project.snapshot() == before
    (line,) = stdout_lines(run)
    assert line.startswith(UNFIXABLE) and "by hand" in line
    assert "No changes detected" not in run.stdout + run.stderr


def test_strict_still_turns_a_difference_into_exit_2(project: ProjectCopy) -> None:
    add_unnamed_check(project)

    error = project.engine_refuses(project.make_migrations, check=True, strict=True)

    assert (
        error == "--strict: 1 warning(s), so nothing was written"
    )  # its Error line, exit 2: tests/cli/test_json_output.py


def test_no_changes_detected_only_when_there_is_nothing(project: ProjectCopy) -> None:
    checked = project.makemigrations_shown(check=True)
    assert (checked.returncode, checked.stdout) == (0, "No changes detected\n"), checked.stderr


# --- operations for the differences Alembic can write ------------------------------------------

STATUS = "status = db.Column(db.String(20), nullable=False)"
CHECK = '__table_args__ = (db.CheckConstraint("length(body) > 0", name="body_not_empty"),)'


def add_status_with_a_default_the_model_lacks(project: ProjectCopy) -> None:
    """Migrations that give ``user.status`` a server default; the model has none."""
    project.add_model_line(USERNAME, STATUS)
    add = "op.add_column('user', sa.Column('status', sa.String(20), nullable=False, server_default='active'))"
    project.add_revision("0003_status", HEAD, f"    {add}", downgrade="    op.drop_column('user', 'status')")


def written(project: ProjectCopy) -> str:
    """The revision a writing run wrote: its text; the run said it on stdout."""
    before = project.revision_files()
    run = project.makemigrations_shown("drift")
    assert run.returncode == 0, run.stderr
    (new,) = project.new_revisions(before)
    assert stdout_lines(run)[0] == f"migrations/versions/{new.name}"
    return new.read_text()


def test_a_server_default_only_the_migrations_have_is_an_operation_written_and_verified(
    project: ProjectCopy,
) -> None:
    add_status_with_a_default_the_model_lacks(project)

    checked = project.makemigrations_shown(check=True)
    assert checked.returncode == 1, checked.stderr
    assert stdout_lines(checked) == ["~ column user.status (server default)"]

    text = written(project)
    upgrade, downgrade = text.split("def downgrade")
    assert "with op.batch_alter_table('user'" in upgrade  # env.py's render_as_batch
    assert "server_default=None" in upgrade and "existing_type=sa.String(length=20)" in upgrade
    assert "server_default=sa.text(\"'active'\")" in downgrade
    again = project.make_migrations(check=True)
    assert (again.operations, again.differences) == ([], [])  # what "No changes detected" reports
    assert project.verify_history().revisions == 4


def test_a_check_constraint_only_in_the_models_is_created_and_dropped_on_downgrade(
    project: ProjectCopy,
) -> None:
    project.add_model_line(BODY, CHECK)

    result = project.make_migrations("body not empty")

    assert (result.operations, result.differences) == (
        ["+ check constraint ck_post_body_not_empty on post"],
        [],
    )
    upgrade, downgrade = written_text(result).split("def downgrade")
    assert "create_check_constraint(batch_op.f('ck_post_body_not_empty'), 'length(body) > 0')" in upgrade
    assert "drop_constraint(batch_op.f('ck_post_body_not_empty'), type_='check')" in downgrade
    assert project.make_migrations(check=True).operations == []


def test_a_check_constraint_only_in_the_migrations_is_dropped_and_comes_back_on_downgrade(
    project: ProjectCopy,
) -> None:
    project.add_revision(
        "0003_check",
        HEAD,
        "    with op.batch_alter_table('post') as batch_op:\n"
        "        batch_op.create_check_constraint(batch_op.f('ck_post_title'), 'length(title) > 1')",
        downgrade="    with op.batch_alter_table('post') as batch_op:\n"
        "        batch_op.drop_constraint(batch_op.f('ck_post_title'), type_='check')",
    )

    result = project.make_migrations("no title check")

    assert (result.operations, result.differences) == (["- check constraint ck_post_title on post"], [])
    upgrade, downgrade = written_text(result).split("def downgrade")
    assert "drop_constraint(batch_op.f('ck_post_title'), type_='check')" in upgrade
    assert "create_check_constraint(batch_op.f('ck_post_title'), 'length(title) > 1')" in downgrade


def test_json_carries_the_operation_verification_found(project: ProjectCopy) -> None:
    add_status_with_a_default_the_model_lacks(project)

    run = project.makemigrations_shown(check=True, format="json")

    shown = json.loads(run.stdout)
    assert (run.returncode, shown["differences"], shown["revision"]) == (1, [], None)
    (operation,) = shown["operations"]
    assert (operation["kind"], operation["table"], operation["column"], operation["changes"]) == (
        "alter_column",
        "user",
        "status",
        "server default",
    )


def test_without_batch_mode_sqlite_lists_what_it_cannot_alter(project: ProjectCopy) -> None:
    project.edit("app/extensions.py", "render_as_batch=True", "render_as_batch=False")
    project.add_model_line(BODY, CHECK)

    checked = project.makemigrations_shown(check=True)

    assert checked.returncode == 1, checked.stderr
    (line,) = stdout_lines(checked)
    assert line.startswith(
        "! check constraint ck_post_body_not_empty on post (length(body) > 0): only in the models"
    )


def test_on_postgresql_a_server_default_only_the_migrations_have_is_written_and_verified(
    project: ProjectCopy, postgres: Cluster
) -> None:
    add_status_with_a_default_the_model_lacks(project)

    checked = make(project, postgres, check=True)
    assert (checked.operations, checked.differences) == (["~ column user.status (server default)"], [])

    result = make(project, postgres, "drift")
    upgrade, downgrade = written_text(result).split("def downgrade")
    assert "server_default=None" in upgrade
    assert "server_default=sa.text(\"'active'::character varying\")" in downgrade
    assert make(project, postgres, check=True).operations == []
    assert project.verify_history(where={"database": postgres.url_string()}).revisions == 4


def test_a_binds_drift_is_written_into_that_binds_functions(binds_project: ProjectCopy) -> None:
    """A multi-database revision: the operation goes where the bind's difference was found."""
    from test_binds import HEAD as BINDS_HEAD
    from test_binds import PATH, function

    binds_project.edit(
        "app/models.py", PATH, f'{PATH}\n    kind = db.Column(db.String(10), server_default="page")'
    )
    empty = "    pass\n\n\n"
    binds_project.write(  # the column, by a hand edit that left out its server default
        "migrations/versions/0003_kind.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = '0003_kind'\n"
        f"down_revision = {BINDS_HEAD!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade(engine_name):\n    globals()['upgrade_%s' % engine_name]()\n\n\n"
        "def downgrade(engine_name):\n    globals()['downgrade_%s' % engine_name]()\n\n\n"
        f"def upgrade_():\n{empty}def downgrade_():\n{empty}"
        f"def upgrade_audit():\n{empty}def downgrade_audit():\n{empty}"
        "def upgrade_analytics():\n    op.add_column('page_view', sa.Column('kind', sa.String(10)))\n\n\n"
        "def downgrade_analytics():\n    with op.batch_alter_table('page_view') as batch:\n"
        "        batch.drop_column('kind')\n",
    )

    result = binds_project.make_migrations("kind defaults to page")

    assert (result.operations, result.differences) == (
        ["analytics: ~ column page_view.kind (server default)"],
        [],
    )
    script = written_text(result)
    assert "server_default='page'" in function(script, "upgrade_analytics")
    assert "alter_column" not in function(script, "upgrade_") + function(script, "upgrade_audit")
    assert binds_project.make_migrations(check=True).operations == []
