"""The server backends the conformance suite (``servers/test_conformance.py``) runs on: each one's
running server, from its session fixture in ``conftest.py``, and what its tests spell differently.

A new backend adds its session fixture to ``conftest.py`` and one entry to ``BACKENDS``: the suite's
tests then run on it unchanged. Loaded as a plugin by ``conftest.py`` (``pytest_plugins``), so that
the ``server`` fixture is found from every folder.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mariadb_server import Server
from pg_cluster import Cluster


@dataclass(frozen=True)
class Backend:
    """What a conformance test needs to know of one server backend, beside its running server."""

    fixture: str  # the session fixture of conftest.py that starts the server
    product: str  # how the tool's messages name the server ("cannot reach the MySQL server")
    quote: str  # the quote of an identifier in the server's SQL
    admin_database: str  # where CREATE and DROP DATABASE run
    example_database: str  # the database a refusal suggests that the URL name instead
    sleep: str  # one statement that takes a tenth of a second
    keep_me_row: str  # inserts (1, 'precious') into keep_me unless it is there already
    app_objects: str  # every object a user could have created in the URL's database, sorted
    signal_drivers: tuple[str, ...]  # the drivernames whose runs are interrupted
    missing_drivers: tuple[tuple[str, str, str], ...]  # (drivername, module, package to install)
    silent_port_query: str  # what a URL to a port that never answers adds, to bound the wait
    timed_out: str  # what the error of that wait says


BACKENDS = {
    "postgresql": Backend(
        fixture="postgres",
        product="PostgreSQL",
        quote='"',
        admin_database="postgres",
        example_database="postgres",
        sleep="SELECT pg_sleep(0.1)",
        keep_me_row="INSERT INTO keep_me VALUES (1, 'precious') ON CONFLICT DO NOTHING",
        app_objects=(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
            "UNION ALL SELECT n.nspname, t.typname, 'type' FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY 1, 2"
        ),
        signal_drivers=("postgresql+psycopg", "postgresql+psycopg2"),
        missing_drivers=(("postgresql+pg8000", "pg8000", "pg8000"),),
        # The tool's own bound when the URL has none (CONNECT_TIMEOUT, tests/unit/test_backends.py)
        # is 10 seconds: here libpq's shortest.
        silent_port_query="?connect_timeout=2",
        timed_out="timeout",
    ),
    "mariadb": Backend(
        fixture="mariadb",
        product="MySQL",
        quote="`",
        admin_database="appdb",
        example_database="information_schema",
        sleep="SELECT SLEEP(0.1)",
        keep_me_row="INSERT IGNORE INTO keep_me VALUES (1, 'precious')",
        app_objects=(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1"
        ),
        signal_drivers=("mysql+pymysql",),
        missing_drivers=(
            ("mysql+mysqldb", "MySQLdb", "mysqlclient"),
            ("mariadb+mariadbconnector", "mariadb", "mariadb"),
            ("mysql+mysqlconnector", "mysql", "mysql-connector-python"),
        ),
        silent_port_query="?connect_timeout=2",
        timed_out="timed out",
    ),
}


@dataclass(frozen=True)
class ServerUnderTest:
    """A running server of one backend, with the statements the conformance suite runs on it."""

    name: str  # the key of its backend in BACKENDS
    backend: Backend
    running: Cluster | Server

    def url_string(self, **parts: Any) -> str:
        return self.running.url_string(**parts)

    @property
    def port(self) -> int:
        return self.running.port

    def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        return self.running.sql(statement, **params)

    def databases(self) -> set[str]:
        return self.running.databases()

    def create_database(self, name: str) -> None:
        quoted = f"{self.backend.quote}{name}{self.backend.quote}"
        self.running.sql(f"CREATE DATABASE {quoted}", database=self.backend.admin_database)

    def drop_database(self, name: str) -> None:
        quoted = f"{self.backend.quote}{name}{self.backend.quote}"
        self.running.sql(f"DROP DATABASE IF EXISTS {quoted}", database=self.backend.admin_database)

    def app_database_objects(self) -> list[tuple[Any, ...]]:
        return self.running.sql(self.backend.app_objects)


def on_every_server(*, version_independent_on: tuple[str, ...] = ()) -> pytest.MarkDecorator:
    """Run a test once per backend; ``version_independent_on`` names the backends on which it
    exercises only this package's own code (see noxfile.py), as their own modules marked it."""
    return pytest.mark.parametrize(
        "server",
        [case(name, version_independent=name in version_independent_on) for name in BACKENDS],
        indirect=True,
    )


def case(name: str, *values: object, version_independent: bool = False) -> Any:
    """One parameter set of a test parametrized over ``server`` (indirect) and ``values``."""
    marks = [pytest.mark.version_independent] if version_independent else []
    return pytest.param(
        name,
        *values,
        marks=marks,
        id="-".join([name, *(str(getattr(value, "name", value)) for value in values)]),
    )


@pytest.fixture
def databases_unchanged(server: ServerUnderTest) -> Iterator[None]:
    """Fail the test if any database appeared or vanished on the server during it."""
    before = server.databases()
    yield
    assert server.databases() == before


@pytest.fixture
def server(request: pytest.FixtureRequest) -> ServerUnderTest:
    """The running server of the backend the test is parametrized with (started once a session)."""
    name: str = request.param
    backend = BACKENDS[name]
    return ServerUnderTest(name, backend, request.getfixturevalue(backend.fixture))
