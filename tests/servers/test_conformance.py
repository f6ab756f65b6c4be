"""What every server backend must do, run on each one (``server_backends.BACKENDS``): PostgreSQL and
MariaDB today. Alembic's ``testing/suite`` is the model: a new backend adds a fixture, not a copy of
these tests; what only one backend does stays in its own module (``test_postgres``, ``test_mariadb``).

Every test that runs against the server lists its databases before and after: whatever ends a run,
its shadow databases must be gone, and the database named in the URL must be as it was.
"""

import importlib.util
import os
import signal
import socket
from pathlib import Path

import pytest
from conftest import USERNAME, ProjectCopy, shadow_build
from server_backends import BACKENDS, ServerUnderTest, case, on_every_server
from server_runs import (
    SECRETS,
    assert_no_secret,
    assert_one_line_error,
    dead_pid,
    make,
    refused,
    start_slow_upgrade,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError

from flask_makemigrations.shadow.naming import PREFIX, ShadowName, host_token


def driver_available(drivername: str) -> bool:
    """Whether SQLAlchemy has the dialect and the driver's module is installed."""
    try:
        make_url(f"{drivername}://").get_dialect()
    except NoSuchModuleError:
        return False  # SQLAlchemy 1.4 has no psycopg (3) dialect
    return importlib.util.find_spec(drivername.split("+")[1]) is not None


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_no_changes_and_the_url_database_is_untouched(project: ProjectCopy, server: ServerUnderTest) -> None:
    server.sql("CREATE TABLE IF NOT EXISTS keep_me (id INTEGER PRIMARY KEY, note TEXT)")
    server.sql(server.backend.keep_me_row)
    objects = server.app_database_objects()

    result = make(project, server, "nothing")

    assert (result.operations, result.path, result.warnings, result.differences) == ([], None, [], [])
    assert server.app_database_objects() == objects
    assert server.sql("SELECT id, note FROM keep_me") == [(1, "precious")]


@pytest.mark.parametrize(
    ("server", "drivername", "signum", "code"),
    [
        case(name, drivername, *stop, version_independent=True)
        for name, backend in BACKENDS.items()
        for drivername in backend.signal_drivers
        for stop in ((signal.SIGTERM, 143), (signal.SIGINT, 130))
    ],
    indirect=["server"],
)
def test_an_interrupted_upgrade_drops_the_shadow_database(
    project: ProjectCopy, server: ServerUnderTest, tmp_path: Path, drivername: str, signum: int, code: int
) -> None:
    if not driver_available(drivername):
        pytest.skip(f"{drivername} or its SQLAlchemy dialect is not installed")
    before = server.databases()
    url = server.url_string(drivername=drivername)
    process = start_slow_upgrade(project, url, tmp_path / "go", server.backend.sleep)
    try:
        during = server.databases() - before
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()

    # the run used the server: its shadow database (and the one built from the models to verify)
    assert during and all(name.startswith(PREFIX) for name in during)
    assert process.returncode == code, stderr
    assert server.databases() == before


@on_every_server(version_independent_on=("mariadb",))
def test_unreachable_server(project: ProjectCopy, server: ServerUnderTest) -> None:
    url = server.url_string(password="Wr0ng-secret").replace(f":{server.port}/", ":1/")
    refused(project, server, f"cannot reach the {server.backend.product} server", url=url)


@on_every_server(version_independent_on=tuple(BACKENDS))  # the connect timeout: this package's own
def test_a_server_that_never_answers_times_out(project: ProjectCopy, server: ServerUnderTest) -> None:
    """A port that accepts connections but never speaks: a bounded wait, then the one-line error."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = server.url_string().replace(f":{server.port}/", f":{silent.getsockname()[1]}/")
        url += server.backend.silent_port_query
        result = project.makemigrations_shown("x", where={"database": url})
    assert_one_line_error(
        result, f"cannot reach the {server.backend.product} server", server.backend.timed_out
    )


@on_every_server(version_independent_on=("mariadb",))
@pytest.mark.usefixtures("databases_unchanged")
def test_wrong_password(project: ProjectCopy, server: ServerUnderTest) -> None:
    refused(project, server, "authentication failed", url=server.url_string(password="Wr0ng-secret"))


@on_every_server(version_independent_on=("mariadb",))
@pytest.mark.usefixtures("databases_unchanged")
def test_a_missing_url_database(project: ProjectCopy, server: ServerUnderTest) -> None:
    url = server.url_string(database="no_such_db")
    example = f"e.g. {server.backend.example_database}"
    refused(project, server, "the database no_such_db does not exist", example, url=url)


@pytest.mark.parametrize(
    ("server", "drivername", "module", "package"),
    [
        case(name, *missing, version_independent=name == "mariadb")
        for name, backend in BACKENDS.items()
        for missing in backend.missing_drivers
    ],
    indirect=["server"],
)
def test_driver_not_installed(
    project: ProjectCopy, server: ServerUnderTest, drivername: str, module: str, package: str
) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{package} is installed")
    refused(project, server, f"pip install '{package}'", url=server.url_string(drivername=drivername))


@on_every_server(version_independent_on=("mariadb",))
def test_prune_drops_leaked_shadow_databases_and_nothing_else(
    project: ProjectCopy, server: ServerUnderTest, capfd: pytest.CaptureFixture[str]
) -> None:
    gone = dead_pid()
    created = ShadowName.new().created
    leaked = str(ShadowName(host_token(), gone, created, "abc123"))
    kept = [
        str(ShadowName(host_token(), os.getppid(), created, "abc123")),  # its process is alive
        str(ShadowName("someotherhost", gone, created, "abc123")),  # made on another machine
        f"{leaked}x",  # not exactly our pattern
        "foreign_db",
    ]
    for name in [leaked, *kept]:
        server.create_database(name)
    try:
        result = project.prune_shown(server.url_string())
        remaining = server.databases()
        again = project.prune_shown(server.url_string())
    finally:
        for name in kept:
            server.drop_database(name)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"dropped {leaked}"]
    assert leaked not in remaining and set(kept) <= remaining
    assert again.returncode == 0 and again.stdout.strip() == "No leaked shadow databases"
    assert_no_secret(result)
    printed = capfd.readouterr()  # what the libraries wrote while it ran
    assert not any(secret in printed.out + printed.err for secret in SECRETS)


@on_every_server(version_independent_on=("mariadb",))
def test_a_run_names_the_shadow_databases_killed_runs_left(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """A SIGKILL leaves its shadow database: the next run on that server says which, for prune."""
    leaked = str(ShadowName(host_token(), dead_pid(), ShadowName.new().created, "def456"))
    server.create_database(leaked)
    try:
        result = make(project, server, check=True)
    finally:
        server.drop_database(leaked)

    (note,) = [str(note) for note in result.notes]
    assert note.startswith("runs on this machine that were killed left shadow databases on ")
    assert note.endswith(f": {leaked}; the prune task drops them")
    assert not any(secret in note for secret in SECRETS)


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_a_factory_configured_for_the_url_database_that_builds_and_stamps_it(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """The app's configuration names the server's own database, and its factory calls ``create_all()``
    then ``stamp()`` there: all of it happens in the shadow database, and the comparison still starts
    from the history, warm from the cache where the backend keeps one."""
    project.edit(
        "app/__init__.py", 'os.environ.get("DATABASE_URL", "sqlite:///app.db")', repr(server.url_string())
    )
    project.edit(
        "app/__init__.py",
        "    return app",
        "    with app.app_context():\n        db.create_all()\n        __import__('flask_migrate').stamp()\n"
        "    return app",
    )
    project.add_email_column()
    objects = server.app_database_objects()

    cold = make(project, server, check=True)
    warm = make(project, server, check=True)

    assert cold.operations == warm.operations == ["+ column user.email"]
    assert shadow_build(warm).applied == (0 if server.name == "postgresql" else 2)  # MariaDB: no cache
    assert server.app_database_objects() == objects


#: Model edits (the text before, after) whose revision applies to empty tables and depends on rows,
#: and what verification with rows says of each, by server: MariaDB adds a NOT NULL column to a table
#: with rows (it gives them the type's implicit default), PostgreSQL refuses.
TITLE = "title = db.Column(db.String(120), nullable=False)"
ROW_DEPENDENT: dict[str, tuple[tuple[str, str], dict[str, str | None]]] = {
    "not null": (
        (USERNAME, f"{USERNAME}\n    age = db.Column(db.Integer, nullable=False)"),
        {
            "postgresql": "revision would fail on a table with rows: user.age is NOT NULL with no default "
            "for existing rows",
            "mariadb": None,
        },
    ),
    "unique over duplicates": (
        (TITLE, TITLE.replace("nullable=False", "nullable=False, unique=True")),
        dict.fromkeys(BACKENDS, "fails if post.title holds duplicate values: "),
    ),
    "narrowed type": (
        (TITLE, TITLE.replace("120", "12")),
        dict.fromkeys(BACKENDS, "fails if post.title holds values longer than 12 characters: "),
    ),
}


@pytest.mark.parametrize("change", list(ROW_DEPENDENT))
@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_a_revision_that_depends_on_rows_is_caught_before_anything_is_written(
    project: ProjectCopy, server: ServerUnderTest, change: str
) -> None:
    """The revision passes on empty tables (no verification failure), and verification with rows
    names what it fails on: a finding under ``--check``, and a writing run under ``--strict`` refuses
    it with the project untouched."""
    (old, new), expected = ROW_DEPENDENT[change]
    project.edit("app/models.py", old, new)

    checked = make(project, server, check=True)

    found = [line for line in checked.warnings if line.startswith(("revision would fail", "fails if"))]
    assert not any(line.startswith("verification failed at") for line in checked.warnings)
    said = expected[server.name]
    if said is None:
        assert found == []
        return
    (line,) = found
    assert line.startswith(said)
    assert not any(secret in line for secret in SECRETS)
    project.engine_refuses(make, project, server, "rows", strict=True)


@on_every_server()
@pytest.mark.usefixtures("databases_unchanged")
def test_answered_questions_write_a_rename_and_a_one_off_default(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """Answered up front: the revision renames the column and fills the new NOT NULL one, and is
    proven on the server (verification takes it up, down and up over rows). A column without a unique
    constraint: Alembic 1.9 writes a wrong downgrade for a unique constraint replaced on MySQL (a
    plain index), which verification refuses, rename or not."""
    from flask_makemigrations import Mode, Project, Request, make_migrations
    from flask_makemigrations.questioner import Answers
    from flask_makemigrations.run.session import Runtime

    project.edit("app/models.py", "    title = db.Column(", "    headline = db.Column(")
    project.add_model_line(
        "username = db.Column(db.String(80), unique=True, nullable=False)",
        "age = db.Column(db.Integer, nullable=False)",
    )
    answers = Answers.parse(["post.title=headline"], ["user.age=0"])
    request = Request(mode=Mode.WRITE, message="headline")

    with project.inside():
        written = make_migrations(Project(database=server.url_string()), request, Runtime(questioner=answers))

    assert written.path is not None and written.differences == []
    assert "~ column post.title (renamed to headline)" in written.operations
    assert "+ column user.age" in written.operations and written.questions == []
