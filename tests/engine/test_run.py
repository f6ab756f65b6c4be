"""The object that owns a run (``run/run.py``), in this process on the example project: what it opens,
the steps the entry points compose, and what it hands the checks. Real SQLite files throughout."""

import sqlalchemy as sa
from conftest import HEAD, ProjectCopy

from flask_makemigrations import Project
from flask_makemigrations.run.run import open_run


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return sorted(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_a_run_opens_on_the_staged_history_and_leaves_nothing_behind(project: ProjectCopy) -> None:
    with project.inside(), open_run(Project(), writes=True) as run:
        assert run.history.single_head() == HEAD
        assert run.staging.project_dir == project.migrations
        assert run.staging.staged_dir != project.migrations
        assert run.history.staging is run.staging
        assert run.notes == []

    assert project.leftovers() == []


def test_build_to_head_restores_the_snapshot_the_run_before_it_saved(project: ProjectCopy) -> None:
    with project.inside(), open_run(Project()) as run:
        cold = run.build_to_head()
    with project.inside(), open_run(Project()) as run:
        warm = run.build_to_head()
        at_head = _tables(run.session.shadow.url_string)

    assert (cold.applied, cold.restored) == (2, None)
    assert (warm.applied, warm.restored) == (0, HEAD)
    assert at_head == ["alembic_version", "post", "user"]


def test_without_the_cache_every_run_builds_cold(project: ProjectCopy) -> None:
    with project.inside(), open_run(Project(), use_cache=False) as run:
        run.build_to_head()
    with project.inside(), open_run(Project(), use_cache=False) as run:
        again = run.build_to_head()

    assert (again.applied, again.restored) == (2, None)


def test_empty_shadows_leaves_the_databases_as_they_were_made(project: ProjectCopy) -> None:
    with project.inside(), open_run(Project(), use_cache=False) as run:
        run.build_to_head()
        run.empty_shadows()
        left = _tables(run.session.shadow.url_string)

    assert left == []


def test_the_history_without_some_files_is_another_history_beside_the_run(project: ProjectCopy) -> None:
    head = next(project.versions.glob(f"{HEAD}_*.py"))
    with project.inside(), open_run(Project()) as run:
        shorter = run.without([head])
        assert shorter.single_head() == "0001_users"
        assert run.history.single_head() == HEAD  # the run's own history is untouched

    assert head.exists()


def test_the_checks_get_models_databases_made_once_per_bind_and_removed_with_the_run(
    project: ProjectCopy,
) -> None:
    with project.inside(), open_run(Project()) as run:
        models = run.models_databases
        made = models.make(None)
        assert models.make(None) is made
        assert made.url != run.session.shadow.url
        assert _tables(made.url_string) == []
        assert models.alongside is False  # SQLite builds them when first asked for

    assert project.leftovers() == []


def test_autogenerate_writes_the_pending_change_in_the_staging_folder_only(project: ProjectCopy) -> None:
    project.add_email_column()
    before = project.revision_files()
    with project.inside(), open_run(Project()) as run:
        run.build_to_head()
        generated = run.autogenerate("add email")
        assert generated.staged_file is not None and generated.staged_file.exists()
        assert generated.operations == ["+ column user.email"]

    assert project.revision_files() == before
