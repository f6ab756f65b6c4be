"""The shadow database on a real PostgreSQL server (the private cluster of the ``postgres`` fixture).

Every test lists the server's databases before and after: whatever ends a run, its shadow database
must be gone, and the database named in the URL must be as it was.
"""

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import USERNAME, ProjectCopy
from loopback import SUPERUSER
from pg_cluster import CREATEDB_PASSWORD, CREATEDB_ROLE, LIMITED_PASSWORD, LIMITED_ROLE, Cluster
from server_runs import (
    assert_one_line_error,
    dead_pid,
    make,
    refused,
    start_slow_upgrade,
    start_until,
    wait_until_touched,
)
from sqlalchemy.engine import make_url

from flask_makemigrations.shadow.naming import ShadowName, host_token

PG_SLEEP = "SELECT pg_sleep(0.1)"


def app_database_objects(postgres: Cluster) -> list[tuple[Any, ...]]:
    """Every relation and type a user could have created in the database named in the URL."""
    return postgres.sql(
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
        "UNION ALL SELECT n.nspname, t.typname, 'type' FROM pg_type t JOIN pg_namespace n "
        "ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY 1, 2"
    )


@pytest.fixture
def databases_unchanged(postgres: Cluster) -> Iterator[None]:
    """Fail the test if any database appeared or vanished on the server during it."""
    before = postgres.databases()
    yield
    assert postgres.databases() == before


@pytest.mark.usefixtures("databases_unchanged")
def test_postgresql_types_give_postgresql_operations(project: ProjectCopy, postgres: Cluster) -> None:
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "from sqlalchemy.dialects.postgresql import JSONB\n\nfrom .extensions import db",
    )
    project.add_model_line(
        USERNAME, "settings = db.Column(JSONB, server_default=db.text(\"'{}'::jsonb\"), nullable=False)"
    )
    project.add_model_line(
        USERNAME,
        "created_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)",
    )
    # A native enum in a new table: CREATE TABLE creates its type, the downgrade drops it
    # (test_enum_types has the rest).
    (project.root / "app" / "models.py").write_text(
        (project.root / "app" / "models.py").read_text()
        + "\n\nclass Tag(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        "    status = db.Column(db.Enum('draft', 'published', name='post_status'), nullable=True)\n"
    )
    before = project.revision_files()

    result = make(project, postgres, "postgres types")

    (new,) = project.new_revisions(before)
    script = new.read_text()
    assert result.path == new
    assert "sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False" in script
    assert "postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text(\"'{}'::jsonb\")" in script
    assert "sa.Enum('draft', 'published', name='post_status')" in script
    assert "+ column user.created_at" in result.operations
    assert "+ table tag" in result.operations
    assert "name='post_status').drop(op.get_bind(), checkfirst=True)" in script
    assert result.differences == []


@pytest.mark.usefixtures("databases_unchanged")
def test_a_revision_applies_and_then_no_changes(project: ProjectCopy, postgres: Cluster) -> None:
    """The new revision applies on PostgreSQL in the next run's shadow database."""
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")
    assert make(project, postgres, "add email").path is not None

    again = make(project, postgres, "again")

    assert (again.operations, again.path) == ([], None)


@pytest.mark.usefixtures("databases_unchanged")
def test_check_and_dry_run_accept_the_url(project: ProjectCopy, postgres: Cluster) -> None:
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")
    before = project.revision_files()

    where = {"database": postgres.url_string()}
    check = project.makemigrations_shown(check=True, where=where)
    dry_run = project.makemigrations_shown(dry_run=True, where=where)

    assert check.returncode == 1 and check.stdout.strip() == (
        "+ column user.email: ACCESS EXCLUSIVE lock on user (blocks reads and writes) "
        "until the revision commits"
    )
    assert dry_run.returncode == 0 and "batch_op.add_column(sa.Column('email'" in dry_run.stdout
    assert project.revision_files() == before


@pytest.mark.usefixtures("databases_unchanged")
def test_a_failing_migration_leaves_no_shadow_database(project: ProjectCopy, postgres: Cluster) -> None:
    (project.versions / "0003_broken.py").write_text(
        "from alembic import op\n\nrevision = '0003_broken'\ndown_revision = '0002_posts'\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    op.execute('SELECT * FROM no_such_table')\n\n\ndef downgrade():\n    pass\n"
    )

    refused(project, postgres, "revision 0003_broken", "failed to apply", "no_such_table")


@pytest.mark.usefixtures("databases_unchanged")
def test_models_that_cannot_be_built_on_the_server_are_one_error(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """On a server the models' database is built in a thread while the new revision goes up and down:
    its failure is still the run's one error."""
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")
    project.add_model_line(
        USERNAME, '__table_args__ = (db.CheckConstraint("length(username) >", name="no"),)'
    )

    error = refused(project, postgres, "verification failed at building a database from the models: ")

    assert "syntax error" in error and error.endswith("; --no-verify skips it")


def build_models_slowly(project: ProjectCopy, started: Path, stopped: Path) -> None:
    """The models' ``user`` table, once made on a server (not by the cache key's recording), touches
    ``started`` and then waits a statement at a time, for minutes; what stops it is written to
    ``stopped``, with the name of the thread it stopped."""
    imports = "import threading\n\nimport flask\nimport sqlalchemy as sa\n\n"
    project.edit("app/models.py", "from .extensions import db", f"{imports}from .extensions import db")
    models = project.root / "app" / "models.py"
    models.write_text(
        models.read_text() + "\n\n@sa.event.listens_for(User.__table__, 'after_create')\n"
        "def _slowly(target, connection, **kw):\n"
        "    if not isinstance(connection, sa.engine.Connection):  # the cache key's recording\n"
        "        return\n"
        "    flask.current_app.config  # the thread has the app context\n"
        f"    open({str(started)!r}, 'w').close()\n"
        "    try:\n"
        f"        for _ in range(3000):\n            connection.execute(sa.text({PG_SLEEP!r}))\n"
        "    except BaseException as exc:\n"
        f"        with open({str(stopped)!r}, 'w') as file:\n"
        "            file.write(f'{type(exc).__name__} in {threading.current_thread().name}')\n"
        "        raise\n"
    )


@pytest.mark.version_independent  # signals: this package's own code
def test_ctrl_c_while_the_models_are_built_drops_every_database(
    project: ProjectCopy, postgres: Cluster, tmp_path: Path
) -> None:
    """Ctrl-C stops the thread that builds the models' database at its next statement, and the run
    waits for it before it drops both databases (which would otherwise end its session under it)."""
    started, stopped = tmp_path / "building", tmp_path / "stopped"
    build_models_slowly(project, started, stopped)
    before, files = postgres.databases(), project.revision_files()
    process = start_until(project, started, "makemigrations", "-m", "x", "--database", postgres.url_string())
    try:
        during = postgres.databases() - before
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()

    assert len(during) == 2, during  # the shadow database, and the one the models are built in
    assert process.returncode == 130, stderr
    assert stopped.read_text().startswith("KeyboardInterrupt in models")  # stopped, not cut off
    assert postgres.databases() == before and project.revision_files() == files


@pytest.mark.version_independent  # signals: this package's own code
def test_ctrl_c_while_a_revision_applies_stops_the_models_built_ahead_too(
    project: ProjectCopy, postgres: Cluster, tmp_path: Path
) -> None:
    """The models are built ahead while the history is applied (``checks/models_ahead.py``): a Ctrl-C
    that stops the run elsewhere (a slow revision) stops that build at its next statement too, before
    the cleanup starts (from then on a statement no longer raises it), and every database goes."""
    building, stopped, upgrading = tmp_path / "building", tmp_path / "stopped", tmp_path / "upgrading"
    build_models_slowly(project, building, stopped)
    before = postgres.databases()
    process = start_slow_upgrade(project, postgres.url_string(), upgrading, PG_SLEEP)
    files = project.revision_files()
    try:
        wait_until_touched(building, process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()

    assert process.returncode == 130, stderr
    assert stopped.read_text().startswith("KeyboardInterrupt in models-ahead")
    assert postgres.databases() == before and project.revision_files() == files


@pytest.mark.version_independent  # signals: this package's own code
def test_signals_during_the_cleanup_do_not_abandon_it(
    project: ProjectCopy, postgres: Cluster, tmp_path: Path
) -> None:
    """An impatient user presses Ctrl-C again and again: the drop must still happen."""
    before = postgres.databases()
    process = start_slow_upgrade(project, postgres.url_string(), tmp_path / "go", PG_SLEEP)
    try:
        while process.poll() is None:
            process.send_signal(signal.SIGINT)
            time.sleep(0.005)
        process.communicate(timeout=120)
    finally:
        process.kill()

    # A signal may land after the cleanup, as the interpreter exits with the default handler back.
    assert process.returncode in (130, -signal.SIGINT)
    assert postgres.databases() == before


@pytest.mark.usefixtures("databases_unchanged")
def test_an_app_configured_for_the_url_database_is_redirected_and_it_is_untouched(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """An app that ignores $DATABASE_URL and configures the named database never reaches it: its
    engine is made on the shadow database."""
    project.edit(
        "app/__init__.py", 'os.environ.get("DATABASE_URL", "sqlite:///app.db")', repr(postgres.url_string())
    )
    project.add_email_column()
    objects = app_database_objects(postgres)

    checked = project.make_migrations(check=True, where={"database": postgres.url_string()})

    assert checked.operations == ["+ column user.email"]
    assert app_database_objects(postgres) == objects


@pytest.mark.usefixtures("databases_unchanged")
def test_role_without_createdb(project: ProjectCopy, postgres: Cluster) -> None:
    url = postgres.url_string(user=LIMITED_ROLE, password=LIMITED_PASSWORD)
    refused(
        project,
        postgres,
        f"{LIMITED_ROLE} may not create databases",
        f"ALTER ROLE {LIMITED_ROLE} CREATEDB",
        url=url,
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://someone:Wr0ng-secret@localhost:abc/postgres", "not a database URL"),
        ("oracle://someone:Wr0ng-secret@localhost/db", "oracle servers are not supported yet"),
        ("sqlite:///shadow.db", "for SQLite give a file path"),
        ("postgresql+nosuchdriver://someone:Wr0ng-secret@localhost/postgres", "no driver"),
    ],
)
def test_unusable_urls_are_refused(project: ProjectCopy, url: str, fragment: str) -> None:
    refused(project, None, fragment, url=url)
    assert not (project.root / "shadow.db").exists()


@pytest.mark.version_independent  # the task's own check
def test_prune_needs_a_server_url(project: ProjectCopy) -> None:
    assert_one_line_error(project.prune_shown(), "prune needs the server's URL")


@pytest.mark.version_independent  # the server's messages: this package's own code
def test_prune_tells_a_database_another_role_owns_from_a_missing_privilege(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """A role with CREATEDB may drop only the databases it owns: prune names the leaked database and
    its owner, says nothing succeeded, and later runs no longer send that role to prune for it."""
    leaked = str(ShadowName(host_token(), dead_pid(), ShadowName.new().created, "fed321"))
    postgres.sql(f'CREATE DATABASE "{leaked}"', database="postgres")  # owned by the superuser
    url = postgres.url_string(user=CREATEDB_ROLE, password=CREATEDB_PASSWORD)
    templates = postgres.templates()
    try:
        result = project.prune_shown(url)
        later = make(project, postgres, check=True, url=url)
        remaining = postgres.databases()
    finally:
        # The run's templates belong to the role: the tests of the superuser's cache must not meet them.
        for name in [leaked, *(postgres.templates() - templates)]:
            postgres.sql(f'DROP DATABASE IF EXISTS "{name}"', database="postgres")

    shown = make_url(url).render_as_string(hide_password=True)
    assert result.stdout == "", result.stderr
    assert_one_line_error(result)
    assert result.stderr.strip() == (
        f"Error: the shadow database {leaked} on {shown} belongs to role {SUPERUSER}, and "
        f"{CREATEDB_ROLE} may drop only the databases it owns: drop it as {SUPERUSER} (prune with its URL)"
    )
    assert leaked in remaining
    (note,) = [str(note) for note in later.notes]
    assert note == (
        f"runs on this machine that were killed left shadow databases on {shown} that {CREATEDB_ROLE} "
        f"may not drop: {leaked} (owned by {SUPERUSER}); drop them as their owner (prune with its URL)"
    )


@pytest.mark.version_independent  # the server's messages: this package's own code
def test_dropping_a_database_another_role_owns_is_not_a_missing_privilege(postgres: Cluster) -> None:
    """What the server says when a drop meets another role's database ("must be owner", SQLSTATE 42501
    like a missing CREATEDB), as any drop of the tool would report it."""
    from flask_makemigrations.errors import ShadowDatabaseError
    from flask_makemigrations.shadow.backends import parse_database
    from flask_makemigrations.shadow.server import ServerBackend, connect

    postgres.sql('CREATE DATABASE "owned_by_admin"', database="postgres")
    url = postgres.url_string(user=CREATEDB_ROLE, password=CREATEDB_PASSWORD)
    try:
        backend = parse_database(url)
        assert isinstance(backend, ServerBackend)
        with connect(backend) as server, pytest.raises(ShadowDatabaseError) as refused_drop:
            server.drop("owned_by_admin")
    finally:
        postgres.sql('DROP DATABASE IF EXISTS "owned_by_admin"', database="postgres")

    shown = make_url(url).render_as_string(hide_password=True)
    assert str(refused_drop.value) == (
        f"dropping the shadow database owned_by_admin on {shown} failed: {CREATEDB_ROLE} does not own it "
        "(must be owner of database owned_by_admin); drop it as its owner"
    )
