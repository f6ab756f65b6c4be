"""Verification on the shadow database: each new revision, and the whole history with ``invoke verify``.

Real SQLite shadow databases on private copies of the example project, through the engine's API in
this process; where the output and the exit status are the behaviour, as the invoke front end's own
functions render the result.
"""

from conftest import BODY, USERNAME, ProjectCopy, dry_run_script, written_text
from project_edits import add_unnamed_check

STATUS = 'status = db.Column(db.String(20), nullable=False, server_default="active")'
CHECK = '__table_args__ = (db.CheckConstraint("length(body) > 0", name="body_not_empty"),)'
POSTS = "migrations/versions/0002_posts_add_post_table.py"


def break_generated_downgrades(project: ProjectCopy) -> None:
    """A project template whose downgrade() fails: every new revision then fails to downgrade."""
    project.edit(
        "migrations/script.py.mako",
        "def downgrade():\n",
        "def downgrade():\n    op.execute('DROP TABLE no_such_table')\n",
    )


def add_revision(
    project: ProjectCopy,
    revision: str,
    down_revision: str | tuple[str, ...] | None,
    upgrade: str,
    downgrade: str,
) -> None:
    """A hand-written revision file, as a colleague would commit it (one statement each way)."""
    project.add_revision(revision, down_revision, upgrade=f"    {upgrade}", downgrade=f"    {downgrade}")


def add_nickname_revision(project: ProjectCopy) -> None:
    project.add_model_line(USERNAME, "nickname = db.Column(db.String(30))")
    add_revision(
        project,
        "0003_nickname",
        "0002_posts",
        "op.add_column('user', sa.Column('nickname', sa.String(length=30), nullable=True))",
        "op.drop_column('user', 'nickname')",
    )


# --- each new revision ----------------------------------------------------------------------------


def test_a_new_revision_whose_downgrade_fails_is_not_written(project: ProjectCopy) -> None:
    before = project.revision_files()
    break_generated_downgrades(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    error = project.engine_refuses(project.make_migrations, "add email")

    assert project.revision_files() == before
    assert error.startswith("verification failed at downgrade ")
    # The file was never written: no path to name, and no file of that name to look for.
    assert ": the pending revision " in error and "_add_email" not in error
    assert "failed to downgrade: no such table: no_such_table" in error
    assert error.endswith("nothing was written; --no-verify writes the revision anyway, for a hand edit")


def test_check_lists_a_revision_that_fails_verification_with_the_failure_as_a_warning(
    project: ProjectCopy,
) -> None:
    """CI must see the pending operations and exit 1; the failure comes as a warning beside them."""
    break_generated_downgrades(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.make_migrations(check=True)
    strict = project.engine_refuses(project.make_migrations, check=True, strict=True)

    assert result.operations == ["+ column user.email"]
    (warning,) = result.warnings + result.differences
    assert warning.startswith("verification failed at downgrade ")
    assert "the pending revision" in warning and "no such table: no_such_table" in warning
    assert "a writing run would refuse it" in warning
    assert strict == "--strict: 1 warning(s), so nothing was written"


def test_dry_run_prints_a_revision_that_fails_verification_with_a_warning(project: ProjectCopy) -> None:
    break_generated_downgrades(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.make_migrations(dry_run=True)

    compile(dry_run_script(result), "dry-run", "exec")
    assert "op.execute('DROP TABLE no_such_table')" in dry_run_script(result)
    (warning,) = result.warnings + result.differences
    assert warning.startswith("verification failed at downgrade ")
    assert project.engine_refuses(project.make_migrations, dry_run=True, strict=True).startswith("--strict: ")


def test_no_verify_writes_the_revision_despite_a_failing_verification(project: ProjectCopy) -> None:
    before = project.revision_files()
    break_generated_downgrades(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.make_migrations("add email", verify=False)

    (new,) = project.new_revisions(before)
    assert result.path == new and new.name.endswith("_add_email.py")


def test_what_autogenerate_does_not_see_is_written_and_verified(project: ProjectCopy) -> None:
    """A changed server default and a new check constraint: autogenerate sees neither, verification
    does, and the revision writes both (``revisions/drift.py``)."""
    project.add_model_line(USERNAME, STATUS)
    assert project.make_migrations("add status").path is not None
    project.edit("app/models.py", STATUS, STATUS.replace('"active"', '"pending"'))
    project.add_model_line(BODY, CHECK)

    result = project.make_migrations("pending by default")

    assert result.operations == [
        "+ check constraint ck_post_body_not_empty on post",
        "~ column user.status (server default)",
    ]
    assert (result.warnings, result.differences) == ([], [])
    upgrade, downgrade = written_text(result).split("def downgrade")
    assert "server_default='pending'" in upgrade and "server_default=sa.text(\"'active'\")" in downgrade
    assert project.make_migrations(check=True).operations == []


def test_a_difference_no_operation_writes_is_listed_with_what_to_do(project: ProjectCopy) -> None:
    add_unnamed_check(project)

    result = project.make_migrations("nothing autogenerate sees")

    assert (result.operations, result.path) == ([], None)
    (difference,) = result.warnings + result.differences
    assert difference.startswith("check constraint on note (length(body) > 0): only in the migrations")
    assert difference.endswith(
        "autogenerate does not see this: write it by hand in a new revision (makemigrations --empty)"
    )


def test_a_difference_beside_detected_changes_asks_for_a_hand_edit(project: ProjectCopy) -> None:
    add_unnamed_check(project)
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    result = project.make_migrations("add email")

    (new,) = [name for name in project.revision_files() if name.endswith("_add_email.py")]
    (warning,) = result.warnings + result.differences
    assert warning.startswith("check constraint on note")
    assert warning.endswith(f"edit migrations/versions/{new} by hand")


def test_check_lists_what_autogenerate_missed_as_an_operation_and_strict_accepts_it(
    project: ProjectCopy,
) -> None:
    project.add_model_line(BODY, CHECK)

    checked = project.makemigrations_shown(check=True)
    strict = project.makemigrations_shown(check=True, strict=True)

    assert checked.returncode == 1, checked.stderr
    assert checked.stdout == "+ check constraint ck_post_body_not_empty on post\n"
    assert (strict.returncode, strict.stdout) == (1, checked.stdout), strict.stderr


def test_the_comparison_honours_include_object_in_env_py(project: ProjectCopy) -> None:
    """A table env.py keeps away from autogenerate is no difference, even one SQLite cannot build."""
    project.edit(
        "migrations/env.py",
        "    connectable = get_engine()\n",
        "    conf_args['include_object'] = lambda obj, name, type_, reflected, compare_to: name != 'report'\n"
        "    connectable = get_engine()\n",
    )
    project.edit(
        "app/models.py",
        "class Post(db.Model):",
        "class Report(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        "    tags = db.Column(db.ARRAY(db.Integer))\n\n\n"
        "class Post(db.Model):",
    )

    result = project.make_migrations("nothing")

    assert (result.operations, result.path, result.warnings, result.differences) == ([], None, [], [])


def test_models_that_cannot_be_built_are_an_error(project: ProjectCopy) -> None:
    project.add_model_line(BODY, '__table_args__ = (db.CheckConstraint("length(body) >", name="broken"),)')

    error = project.engine_refuses(project.make_migrations, check=True)

    assert error.startswith("verification failed at building a database from the models: ")
    assert "syntax error" in error
    assert error.endswith("; --no-verify skips it")


# --- the whole history: invoke verify -------------------------------------------------------------


def test_the_example_app_passes_verify(project: ProjectCopy) -> None:
    result = project.verify_shown()

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Verified 2 revision(s) in ")
    assert len(result.stdout.strip().splitlines()) == 1


def test_verify_passes_with_a_version_table_of_its_own(project: ProjectCopy) -> None:
    project.edit(
        "migrations/env.py",
        "    connectable = get_engine()\n",
        "    conf_args['version_table'] = 'schema_version'\n    connectable = get_engine()\n",
    )

    assert project.verify_history().revisions == 2


def test_verify_passes_a_history_with_merged_branches(project: ProjectCopy) -> None:
    """Each branch revision is taken back alone, with its sibling branch still applied."""
    for name in ("a", "b"):
        project.add_model_line(USERNAME, f"{name} = db.Column(db.Integer)")
        add_revision(
            project,
            f"0003{name}",
            "0002_posts",
            f"op.add_column('user', sa.Column('{name}', sa.Integer(), nullable=True))",
            f"op.drop_column('user', '{name}')",
        )
    add_revision(project, "0004_merge", ("0003a", "0003b"), "pass", "pass")

    assert project.verify_history().revisions == 5


def test_verify_reports_the_first_broken_revision_with_its_step(project: ProjectCopy) -> None:
    add_nickname_revision(project)
    project.edit(POSTS, "op.drop_table('post')", "op.drop_table('no_such_table')")

    error = project.engine_refuses(project.verify_history)

    assert error.startswith("verification failed at downgrade 0002_posts -> 0001_users (revision 2 of 3): ")
    assert "revision 0002_posts (" in error
    assert error.endswith("failed to downgrade: no such table: no_such_table")


def test_verify_finds_a_downgrade_that_leaves_a_table_behind(project: ProjectCopy) -> None:
    add_nickname_revision(project)
    project.edit(POSTS, "op.drop_table('post')", "pass")

    error = project.engine_refuses(project.verify_history)

    assert "downgrade 0002_posts -> 0001_users (revision 2 of 3)" in error
    assert "does not give back the schema it started from: table post: only in the schema after" in error
    assert f"revision 0002_posts ({POSTS}) does not give back" in error  # relative, as every message


def test_verify_fails_when_the_models_are_ahead_of_the_history(project: ProjectCopy) -> None:
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")

    error = project.engine_refuses(project.verify_history)

    assert "the models have changes no revision covers (+ column user.email)" in error


def test_verify_fails_on_what_only_the_comparison_with_the_models_sees(project: ProjectCopy) -> None:
    project.add_model_line(BODY, CHECK)

    error = project.engine_refuses(project.verify_history)

    assert "check constraint ck_post_body_not_empty on post (length(body) > 0): only in the models" in error


def test_verify_refuses_several_heads(project: ProjectCopy) -> None:
    add_revision(project, "0002_other", "0001_users", "pass", "pass")

    assert "several heads (0002_other, 0002_posts)" in project.engine_refuses(project.verify_history)
