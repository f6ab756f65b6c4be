"""What each dialect is, found by its name (``dialects.impl_for``), apart from the backends that make
its databases: every backend's dialect is registered under the name its connections carry, and the
dialect checks that code used to spell (``dialect.name == "postgresql"``) are each one class's answer."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_makemigrations.dialects import (
    DefaultImpl,
    MariaDBImpl,
    MySQLImpl,
    PostgreSQLImpl,
    SQLiteImpl,
    impl_for,
)
from flask_makemigrations.shadow.backends import SERVERS, parse_database


@pytest.mark.parametrize(
    ("url", "known"),
    [
        ("sqlite://", SQLiteImpl),
        ("postgresql+psycopg2://u@h/db", PostgreSQLImpl),
        ("mysql+pymysql://u@h/db", MySQLImpl),
        ("mariadb+pymysql://u@h/db", MariaDBImpl),
    ],
)
def test_a_connections_dialect_name_finds_its_class(url: str, known: type[DefaultImpl]) -> None:
    dialect = sa.engine.make_url(url).get_dialect()  # its class: no driver is imported
    assert impl_for(dialect.name) is known


def test_every_backend_has_its_dialects_class_and_an_unknown_dialect_the_defaults() -> None:
    backends = [
        parse_database(None),
        *(server(sa.engine.make_url(f"{name}://u@h/db")) for name, server in SERVERS.items()),
    ]
    assert [impl_for(backend.name).name for backend in backends] == [backend.name for backend in backends]
    assert impl_for("oracle") is DefaultImpl and impl_for("") is DefaultImpl


def test_only_postgresql_has_enum_types_and_only_sqlite_keeps_its_databases_in_files() -> None:
    classes = (DefaultImpl, SQLiteImpl, PostgreSQLImpl, MySQLImpl, MariaDBImpl)
    assert [known for known in classes if known.enum_types] == [PostgreSQLImpl]
    assert [known for known in classes if known.types_by_name] == [SQLiteImpl]
    assert [known for known in classes if known.databases_are_files] == [SQLiteImpl]
    assert [known for known in classes if not known.alters_in_place] == [SQLiteImpl]


def test_only_sqlite_fingerprints_its_tables(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shadow.sqlite'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY)")
            assert set(SQLiteImpl.table_fingerprints(connection)) == {"item"}
            assert DefaultImpl.table_fingerprints(connection) is None
            assert PostgreSQLImpl.table_fingerprints(connection) is None
    finally:
        engine.dispose()


def test_refused_connections_are_described_by_their_dialect_without_a_password() -> None:
    arguments = {"user": "u", "password": "secret", "host": "h", "port": 5433, "database": "production"}
    assert PostgreSQLImpl.describe("postgresql", [], arguments) == "postgresql://u@h:5433/production"
    assert SQLiteImpl.describe("sqlite", ["/srv/app.db"], {}) == "sqlite:////srv/app.db"
    assert DefaultImpl.describe("mysql", [], {**arguments, "db": "x"}) == "mysql://u@h:5433/x"
