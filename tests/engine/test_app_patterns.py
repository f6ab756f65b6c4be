"""Apps set up as real projects are, run with no option beyond the defaults: factories that build or
upgrade their database while loading, an extension that creates its own table, URLs that do not come
from ``$DATABASE_URL``. Each gives the operations the models call for; the database the app is
configured for is never created or touched; the run leaves nothing behind. On copies of the example,
through the engine in this process; ``flask db migrate`` itself, on a scratch database, where the
comparison needs it.
"""

import os
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import HEAD, USERNAME, ProjectCopy, shadow_build
from test_safety import URL_LINE, assert_untouched, hard_code_url, real_database

FACTORY_END = "    return app"
EMAIL = "email = db.Column(db.String(120))"


def run_in_factory(project: ProjectCopy, *lines: str) -> None:
    """Make the app factory run ``lines`` inside an app context, just before it returns."""
    body = "".join(f"        {line}\n" for line in lines)
    project.edit("app/__init__.py", FACTORY_END, f"    with app.app_context():\n{body}\n{FACTORY_END}")


def assert_email_found_twice(project: ProjectCopy) -> None:
    """The new column is found, cold then from the cache (the second run restores the head's
    snapshot and applies no revision), and the run leaves nothing behind."""
    project.add_model_line(USERNAME, EMAIL)
    cold = project.make_migrations(check=True)
    warm = project.make_migrations(check=True)
    assert cold.operations == warm.operations == ["+ column user.email"]
    assert shadow_build(warm).restored == HEAD and shadow_build(warm).applied == 0
    assert project.leftovers() == []


# --- factories that build their database while loading ------------------------------------------


def test_a_factory_that_builds_and_stamps_its_tables(project: ProjectCopy) -> None:
    """CTFd's way: ``create_all()`` then ``stamp()``: the app builds in a database of its own, and the
    comparison starts from what the history builds, so a new column is still found."""
    run_in_factory(project, "db.create_all()", "__import__('flask_migrate').stamp()")
    assert_email_found_twice(project)


def test_a_factory_that_upgrades_then_reads_a_row(project: ProjectCopy) -> None:
    run_in_factory(
        project,
        "__import__('flask_migrate').upgrade()",
        "db.session.execute(db.text('SELECT count(*) FROM user')).scalar()",
    )
    assert_email_found_twice(project)


def test_a_factory_that_builds_its_tables_before_there_is_a_history(project: ProjectCopy) -> None:
    """The first migration of a project whose factory calls ``create_all()``: every table is new."""
    for revision in project.versions.glob("*.py"):
        revision.unlink()
    run_in_factory(project, "db.create_all()")

    checked = project.make_migrations(check=True)

    assert checked.operations == ["+ table user", "+ table post", "+ index ix_post_author_id on post"]


def test_a_factory_that_builds_its_tables_then_a_bad_revision_is_told_as_the_revision(
    project: ProjectCopy,
) -> None:
    run_in_factory(project, "db.create_all()")
    project.add_revision("0003_broken", HEAD, upgrade="    op.drop_table('nothing_here')")

    error = project.engine_refuses(project.make_migrations, check=True)

    assert error.startswith("revision 0003_broken"), error


# --- an extension that creates its own table while the app loads --------------------------------

EXTENSION = '''"""Like Flask-Session's SQLAlchemy backend: a model of its own on the app's db, its table made
when the extension is set up."""


def init_app(app, db):
    class WebSession(db.Model):
        __tablename__ = "sessions"
        id = db.Column(db.Integer, primary_key=True)
        data = db.Column(db.LargeBinary)

    app.extensions["session_store"] = WebSession  # as Flask-Session keeps its model
    with app.app_context():
        WebSession.__table__.create(db.engine, checkfirst=True)
'''


@pytest.fixture
def with_extension(project: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> ProjectCopy:
    """The example app with the extension above, installed outside the project (a library)."""
    site = project.root.parent / "site"
    site.mkdir()
    (site / "session_store.py").write_text(EXTENSION)
    monkeypatch.syspath_prepend(str(site))  # this process; PYTHONPATH, a process's
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.delitem(sys.modules, "session_store", raising=False)
    project.edit(
        "app/__init__.py",
        "    migrate.init_app(app, db)",
        "    migrate.init_app(app, db)\n    __import__('session_store').init_app(app, db)",
    )
    return project


def test_an_extensions_table_takes_part_and_the_cache_serves_the_second_run(
    with_extension: ProjectCopy,
) -> None:
    """Under ``flask db migrate`` the table is there (the extension made it): no "+ table sessions"."""
    assert_email_found_twice(with_extension)
    assert with_extension.make_migrations("add email").path is not None
    verified = with_extension.verify_history()
    note = "the app created table(s) sessions while loading"
    assert str(verified.notes[0]).startswith(note)


def test_an_extensions_table_the_history_creates_too_is_told_as_such(with_extension: ProjectCopy) -> None:
    with_extension.add_revision(
        "0003_sessions",
        HEAD,
        upgrade="    op.create_table('sessions', sa.Column('id', sa.Integer(), primary_key=True))",
        downgrade="    op.drop_table('sessions')",
    )
    error = with_extension.engine_refuses(with_extension.make_migrations, check=True)
    assert error.startswith("the app created table(s) sessions while loading (an extension does), and the")


# --- URLs that do not come from $DATABASE_URL -----------------------------------------------------


def test_a_hard_coded_database_is_never_touched(project: ProjectCopy, tmp_path: Path) -> None:
    real = tmp_path / "real.sqlite"
    content = real_database(real)
    hard_code_url(project, f"sqlite:///{real}")

    assert_email_found_twice(project)

    assert_untouched(real, content)


def test_a_hard_coded_relative_path_and_its_folder_never_appear(project: ProjectCopy) -> None:
    """Flask-SQLAlchemy 3 puts a relative SQLite path in the instance folder, which it creates."""
    hard_code_url(project, "sqlite:///data/app.db")
    assert_email_found_twice(project)
    assert not (project.root / "instance").exists()
    assert not (project.root / "data").exists()


PARTS = (
    'SQLALCHEMY_DATABASE_URI="postgresql://{}:{}@{}:{}/{}".format(*(os.environ.get(part, default) for part, '
    'default in [("DB_USER", "app"), ("DB_PASSWORD", "secret"), ("DB_HOST", "127.0.0.1"), ("DB_PORT", "1"), '
    '("DB_NAME", "app")])),'
)


def test_a_url_joined_from_parts_for_a_server_is_redirected_with_a_note(project: ProjectCopy) -> None:
    """Nothing listens on port 1: a connection attempt would fail the run."""
    project.edit("app/__init__.py", URL_LINE, PARTS)
    project.add_model_line(USERNAME, EMAIL)

    checked = project.make_migrations(check=True)

    assert checked.operations == ["+ column user.email"]
    (note,) = [str(note) for note in checked.notes]
    assert note.startswith(
        "the app is configured for another kind of database (the main database: postgresql)"
    )
    assert "secret" not in note


SETTINGS = """class Development:
    SQLALCHEMY_DATABASE_URI = "sqlite:///{path}"
"""


def test_a_url_from_a_config_module_named_by_a_variable(project: ProjectCopy, tmp_path: Path) -> None:
    never = tmp_path / "settings-db" / "dev.sqlite"
    project.write("app/settings.py", SETTINGS.format(path=never))
    project.edit(
        "app/__init__.py",
        "    if test_config is not None:",
        '    app.config.from_object(os.environ.get("APP_SETTINGS", "app.settings.Development"))\n'
        "    if test_config is not None:",
    )
    assert_email_found_twice(project)
    assert not never.parent.exists()


def test_a_bind_with_a_hard_coded_url_gets_a_shadow_database_of_its_own(
    project: ProjectCopy, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.sqlite"
    project.edit(
        "app/__init__.py", URL_LINE, f"{URL_LINE}\n        SQLALCHEMY_BINDS={{'audit': 'sqlite:///{audit}'}},"
    )
    project.write(
        "app/models.py",
        (project.root / "app/models.py").read_text()
        + "\n\nclass Entry(db.Model):\n    __bind_key__ = 'audit'\n"
        + "    id = db.Column(db.Integer, primary_key=True)\n",
    )

    checked = project.make_migrations(check=True)

    # A single-database env.py migrates the main database only; with Flask-SQLAlchemy 2.x its metadata
    # holds the bind's table too, which 'flask db migrate' then puts in the main database.
    assert checked.operations == (["+ table entry"] if version("flask-sqlalchemy").startswith("2.") else [])
    assert not audit.exists()
    assert project.leftovers() == []


def test_what_flask_db_migrate_finds_on_a_scratch_database_is_what_the_tool_finds(
    project: ProjectCopy, tmp_path: Path
) -> None:
    """The URL joined from parts, pointed by its parts at a scratch SQLite file for ``flask db``."""
    project.edit(
        "app/__init__.py",
        URL_LINE,
        'SQLALCHEMY_DATABASE_URI="sqlite:///" + '
        'os.path.join(os.environ.get("DB_DIR", "/nonexistent"), "app.db"),',
    )
    project.add_model_line(USERNAME, EMAIL)
    project.add_model_line("body = db.Column(db.Text, nullable=False)", "views = db.Column(db.Integer)")
    scratch = {"DB_DIR": str(tmp_path), "FLASK_APP": "app"}
    flask = [sys.executable, "-m", "flask"]
    assert project.run([*flask, "db", "upgrade"], env=scratch).returncode == 0
    found = project.run([*flask, "db", "migrate", "-m", "scratch"], env=scratch)
    assert found.returncode == 0, found.stderr
    detected = sorted(
        line.split("Detected ", 1)[1] for line in found.stderr.splitlines() if "Detected " in line
    )
    for revision in project.versions.glob("*_scratch.py"):
        revision.unlink()
    with sqlite3.connect(tmp_path / "app.db") as connection:
        scratch_tables = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    connection.close()
    os.remove(tmp_path / "app.db")

    checked = project.make_migrations(check=True)

    assert detected == ["added column 'post.views'", "added column 'user.email'"]
    assert sorted(checked.operations) == ["+ column post.views", "+ column user.email"]
    assert {"user", "post", "alembic_version"} <= scratch_tables
    assert not (tmp_path / "app.db").exists()


def test_the_note_on_an_extensions_table_goes_to_stderr(with_extension: ProjectCopy) -> None:
    checked = with_extension.makemigrations_shown(check=True)
    assert checked.returncode == 0 and checked.stdout == "No changes detected\n", checked.stderr
    (note,) = [line for line in checked.stderr.splitlines() if line.startswith("Note:")]
    assert note.startswith("Note: the app created table(s) sessions while loading")


def test_a_url_changed_after_init_app_is_never_reached(project: ProjectCopy, tmp_path: Path) -> None:
    """Flask-SQLAlchemy 3 made the engine in ``init_app``: a later change is no concern. 2.x makes it
    on first use, from the changed URL: refused, in one line, and the file is never created."""
    late = tmp_path / "late.sqlite"
    project.edit(
        "app/__init__.py",
        "    db.init_app(app)",
        f"    db.init_app(app)\n    app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///{late}'",
    )
    if hasattr(__import__("flask_sqlalchemy").SQLAlchemy, "engines"):
        assert project.make_migrations(check=True).operations == []
    else:
        error = project.engine_refuses(project.make_migrations, check=True)
        assert "the app changed its configuration after Flask-SQLAlchemy's init_app read it" in error
    assert not late.exists()


PLUGIN_MIGRATION = (
    "context = __import__('alembic.runtime.migration', fromlist=['x'])"
    ".MigrationContext.configure(connection)",
    "__import__('alembic.operations', fromlist=['x']).Operations(context).add_column("
    "'user', db.Column('plugin_flag', db.Integer))",
)


def test_a_factory_running_migrations_of_its_own_is_refused(project: ProjectCopy) -> None:
    """A plugin system's migrations (CTFd's): the history cannot build what they did."""
    run_in_factory(
        project,
        "__import__('flask_migrate').upgrade()",
        "with db.engine.begin() as connection:",
        *(f"    {line}" for line in PLUGIN_MIGRATION),
    )
    error = project.engine_refuses(project.make_migrations, check=True)
    assert error.startswith("the app ran migrations that are not the project's history while loading")


def test_a_factory_that_only_reads_its_revision_is_fine(project: ProjectCopy) -> None:
    run_in_factory(
        project,
        "__import__('flask_migrate').upgrade()",
        "with db.engine.connect() as connection:",
        "    __import__('alembic.runtime.migration', fromlist=['x']).MigrationContext.configure("
        "connection).get_current_revision()",
    )
    assert_email_found_twice(project)
