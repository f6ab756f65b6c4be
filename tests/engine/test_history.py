"""The migration history: several heads and ``invoke merge``, broken revisions, where the history is,
and Alembic's post-write hooks. Through the engine's API in this process; where what the task prints
matters, as the invoke front end's own functions render it."""

import shutil

from conftest import HEAD, ProjectCopy


def test_several_heads_are_refused_then_merged(project: ProjectCopy) -> None:
    project.add_revision("0003_left", HEAD)
    project.add_revision("0003_right", HEAD)
    project.add_email_column()

    error = project.refused_shown(project.makemigrations_shown, "add email")
    assert "0003_left" in error and "0003_right" in error
    assert "invoke merge" in error

    before = project.revision_files()
    merged = project.merge_shown("0004_merge")
    assert merged.returncode == 0, merged.stderr
    (path,) = project.new_revisions(before)
    assert merged.stdout.strip().endswith(path.name)
    assert project.heads() == ["0004_merge"]
    assert set(project.revisions()["0004_merge"]) == {"0003_left", "0003_right"}

    after_merge = project.revision_files()
    result = project.make_migrations("add email")
    (new,) = project.new_revisions(after_merge)
    assert result.path == new
    assert "down_revision = '0004_merge'" in new.read_text()


def test_the_engine_names_the_next_task_in_no_front_ends_syntax(project: ProjectCopy) -> None:
    """Each front end spells "merge the heads" its own way; the engine's own words name none."""
    project.add_revision("0003_left", HEAD)
    project.add_revision("0003_right", HEAD)

    error = project.engine_refuses(project.make_migrations, check=True)

    assert error.endswith("merge them first with the merge task (or 'flask db merge heads')")


def test_merge_with_one_head_is_refused(project: ProjectCopy) -> None:
    assert "nothing to merge" in project.refused_shown(project.merge_shown)


def test_syntax_error_in_a_migration_names_the_file(project: ProjectCopy) -> None:
    project.add_revision("0003_broken", HEAD, "    op.add_column('user'")
    error = project.engine_refuses(project.make_migrations, "x")
    assert "0003_broken.py" in error
    assert "SyntaxError" in error


def test_failing_migration_names_the_revision_and_the_database_error(project: ProjectCopy) -> None:
    project.add_revision("0003_broken", HEAD, "    op.execute('INSERT INTO no_such_table VALUES (1)')")
    error = project.engine_refuses(project.make_migrations, "x")
    assert "revision 0003_broken" in error
    assert "failed to apply" in error
    assert "no such table: no_such_table" in error


def test_failing_migration_also_fails_check(project: ProjectCopy) -> None:
    project.add_revision("0003_broken", HEAD, "    raise RuntimeError('data fix went wrong')")
    error = project.engine_refuses(project.make_migrations, check=True)
    assert "revision 0003_broken" in error and "data fix went wrong" in error


def test_missing_migrations_directory(project: ProjectCopy) -> None:
    shutil.rmtree(project.migrations)
    error = project.engine_refuses(project.make_migrations, "x")
    assert "migrations" in error and "flask db init" in error


def test_missing_versions_directory_is_created(project: ProjectCopy) -> None:
    """Git keeps no empty directory: a fresh clone of a project just after ``flask db init`` has no
    ``versions/``, and ``flask db migrate`` would create it."""
    shutil.rmtree(project.versions)

    result = project.make_migrations("initial")

    (new,) = project.new_revisions([])
    assert "op.create_table('user'" in new.read_text()
    assert result.path == project.root / "migrations" / "versions" / new.name


def test_directory_option(project: ProjectCopy) -> None:
    project.migrations.rename(project.root / "db_history")
    project.add_email_column()

    assert "flask db init" in project.engine_refuses(project.make_migrations, "add email")

    result = project.make_migrations("add email", where={"directory": "db_history"})
    (new,) = (project.root / "db_history" / "versions").glob("*_add_email.py")
    assert result.path == new


def test_missing_directory_option_target(project: ProjectCopy) -> None:
    error = project.engine_refuses(project.make_migrations, "x", where={"directory": "nowhere"})
    assert "nowhere" in error


HOOKS = """
[post_write_hooks]
hooks = {name}
{name}.type = {type}
{options}
"""


def add_post_write_hook(project: ProjectCopy, name: str, type: str, **options: str) -> None:
    lines = "\n".join(f"{name}.{key} = {value}" for key, value in options.items())
    ini = project.migrations / "alembic.ini"
    ini.write_text(ini.read_text() + HOOKS.format(name=name, type=type, options=lines))


def test_post_write_hook_runs_on_the_new_file(project: ProjectCopy) -> None:
    # A hook type registered by env.py itself: Alembic's own "exec" type only exists from 1.12 on.
    register = (
        "\nfrom alembic.script import write_hooks\n\n\n"
        "@write_hooks.register('stamp')\n"
        "def stamp(filename, options):\n"
        "    with open(filename, 'a') as f:\n"
        "        f.write('# formatted\\n')\n"
    )
    (project.migrations / "env.py").write_text((project.migrations / "env.py").read_text() + register)
    add_post_write_hook(project, "stamp", "stamp")
    before = project.revision_files()
    project.add_email_column()

    result = project.make_migrations("add email")

    assert result.warnings == []
    (new,) = project.new_revisions(before)
    assert result.path == new and new.read_text().endswith("# formatted\n")


def test_failing_post_write_hook_warns_and_still_writes(project: ProjectCopy) -> None:
    add_post_write_hook(project, "black", "console_scripts", entrypoint="no-such-formatter")
    before = project.revision_files()
    project.add_email_column()

    result = project.make_migrations("add email")

    (warning,) = result.warnings
    assert "post-write hook (black) failed" in warning
    assert "no-such-formatter" in warning
    (new,) = project.new_revisions(before)
    assert "add_column(sa.Column('email'" in new.read_text()
    assert result.path == new
