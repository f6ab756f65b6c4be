"""The ``env.py`` of every Flask-Migrate release line works unmodified (see ``env_templates/README.md``).

Old templates build their own engine from ``sqlalchemy.url`` (so the shadow database must be reachable
by URL, even in memory), pass their own ``process_revision_directives`` next to ``configure_args``, or
call the deprecated ``db.get_engine()``. Through the engine's API in this process, and once through a
real ``invoke`` run per template.
"""

import shutil

import pytest
from conftest import HEAD, TESTS, ProjectCopy

from flask_makemigrations.compat import FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS

#: The single-database ones (``flask db init``); the multi-database ones are tested with binds.
TEMPLATES = sorted(p for p in (TESTS / "env_templates").glob("flask-migrate-*.py") if "multidb" not in p.stem)


@pytest.fixture(params=TEMPLATES, ids=lambda path: path.stem)
def old_project(project: ProjectCopy, request: pytest.FixtureRequest) -> ProjectCopy:
    """The example project with its ``env.py`` replaced by an older Flask-Migrate template."""
    shutil.copyfile(request.param, project.migrations / "env.py")
    return project


@pytest.mark.version_independent  # the test suite's own files
def test_there_is_a_template_per_release_line() -> None:
    assert [p.stem.split("-")[-1].split(".")[0] for p in TEMPLATES] == ["2", "2", "3", "3", "4"]


def test_added_column_gives_one_revision_then_no_changes(old_project: ProjectCopy) -> None:
    files = old_project.revision_files()
    old_project.add_email_column()

    added = old_project.make_migrations("add email")

    (new,) = old_project.new_revisions(files)
    assert added.path == new and added.operations == ["+ column user.email"]
    script = new.read_text()
    assert "add_column(sa.Column('email'" in script
    assert f"down_revision = {HEAD!r}" in script

    before = old_project.snapshot()
    again = old_project.make_migrations("again")
    assert again.path is None and again.operations == []
    assert old_project.snapshot() == before


@pytest.mark.skipif(not FLASK_SQLALCHEMY_KEEPS_SQLITE_URIS, reason="Flask-SQLAlchemy 2.x cannot reach it")
def test_check_in_memory(old_project: ProjectCopy) -> None:
    """An in-memory shadow database that env.py reaches through a new engine of its own."""
    old_project.add_email_column()
    result = old_project.make_migrations(check=True, where={"database": ":memory:"})
    assert result.operations == ["+ column user.email"]


def test_the_cli_runs_an_old_template(old_project: ProjectCopy) -> None:
    """The process's side: an old template's own output and warnings stay off stdout."""
    old_project.add_email_column()
    result = old_project.invoke("makemigrations", "--check")
    assert result.returncode == 1, result.stderr
    assert result.stdout == "+ column user.email\n"
    assert "Traceback" not in result.stderr
