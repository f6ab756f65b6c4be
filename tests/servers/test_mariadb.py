"""The shadow database on a real MariaDB server (the private server of the ``mariadb`` fixture).

As for PostgreSQL, every test that runs against the server lists its databases before and after: whatever
ends a run, its shadow databases must be gone and the database named in the URL as it was. Through the
engine in this process, with the exit statuses and lines the invoke front end's own functions make of
its result; real ``invoke`` runs for signals and ``prune``.
"""

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import USERNAME, ProjectCopy, written_text
from loopback import APP_DATABASE, SUPERUSER
from mariadb_server import LIMITED_PASSWORD, LIMITED_USER, Server
from project_edits import connect_at_import
from server_runs import SECRETS, make, refused
from sqlalchemy.engine import make_url


@pytest.fixture
def databases_unchanged(mariadb: Server) -> Iterator[None]:
    before = mariadb.databases()
    yield
    assert mariadb.databases() == before


POSTS = "migrations/versions/0002_posts_add_post_table.py"
DROP_INDEX_FIRST = """    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_author_id'))

    op.drop_table('post')"""


def downgrade_for_mysql(project: ProjectCopy) -> None:
    """The example's 0002 downgrade, as Alembic generated it, drops the foreign key's index before the
    table: MySQL refuses that (see the test below). Dropping the table drops its indexes too."""
    project.edit(POSTS, DROP_INDEX_FIRST, "    op.drop_table('post')")


def app_database_objects(mariadb: Server) -> list[tuple[Any, ...]]:
    return mariadb.sql(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = :name ORDER BY 1",
        name=APP_DATABASE,
    )


# --- the flow -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("databases_unchanged")
def test_a_revision_is_written_then_no_changes_then_verify(project: ProjectCopy, mariadb: Server) -> None:
    before = project.revision_files()
    project.add_email_column()

    written = make(project, mariadb, "add email")

    assert project.new_revisions(before) == [written.path] and written.operations == ["+ column user.email"]
    assert make(project, mariadb, "again").operations == []
    downgrade_for_mysql(project)
    verified = project.verify_history(where={"database": mariadb.url_string()})
    assert verified.revisions == 3


@pytest.mark.usefixtures("databases_unchanged")
def test_verify_names_a_downgrade_mysql_refuses(project: ProjectCopy, mariadb: Server) -> None:
    """Alembic's generated downgrade drops an index a foreign key needs before dropping the table:
    fine on SQLite and PostgreSQL, refused by MySQL (error 1553). Verification says where."""
    error = project.engine_refuses(project.verify_history, where={"database": mariadb.url_string()})
    assert error.startswith("verification failed at downgrade 0002_posts -> 0001_users (revision 2 of 2)")
    assert "needed in a foreign key constraint" in error


@pytest.mark.usefixtures("databases_unchanged")
def test_check_exits_1_and_dry_run_0_with_the_url(
    project: ProjectCopy, mariadb: Server, capfd: pytest.CaptureFixture[str]
) -> None:
    project.add_email_column()
    where = {"database": mariadb.url_string()}

    pending = project.makemigrations_shown(check=True, where=where)
    dry_run = project.makemigrations_shown(dry_run=True, where=where)

    assert (pending.returncode, pending.stdout) == (1, "+ column user.email\n"), pending.stderr
    assert dry_run.returncode == 0 and "batch_op.add_column(sa.Column('email'" in dry_run.stdout
    printed = capfd.readouterr()  # what the app and the libraries wrote while the runs were made
    shown = pending.stderr + dry_run.stderr + printed.out + printed.err
    assert not any(secret in shown for secret in SECRETS)


# --- no invented changes ----------------------------------------------------------------------------

GADGET = '''

class Gadget(db.Model):
    """Every kind of column MySQL reflects in its own words."""

    id = db.Column(db.Integer, primary_key=True)
    active = db.Column(db.Boolean, nullable=False, server_default=db.true())
    archived = db.Column(db.Boolean)
    kind = db.Column(db.Enum("small", "large", name="gadget_kind"), nullable=False, server_default="small")
    name = db.Column(db.String(80), nullable=False, unique=True)
    notes = db.Column(db.Text)
    summary = db.Column(db.Text(1000))
    made_at = db.Column(db.DateTime, nullable=False, server_default=db.func.now())
    price = db.Column(db.Numeric(10, 2), server_default="0.00")
    count = db.Column(db.Integer, nullable=False, server_default="0")
    ratio = db.Column(db.Float)
    owner_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    code = db.Column(db.String(20), index=True)
    __table_args__ = (db.UniqueConstraint("owner_id", "code", name="uq_gadget_owner_code"),)
'''


@pytest.mark.usefixtures("databases_unchanged")
def test_a_synced_project_gives_no_changes_with_every_kind_of_column(
    project: ProjectCopy, mariadb: Server
) -> None:
    """Boolean as TINYINT(1), Enum, string lengths, DATETIME, NUMERIC, server defaults, a unique
    constraint, an index, and a foreign key whose index MySQL adds by itself."""
    project.write("app/models.py", (project.root / "app/models.py").read_text() + GADGET)

    written = make(project, mariadb, "gadgets")

    assert "+ table gadget" in written.operations
    assert (written.warnings, written.differences) == ([], [])  # verification found nothing either
    again = make(project, mariadb, "again")
    assert (again.operations, again.differences) == ([], [])
    downgrade_for_mysql(project)
    assert project.verify_history(where={"database": mariadb.url_string()}).revisions == 3


@pytest.mark.usefixtures("databases_unchanged")
def test_a_changed_server_default_is_written_and_verified(project: ProjectCopy, mariadb: Server) -> None:
    status = 'status = db.Column(db.String(20), nullable=False, server_default="active")'
    project.add_model_line(USERNAME, status)
    assert make(project, mariadb, "add status").path is not None
    project.edit("app/models.py", status, status.replace('"active"', '"pending"'))

    # Autogenerate does not compare server defaults here; verification does, and it is written.
    result = make(project, mariadb, "pending")

    assert (result.operations, result.differences) == (["~ column user.status (server default)"], [])
    assert "server_default='pending'" in written_text(result)
    assert make(project, mariadb, check=True).operations == []


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("databases_unchanged")
def test_a_migration_failing_halfway_names_the_revision_and_leaves_no_database(
    project: ProjectCopy, mariadb: Server
) -> None:
    """MySQL's DDL is not transactional: the first statement stays done when the second fails."""
    project.add_revision(
        "0003_half",
        "0002_posts",
        "    op.create_table('half', sa.Column('id', sa.Integer, primary_key=True))\n"
        "    op.execute('INSERT INTO no_such_table VALUES (1)')",
    )
    refused(project, mariadb, "revision 0003_half", "failed to apply", "no_such_table")


DRIVERS = {"pymysql": "pymysql", "mysqldb": "MySQLdb", "mariadbconnector": "mariadb"}


def driver_url(mariadb: Server, driver: str, **parts: str) -> str:
    if importlib.util.find_spec(DRIVERS[driver]) is None:
        pytest.skip(f"the {driver} driver is not installed")
    dialect = "mariadb" if driver == "mariadbconnector" else "mysql"
    return mariadb.url_string(drivername=f"{dialect}+{driver}", **parts)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.usefixtures("databases_unchanged")
def test_each_driver_works_and_an_app_on_the_url_database_is_refused(
    project: ProjectCopy, mariadb: Server, driver: str
) -> None:
    """Each driver names the database its own way (mysqlclient ``db``, the others ``database``)."""
    url = driver_url(mariadb, driver)
    project.add_email_column()
    assert make(project, mariadb, check=True, url=url).operations == ["+ column user.email"]

    objects = app_database_objects(mariadb)
    connect_at_import(project, mariadb.url_string(drivername=url.split("://")[0]))  # the guard's do_connect
    shown = f"{url.split('+')[0]}://{SUPERUSER}@127.0.0.1:{mariadb.port}/{APP_DATABASE}"
    refused(project, mariadb, f"refused a connection to {shown}: only the run's shadow databases", url=url)
    assert app_database_objects(mariadb) == objects


@pytest.mark.version_independent  # the server's lifecycle and messages: this package's own code
def test_a_connect_timeout_that_is_not_a_number(project: ProjectCopy, mariadb: Server) -> None:
    refused(
        project,
        mariadb,
        "connect_timeout=soon is not a whole number",
        url=f"{mariadb.url_string()}?connect_timeout=soon",
    )


@pytest.mark.version_independent  # the server's lifecycle and messages: this package's own code
@pytest.mark.usefixtures("databases_unchanged")
def test_a_missing_url_database_of_a_user_without_global_privileges(
    project: ProjectCopy, mariadb: Server
) -> None:
    """MariaDB answers such a user "access denied to database" whether the database is missing or
    only not theirs: that is the URL's database to fix, not a privilege to create databases."""
    url = mariadb.url_string(user=LIMITED_USER, password=LIMITED_PASSWORD, database="no_such_db")

    error = refused(project, mariadb, url=url)

    shown = make_url(url).render_as_string(hide_password=True)
    assert error == (
        f"{shown}: {LIMITED_USER} may not open the database no_such_db: it does not exist, or "
        f"{LIMITED_USER} has no privilege on it (the server does not say which); the URL must name an "
        "existing database to connect to that the user may open (it is not changed), e.g. information_schema"
    )


@pytest.mark.version_independent  # the server's lifecycle and messages: this package's own code
@pytest.mark.usefixtures("databases_unchanged")
def test_a_user_without_the_right_to_create_databases(project: ProjectCopy, mariadb: Server) -> None:
    url = mariadb.url_string(user=LIMITED_USER, password=LIMITED_PASSWORD)
    refused(project, mariadb, f"{LIMITED_USER} may not create databases", r"ON `fmm\_shadow\_%`.*", url=url)


@pytest.mark.version_independent  # the server's lifecycle and messages: this package's own code
@pytest.mark.usefixtures("databases_unchanged")
def test_the_grant_the_message_gives_is_enough(project: ProjectCopy, mariadb: Server) -> None:
    """With the shadow databases' names granted and nothing global, a whole run works, connected to
    ``information_schema`` (which README's URLs name: every user may open it)."""
    url = mariadb.url_string(user=LIMITED_USER, password=LIMITED_PASSWORD, database="information_schema")
    grant = f"ALL PRIVILEGES ON `fmm\\_shadow\\_%`.* TO '{LIMITED_USER}'@'%'"
    assert grant.split(" TO ")[0] in refused(project, mariadb, url=url)
    mariadb.sql(f"GRANT {grant}")
    try:
        project.add_email_column()
        assert make(project, mariadb, "add email", url=url).operations == ["+ column user.email"]
    finally:
        mariadb.sql(f"REVOKE {grant.replace(' TO ', ' FROM ')}")


def test_mariadb_urls_are_their_own_dialect(project: ProjectCopy, mariadb: Server) -> None:
    """``mariadb+pymysql://`` is SQLAlchemy's MariaDB dialect: the guard compares it as such, and a
    ``mysql://`` connection to the same server is another dialect's, refused."""
    url = mariadb.url_string(drivername="mariadb+pymysql")
    assert make(project, mariadb, check=True, url=url).operations == []
    connect_at_import(project, mariadb.url_string())
    refused(project, mariadb, f"refused a connection to mysql://{SUPERUSER}@127.0.0.1:", url=url)


# --- signals and leaks ------------------------------------------------------------------------------


@pytest.mark.usefixtures("databases_unchanged")
def test_models_in_another_schema_are_refused(project: ProjectCopy, mariadb: Server) -> None:
    """On MySQL a schema is another database of the server: the run would build and drop it there."""
    mariadb.sql("CREATE DATABASE IF NOT EXISTS auth")
    mariadb.sql("CREATE TABLE IF NOT EXISTS auth.keep_me (id INTEGER PRIMARY KEY)")
    project.write(
        "app/models.py",
        (project.root / "app/models.py").read_text()
        + "\n\nclass Login(db.Model):\n    __table_args__ = {'schema': 'auth'}\n"
        "    id = db.Column(db.Integer, primary_key=True)\n",
    )
    try:
        refused(project, mariadb, "model table(s) auth.login live in another database", check=True)
        assert mariadb.sql("SHOW TABLES FROM auth") == [("keep_me",)]
    finally:
        mariadb.sql("DROP DATABASE auth")


# --- what the review says about MariaDB's types -------------------------------------------------------


@pytest.mark.usefixtures("databases_unchanged")
def test_integer_sizes_are_ranked_by_what_they_hold(project: ProjectCopy, mariadb: Server) -> None:
    """A Boolean is a TINYINT(1) on MariaDB: a SMALLINT holds more, and an INTEGER holds more than a
    MEDIUMINT."""
    downgrade_for_mysql(project)
    project.add_revision(
        "0003_counts",
        "0002_posts",
        "    op.add_column('post', sa.Column('pinned', sa.Boolean()))\n"
        "    op.add_column('post', sa.Column('views', sa.Integer()))",
        downgrade="    op.drop_column('post', 'views')\n    op.drop_column('post', 'pinned')",
    )
    project.add_model_line(
        "body = db.Column(db.Text, nullable=False)",
        "pinned = db.Column(db.SmallInteger)\n    views = db.Column(MEDIUMINT)",
    )
    project.edit(
        "app/models.py",
        "from .extensions import db",
        "from sqlalchemy.dialects.mysql import MEDIUMINT\n\nfrom .extensions import db",
    )

    result = make(project, mariadb, check=True)

    assert sorted(line for line in result.operations) == [
        "~ column post.pinned (type TINYINT(1) -> SMALLINT)",
        "~ column post.views (type INTEGER(11) -> MEDIUMINT)",
    ]
    assert result.warnings == [
        "column post.views changes type INTEGER(11) -> MEDIUMINT, a narrower type: existing values outside "
        "-8388608..8388607 are truncated or refused."
    ]
