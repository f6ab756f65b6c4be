"""Refused inputs: the tool never touches a database but its own shadow one, never deletes what it did
not create, and stops (with one ``Error:`` line, writing nothing) when the comparison cannot be trusted.

Through the engine in this process, the flagship (a hard-coded URL) and where the shadow database
lives (which a probe in the app reports) rendered as the invoke front end shows them.
"""

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TESTS, ProjectCopy, probe_env, wait_for_report
from project_edits import connect_at_import

URL_LINE = 'SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///app.db"),'


def real_database(path: Path) -> bytes:
    """A database with data in it, as a developer's or production database would be."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, username VARCHAR(80))")
        connection.execute("INSERT INTO user (username) VALUES ('alice')")
    connection.close()
    return path.read_bytes()


def hard_code_url(project: ProjectCopy, url: str) -> None:
    project.edit("app/__init__.py", URL_LINE, f"SQLALCHEMY_DATABASE_URI={url!r},")


def assert_untouched(path: Path, content: bytes) -> None:
    assert path.read_bytes() == content
    for suffix in ("-journal", "-wal", "-shm"):
        assert not Path(f"{path}{suffix}").exists()


@pytest.mark.version_independent  # the SQLite backend's own checks
def test_existing_database_file_is_refused_and_untouched(project: ProjectCopy, tmp_path: Path) -> None:
    existing = tmp_path / "precious.sqlite"
    content = real_database(existing)
    project.add_email_column()

    error = project.engine_refuses(project.make_migrations, "add email", where={"database": str(existing)})

    assert str(existing) in error and "already exists" in error
    assert_untouched(existing, content)


@pytest.mark.version_independent  # the SQLite backend's own checks
def test_database_in_a_missing_folder_is_refused(project: ProjectCopy, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "shadow.sqlite"
    error = project.engine_refuses(project.make_migrations, check=True, where={"database": str(missing)})
    assert "does not exist" in error
    assert not (tmp_path / "no").exists()


def test_unreachable_server_url_is_refused_without_its_password(project: ProjectCopy) -> None:
    url = "postgresql://u:secret@127.0.0.1:1/x"
    error = project.engine_refuses(project.make_migrations, check=True, where={"database": url})
    assert "cannot reach" in error
    assert "secret" not in error


def refused_and_untouched(
    project: ProjectCopy,
    tmp_path: Path,
    point_app: Callable[[ProjectCopy, str], None],
    run: Callable[[], str],
) -> str:
    """The refusal ``run`` returns once ``point_app`` aims the app at a real database: it names that
    database, which the run left as it was."""
    real = tmp_path / "real.sqlite"
    content = real_database(real)
    point_app(project, f"sqlite:///{real}")

    error = run()

    assert f"sqlite:///{real}" in error
    assert_untouched(real, content)
    return error


def test_app_with_hard_coded_database_is_redirected_and_its_database_untouched(
    project: ProjectCopy, tmp_path: Path
) -> None:
    """The flagship: a writing run writes the revision; the database in the code is as it was."""
    real = tmp_path / "real.sqlite"
    content = real_database(real)
    hard_code_url(project, f"sqlite:///{real}")
    project.add_email_column()

    written = project.makemigrations_shown("add email")

    assert written.returncode == 0, written.stderr
    assert [path.name for path in project.versions.glob("*add_email*.py")] != []
    assert_untouched(real, content)


def test_app_with_hard_coded_missing_database_never_creates_it(project: ProjectCopy, tmp_path: Path) -> None:
    missing = tmp_path / "never.sqlite"
    hard_code_url(project, f"sqlite:///{missing}")

    assert project.make_migrations(check=True).operations == []

    assert list(tmp_path.glob("never.sqlite*")) == []


def test_app_reading_another_variable_falls_back_to_its_default_which_is_redirected(
    project: ProjectCopy,
) -> None:
    """The app reads DATABASE_URL but the run sets another variable: the app falls back to its own
    default (a file in its instance folder), which is redirected, never created."""
    project.add_email_column()
    checked = project.make_migrations(check=True, where={"url_env": "SOME_OTHER_URL"})
    assert checked.operations == ["+ column user.email"]
    assert not (project.root / "instance").exists()


def test_app_that_connects_to_another_database_at_import_is_refused(
    project: ProjectCopy, tmp_path: Path
) -> None:
    refused_and_untouched(
        project,
        tmp_path,
        connect_at_import,
        lambda: project.engine_refuses(project.make_migrations, check=True),
    )


def test_app_that_swallows_the_refusal_is_still_refused(project: ProjectCopy, tmp_path: Path) -> None:
    missing = tmp_path / "other.sqlite"
    connect_at_import(project, f"sqlite:///{missing}", swallow=True)

    error = project.engine_refuses(project.make_migrations, check=True)

    assert f"sqlite:///{missing}" in error
    assert not missing.exists()


def test_env_py_that_builds_its_own_engine_to_another_database_is_refused(
    project: ProjectCopy, tmp_path: Path
) -> None:
    """An env.py that reads ``sqlalchemy.url`` from alembic.ini instead of taking the app's URL."""
    real = tmp_path / "real.sqlite"
    content = real_database(real)
    shutil.copyfile(TESTS / "env_templates" / "flask-migrate-2.5.3.py", project.migrations / "env.py")
    project.edit("migrations/env.py", "config.set_main_option(", "(lambda *args: None)(")
    project.edit("migrations/alembic.ini", "[alembic]", f"[alembic]\nsqlalchemy.url = sqlite:///{real}")

    error = project.engine_refuses(project.make_migrations, check=True)

    assert f"sqlite:///{real}" in error
    assert_untouched(real, content)


def test_a_bind_on_the_main_databases_url_is_refused(project: ProjectCopy) -> None:
    project.edit(
        "app/__init__.py",
        URL_LINE,
        f'{URL_LINE}\n        SQLALCHEMY_BINDS={{"audit": os.environ["DATABASE_URL"]}},',
    )
    error = project.engine_refuses(project.make_migrations, check=True)
    assert error.startswith("the main database and bind 'audit' both use sqlite:///")


def test_app_that_fails_to_import(project: ProjectCopy) -> None:
    project.edit("app/models.py", "from .extensions import db", "from .extensions import db, no_such_name")
    error = project.engine_refuses(project.make_migrations, "x")
    assert "could not load the Flask app" in error and "no_such_name" in error


def test_app_without_flask_migrate(project: ProjectCopy) -> None:
    project.edit("app/__init__.py", "    migrate.init_app(app, db)\n", "")
    assert "Flask-Migrate" in project.engine_refuses(project.make_migrations, "x")


def test_app_that_is_not_found(project: ProjectCopy) -> None:
    where = {"app": "no_such_module:create_app"}
    error = project.engine_refuses(project.make_migrations, check=True, where=where)
    assert "could not load the Flask app" in error and "no_such_module" in error


@pytest.mark.version_independent  # file handling of this package's own
def test_shadow_database_lives_in_a_private_temporary_directory(
    project: ProjectCopy, probe_dir: Path
) -> None:
    """Never inside the project tree; in a directory of its own under TMPDIR; gone afterwards."""
    project.add_probe()
    before = project.snapshot()

    result = project.makemigrations_shown(check=True, env=probe_env(probe_dir, "run"))

    assert result.returncode == 0, result.stderr
    shadow = Path(wait_for_report(probe_dir, "run")["database"])
    assert project.root not in shadow.parents
    assert shadow.parent.parent == project.tmpdir
    assert shadow.parent.name.startswith("flask-makemigrations-")
    assert not shadow.parent.exists()
    assert project.snapshot() == before
